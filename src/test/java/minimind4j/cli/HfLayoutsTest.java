package minimind4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import minimind4j.TestPaths;
import minimind4j.checkpoint.SameWeights;
import minimind4j.checkpoint.format.DType;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Safetensors;
import minimind4j.checkpoint.Weights;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Today's Hugging Face layouts, read wherever a tokenizer or weight directory is accepted: chat_template.jinja (it
 * wins over tokenizer_config.json's template, as in transformers), model.safetensors, a sharded
 * model.safetensors.index.json, pytorch_model.bin, and transformers 5's fused MoE experts (convert_model.py).
 */
class HfLayoutsTest {
    @TempDir
    Path dir;

    static final ObjectMapper JSON = new ObjectMapper();

    /** MiniMind's minimind-3 tokenizer as transformers >= 4.43 saves it: the template in chat_template.jinja only. */
    private Path jinjaLayout(Path from, String templateInConfig, String name) throws Exception {
        Path d = Files.createDirectories(dir.resolve(name));
        Files.copy(from.resolve("tokenizer.json"), d.resolve("tokenizer.json"));
        ObjectNode cfg = (ObjectNode) JSON.readTree(from.resolve("tokenizer_config.json").toFile());
        String template = cfg.get("chat_template").asText();
        if (templateInConfig == null) cfg.remove("chat_template");
        else cfg.put("chat_template", templateInConfig);
        JSON.writeValue(d.resolve("tokenizer_config.json").toFile(), cfg);
        Files.writeString(d.resolve("chat_template.jinja"), template);
        return d;
    }

    private static Map<String, Object> msg(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    @Test
    void chatTemplateJinjaIsReadAndWins() throws Exception {
        Path plain = jinjaLayout(TestPaths.minimind3(), null, "jinja-only");
        Path both = Files.createDirectories(dir.resolve("both"));
        Path src = jinjaLayout(TestPaths.minimind3(), "{{ 'stale template from tokenizer_config.json' }}", "stale");
        for (String f : new String[]{"tokenizer.json", "tokenizer_config.json", "chat_template.jinja"}) Files.copy(src.resolve(f), both.resolve(f));
        List<Map<String, Object>> conversation = List.of(msg("user", "你好"), msg("assistant", "你好！"));
        try (MiniMindTokenizer original = MiniMindTokenizer.load(TestPaths.minimind3());
             MiniMindTokenizer jinja = MiniMindTokenizer.load(plain); MiniMindTokenizer jinjaWins = MiniMindTokenizer.load(both)) {
            String expected = original.applyChatTemplate(conversation, null, true, Map.of());
            assertEquals(expected, jinja.applyChatTemplate(conversation, null, true, Map.of()));
            assertEquals(expected, jinjaWins.applyChatTemplate(conversation, null, true, Map.of()));
        }
        // a command that renders every sample: the same report from either layout
        Path data = dir.resolve("d.jsonl");
        Files.writeString(data, JSON.writeValueAsString(Map.of("conversations", conversation)) + "\n");
        CliRun a = CliRun.of("data", "check", "--data", data.toString(), "--tokenizer_path", TestPaths.minimind3().toString());
        CliRun b = CliRun.of("data", "check", "--data", data.toString(), "--tokenizer_path", plain.toString());
        assertEquals(0, b.code(), b.err());
        assertEquals(a.out().replace(TestPaths.minimind3().toString(), "T"), b.out().replace(plain.toString(), "T"));
        // export writes both: tokenizer_config.json as it was, and chat_template.jinja
        Path pth = SavedModels.saveHalf(dir, ModelConfig.minimind3(64, 1), "full_sft_64.pth");
        Path out = dir.resolve("hf");
        CliRun e = CliRun.of("export", "--weight", pth.toString(), "--tokenizer_path", TestPaths.minimind3().toString(), "--out_dir", out.toString());
        assertEquals(0, e.code(), e.err());
        assertEquals(JSON.readTree(TestPaths.minimind3().resolve("tokenizer_config.json").toFile()).get("chat_template").asText(),
                Files.readString(out.resolve("chat_template.jinja")));
    }

    private static String reply(Path weights, Path tokenizer) {
        return ChatOutput.of("--weight", weights.toString(), "--tokenizer_path", tokenizer.toString(),
                "--prompt", "你好", "--temperature", "0", "--max_new_tokens", "8", "--show_speed", "0");
    }

    private static void assertSameTensors(Map<String, HostTensor> expected, Map<String, HostTensor> actual) {
        SameWeights.assertBitIdentical(expected, actual);
    }

    @Test
    void shardedIndexAndPytorchModelBinAreWeightDirectories() throws Exception {
        ModelConfig c = ModelConfig.minimind2(64, 2, false);
        Path pth = dir.resolve("m_64.pth");
        LinkedHashMap<String, HostTensor> sd = SavedModels.written(pth, c, 4, DType.F16);
        String expected = reply(pth, TestPaths.minimind2());

        // sharded: two safetensors files and transformers' index
        Path sharded = Files.createDirectories(dir.resolve("sharded"));
        LinkedHashMap<String, HostTensor> first = new LinkedHashMap<>(), second = new LinkedHashMap<>();
        Map<String, String> weightMap = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, HostTensor> e : sd.entrySet()) {
            boolean one = i++ % 2 == 0;
            (one ? first : second).put(e.getKey(), e.getValue());
            weightMap.put(e.getKey(), one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
        }
        Safetensors.write(sharded.resolve("model-00001-of-00002.safetensors"), first, Map.of("format", "pt"));
        Safetensors.write(sharded.resolve("model-00002-of-00002.safetensors"), second, Map.of("format", "pt"));
        JSON.writeValue(sharded.resolve("model.safetensors.index.json").toFile(), Map.of("metadata", Map.of("total_size", 0), "weight_map", weightMap));
        assertSameTensors(sd, Weights.read(sharded));
        assertEquals(expected, reply(sharded, TestPaths.minimind2()));

        // pytorch_model.bin (torch.save), MiniMind's convert_model.py native format
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Weights.write(bin.resolve("pytorch_model.bin"), sd);
        assertSameTensors(sd, Weights.read(bin));
        assertEquals(expected, reply(bin, TestPaths.minimind2()));

        // a shard the index names but that is missing: one line
        Files.delete(sharded.resolve("model-00002-of-00002.safetensors"));
        CliRun r = CliRun.of("info", "--weight", sharded.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("model-00002-of-00002.safetensors, which is missing") && !r.err().contains("\tat "), r.err());
        CliRun empty = CliRun.of("info", "--weight", Files.createDirectories(dir.resolve("empty")).toString());
        assertEquals(2, empty.code());
        assertTrue(empty.err().contains("a directory without model weights"), empty.err());
    }

    /** convert_model.py under transformers 5: experts.gate_up_proj = cat(stack(gate_proj), stack(up_proj), dim 1), experts.down_proj = stack. */
    @Test
    void transformers5FusedExpertsReadAsMiniMindsExperts() throws Exception {
        ModelConfig c = ModelConfig.minimind3(64, 2, true);
        Path pth = dir.resolve("m3_64_moe.pth");
        LinkedHashMap<String, HostTensor> sd = SavedModels.written(pth, c, 5, DType.F32);
        LinkedHashMap<String, HostTensor> fused = new LinkedHashMap<>();
        int experts = c.nRoutedExperts(), inter = c.intermediateSize(), hidden = c.hiddenSize();
        for (Map.Entry<String, HostTensor> e : sd.entrySet()) if (!e.getKey().contains(".experts.")) fused.put(e.getKey(), e.getValue());
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".mlp.experts.";
            float[] gateUp = new float[experts * 2 * inter * hidden], down = new float[experts * hidden * inter];
            for (int x = 0; x < experts; x++) {
                // [E, 2I, H] from cat([stack(gate) [E, I, H], stack(up) [E, I, H]], dim=1): expert x's gate rows, then its up rows
                System.arraycopy(sd.get(p + x + ".gate_proj.weight").toFloatArray(), 0, gateUp, x * 2 * inter * hidden, inter * hidden);
                System.arraycopy(sd.get(p + x + ".up_proj.weight").toFloatArray(), 0, gateUp, x * 2 * inter * hidden + inter * hidden, inter * hidden);
                System.arraycopy(sd.get(p + x + ".down_proj.weight").toFloatArray(), 0, down, x * hidden * inter, hidden * inter);
            }
            fused.put(p + "gate_up_proj", HostTensor.ofFloats(new long[]{experts, 2L * inter, hidden}, gateUp));
            fused.put(p + "down_proj", HostTensor.ofFloats(new long[]{experts, hidden, inter}, down));
        }
        Path hf = Files.createDirectories(dir.resolve("qwen3moe-t5"));
        Safetensors.write(hf.resolve("model.safetensors"), fused, Map.of("format", "pt"));
        assertSameTensors(sd, Weights.read(hf));
        assertEquals(reply(pth, TestPaths.minimind3()), reply(hf, TestPaths.minimind3()));
        List<String> order = new ArrayList<>(Weights.read(hf).keySet());
        assertTrue(order.contains("model.layers.1.mlp.experts.3.down_proj.weight"), order.toString());
    }
}
