package minimind4j.checkpoint;

import minimind4j.checkpoint.format.HostTensor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.UserError;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The weight layouts of a Hugging Face model directory, as transformers saves them: {@code model.safetensors}, a
 * sharded {@code model.safetensors.index.json} (its weight_map names the shard of every tensor),
 * {@code pytorch_model.bin} (torch.save, {@code safe_serialization=False}, what MiniMind's convert_model.py writes for
 * its native format) and its sharded index; and transformers 5's fused MoE experts
 * ({@code mlp.experts.gate_up_proj} [E, 2I, H] = the experts' gate_proj stacked, then their up_proj, along dim 1;
 * {@code mlp.experts.down_proj} [E, H, I]), as convert_model.py writes them under transformers 5, read back as
 * MiniMind's per-expert {@code mlp.experts.N.gate_proj/up_proj/down_proj}.
 */
public final class HfLayouts {
    private HfLayouts() {}

    /** In transformers' order of preference. */
    static final List<String> WEIGHT_FILES = List.of("model.safetensors", "model.safetensors.index.json",
            "pytorch_model.bin", "pytorch_model.bin.index.json");

    /** The weight file of a model directory (the first of {@link #WEIGHT_FILES} present), else the path itself. */
    public static Path file(Path path) {
        if (!Files.isDirectory(path)) return path;
        for (String name : WEIGHT_FILES) if (Files.isRegularFile(path.resolve(name))) return path.resolve(name);
        throw new UserError(path + ": a directory without model weights (expected one of " + String.join(", ", WEIGHT_FILES) + ")");
    }

    static boolean isIndex(Path p) {
        return p.getFileName().toString().endsWith(".index.json");
    }

    /** All tensors of the shards an index names, in the order of its weight_map. */
    static LinkedHashMap<String, HostTensor> readIndex(Path index) {
        JsonNode map;
        try {
            map = new ObjectMapper().readTree(index.toFile()).path("weight_map");
        } catch (IOException e) {
            throw new UserError(index + ": not readable JSON (" + e.getMessage() + ")");
        }
        if (!map.isObject() || map.isEmpty()) throw new UserError(index + ": no weight_map; expected transformers' sharded index");
        LinkedHashSet<String> shards = new LinkedHashSet<>();
        List<String> keys = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            keys.add(e.getKey());
            shards.add(e.getValue().asText());
        }
        LinkedHashMap<String, HostTensor> all = new LinkedHashMap<>();
        for (String shard : shards) {
            Path p = index.resolveSibling(shard);
            if (shard.contains("/") || shard.contains("\\") || shard.equals("..") || shard.equals("."))
                throw new UserError(index + ": shard " + shard + " is outside the model directory");
            if (!Files.isRegularFile(p)) throw new UserError(index + ": names shard " + shard + ", which is missing");
            all.putAll(Weights.read(p));
        }
        for (String k : keys)
            if (!all.containsKey(k)) throw new UserError(index + ": " + k + " is mapped to " + map.get(k).asText() + ", which does not hold it");
        return all;
    }

    /** transformers 5's fused experts as MiniMind's per-expert tensors, in place; other keys keep their order. */
    static LinkedHashMap<String, HostTensor> unfuseExperts(LinkedHashMap<String, HostTensor> sd) {
        if (sd.keySet().stream().noneMatch(k -> k.endsWith(".mlp.experts.gate_up_proj"))) return sd;
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : sd.entrySet()) {
            String k = e.getKey();
            HostTensor t = e.getValue();
            if (k.endsWith(".mlp.experts.gate_up_proj")) {
                String p = k.substring(0, k.length() - "gate_up_proj".length());
                if (t.rank() != 3 || t.size(1) % 2 != 0) throw new UserError(k + ": expected [experts, 2 * intermediate, hidden], got " + java.util.Arrays.toString(t.shape()));
                long inter = t.size(1) / 2;
                for (int x = 0; x < t.size(0); x++) {
                    out.put(p + x + ".gate_proj.weight", slice(t, x, 0, inter));
                    out.put(p + x + ".up_proj.weight", slice(t, x, inter, inter));
                }
            } else if (k.endsWith(".mlp.experts.down_proj")) {
                String p = k.substring(0, k.length() - "down_proj".length());
                if (t.rank() != 3) throw new UserError(k + ": expected [experts, hidden, intermediate], got " + java.util.Arrays.toString(t.shape()));
                for (int x = 0; x < t.size(0); x++) out.put(p + x + ".down_proj.weight", slice(t, x, 0, t.size(1)));
            } else {
                out.put(k, t);
            }
        }
        return out;
    }

    /** Rows [from, from + rows) of matrix {@code index} of a [N, R, C] tensor, as a [rows, C] tensor of the same type. */
    private static HostTensor slice(HostTensor t, int index, long from, long rows) {
        long cols = t.size(2), elem = t.byteSize() / t.numel();
        long start = ((index * t.size(1)) + from) * cols * elem;
        byte[] bytes = new byte[Math.toIntExact(rows * cols * elem)];
        ByteBuffer b = t.data();
        b.position(Math.toIntExact(start));
        b.get(bytes);
        return HostTensor.ofRawBytes(t.dtype(), new long[]{rows, cols}, bytes);
    }
}
