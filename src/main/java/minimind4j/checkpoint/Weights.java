package minimind4j.checkpoint;

import minimind4j.checkpoint.format.Pth;
import minimind4j.checkpoint.format.Safetensors;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.DType;
import minimind4j.checkpoint.format.AtomicFiles;
import minimind4j.UserError;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MiniMind weights on disk: PyTorch {@code .pth} state dicts (what MiniMind's scripts save and load) and
 * safetensors, chosen by file extension. Loading is strict by default: every missing, unexpected or mis-shaped
 * key is reported with both shapes, instead of MiniMind's silent {@code strict=False}.
 */
public final class Weights {
    private Weights() {}

    static boolean isSafetensors(Path p) {
        return p.getFileName().toString().endsWith(".safetensors");
    }

    /**
     * The weight file a path names: itself, or a Hugging Face directory's model.safetensors, sharded index or
     * pytorch_model.bin ({@link HfLayouts}).
     */
    public static Path file(Path path) {
        return HfLayouts.file(path);
    }

    /**
     * num_attention_heads from a Hugging Face config.json beside the weights, else {@code fallback}: a MiniMind2 state
     * dict does not pin the head count down (see {@link #inferConfig}).
     */
    public static int headsBeside(Path weights, int fallback) {
        Path cfg = file(weights).toAbsolutePath().resolveSibling("config.json");
        if (!Files.isRegularFile(cfg)) return fallback;
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(cfg.toFile()).path("num_attention_heads").asInt(fallback);
        } catch (java.io.IOException e) {
            throw new UserError(cfg + ": not readable JSON (" + e.getMessage() + ")");
        }
    }

    /**
     * The tensors of a weight file (or of a Hugging Face directory's model.safetensors). A training checkpoint's
     * nested {@code model} dict is accepted too.
     */
    public static LinkedHashMap<String, HostTensor> read(Path path) {
        path = file(path);
        if (!Files.isRegularFile(path)) throw new UserError(path + ": no such weight file");
        if (HfLayouts.isIndex(path)) return HfLayouts.unfuseExperts(HfLayouts.readIndex(path));
        try {
            if (isSafetensors(path)) return HfLayouts.unfuseExperts(Safetensors.read(path));
            // a training checkpoint (this project's *_resume.pth, MiniMind's lm_checkpoint) keeps its weights under 'model'
            Object top = Pth.read(path);
            boolean checkpoint = top instanceof Map<?, ?> root && root.values().stream().noneMatch(v -> v instanceof HostTensor)
                    && root.get("model") instanceof Map<?, ?>;
            return HfLayouts.unfuseExperts(Pth.stateDict(top, path, checkpoint ? "model" : null));
        } catch (java.io.IOException e) {
            throw new UserError(path + ": cannot read weights (" + e.getMessage() + ")");
        }
    }

    /** Writes tensors as .pth (torch.save layout) or .safetensors, atomically. */
    public static void write(Path path, Map<String, HostTensor> tensors) {
        try {
            if (isSafetensors(path)) Safetensors.write(path, tensors, Map.of("format", "pt"));
            else Pth.write(path, new LinkedHashMap<>(tensors));
        } catch (java.io.IOException e) {
            throw AtomicFiles.failure(path, "weights", e);
        }
    }

    /**
     * MiniMind's save: {@code torch.save({k: v.half() for k, v in state_dict.items()})}, both tied keys present. The
     * values checked are the float16 ones that reach the disk: a weight beyond 65504 is finite in float32 but inf on
     * disk, so such a model is refused here and the file already under {@code path} is left as it was.
     */
    public static void saveHalf(Path path, MiniMindLM model) {
        write(path, hostStateDict(model, DType.F16, path));
    }

    public static LinkedHashMap<String, HostTensor> hostStateDict(MiniMindLM model, DType dtype) {
        return hostStateDict(model, dtype, null);
    }

    /**
     * The model's tensors as {@code dtype}, checked after the conversion: any inf/NaN stops with one line naming the
     * tensor, its largest |value| and the fix ({@code file}, when given, is named as the file not written).
     */
    public static LinkedHashMap<String, HostTensor> hostStateDict(MiniMindLM model, DType dtype, Path file) {
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>();
        try (PointerScope s = Torch.scope()) {
            for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
                Tensor t = e.getValue().detach();
                Tensor cast = t.to(scalarType(dtype));
                if (!torch.isfinite(cast).all().item_bool()) throw nonFinite(e.getKey(), t, cast, dtype, file);
                sd.put(e.getKey(), toHost(cast, dtype));
            }
        }
        return sd;
    }

    private static UserError nonFinite(String key, Tensor original, Tensor cast, DType dtype, Path file) {
        long bad = torch.isfinite(cast).logical_not().sum().item_long();
        double maxAbs = original.abs().max().item_double();
        String largest = Double.isNaN(maxAbs) ? "NaN" : String.format(java.util.Locale.ROOT, "%.4g", maxAbs);
        String limit = dtype == DType.F16 ? ", float16's largest is 65504" : "";
        String type = switch (dtype) { case F16 -> "float16"; case BF16 -> "bfloat16"; case F32 -> "float32"; default -> dtype.name(); };
        return new UserError((file == null ? "checkpoint" : file.toString()) + ": not saved: " + key + " would hold "
                + bad + " inf/NaN values as " + type + " (max |value| " + largest + limit + "); nothing was written, the file on disk (if any) is unchanged."
                + " Training diverged: lower --learning_rate (or check the data) and continue from the last good checkpoint");
    }

    public static HostTensor toHost(Tensor t, DType dtype) {
        ScalarType st = scalarType(dtype);
        Tensor c = t.detach().to(st).cpu().contiguous();
        byte[] bytes = new byte[(int) c.nbytes()];
        new BytePointer(c.data_ptr()).capacity(bytes.length).get(bytes);
        return HostTensor.ofRawBytes(dtype, Torch.shape(c), bytes);
    }

    /** A tensor of the same values, converted to {@code as} (Float for weights, Long for ids). */
    public static Tensor toTensor(HostTensor h, ScalarType as) {
        byte[] bytes = h.toByteArray();
        try (BytePointer p = new BytePointer(Math.max(1, bytes.length))) {
            p.put(bytes);
            Tensor raw = torch.from_blob(p, h.shape(), new TensorOptions(scalarType(h.dtype())));
            return raw.to(as).clone();
        }
    }

    static ScalarType scalarType(DType d) {
        return switch (d) {
            case F32 -> ScalarType.Float;
            case F16 -> ScalarType.Half;
            case BF16 -> ScalarType.BFloat16;
            case F64 -> ScalarType.Double;
            case I64 -> ScalarType.Long;
            case I32 -> ScalarType.Int;
            case I16 -> ScalarType.Short;
            case I8 -> ScalarType.Char;
            case U8 -> ScalarType.Byte;
            case BOOL -> ScalarType.Bool;
        };
    }

    /** What differs between the keys a model expects and those a file holds. */
    public record Report(List<String> missing, List<String> unexpected, List<String> mismatched) {
        public boolean clean() { return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty(); }

        public String describe(Path file) {
            StringBuilder sb = new StringBuilder();
            sb.append(file).append(": ").append(missing.size()).append(" missing, ").append(unexpected.size())
                    .append(" unexpected, ").append(mismatched.size()).append(" mis-shaped keys");
            for (String k : missing) sb.append("\n  missing:    ").append(k);
            for (String k : unexpected) sb.append("\n  unexpected: ").append(k);
            for (String k : mismatched) sb.append("\n  shape:      ").append(k);
            return sb.toString();
        }
    }

    public static Report check(Map<String, long[]> expected, Map<String, HostTensor> actual) {
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), mismatched = new ArrayList<>();
        boolean tiedPresent = actual.containsKey(MiniMindLM.EMBED) || actual.containsKey(MiniMindLM.LM_HEAD);
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            HostTensor t = actual.get(e.getKey());
            boolean tied = e.getKey().equals(MiniMindLM.EMBED) || e.getKey().equals(MiniMindLM.LM_HEAD);
            if (t == null) {
                // a file may carry the tied weight under one name only
                if (!(tied && tiedPresent)) missing.add(e.getKey() + " " + Arrays.toString(e.getValue()));
            } else if (!Arrays.equals(t.shape(), e.getValue())) {
                mismatched.add(e.getKey() + ": model " + Arrays.toString(e.getValue()) + ", file " + Arrays.toString(t.shape()));
            }
        }
        for (Map.Entry<String, HostTensor> e : actual.entrySet())
            if (!expected.containsKey(e.getKey())) unexpected.add(e.getKey() + " " + Arrays.toString(e.getValue().shape()));
        return new Report(missing, unexpected, mismatched);
    }

    /**
     * Loads a model of config {@code c} from {@code path}. Strict: any difference is a {@link UserError} listing every
     * key. Not strict: matching tensors are loaded, the rest keep their fresh initialisation, and the report is printed.
     */
    public static MiniMindLM load(Path path, ModelConfig c, boolean strict, PrintStream report) {
        return load(path, read(path), c, strict, report);
    }

    /** {@link #load(Path, ModelConfig, boolean, PrintStream)} from {@code path}'s tensors already read ({@link #read}). */
    public static MiniMindLM load(Path path, Map<String, HostTensor> host, ModelConfig c, boolean strict, PrintStream report) {
        requireFinite(path, host);
        Report r = check(MiniMindLM.expectedShapes(c), host);
        if (!r.clean()) {
            if (strict) throw new UserError(r.describe(path)
                    + "\n  the file does not fit this model: check --hidden_size/--num_hidden_layers/--use_moe (`minimind info --weight " + path
                    + "` shows the file's shapes), or load partially with --strict 0");
            if (report != null) report.println(r.describe(path) + "\n  (--strict 0: loading the keys that fit, the rest freshly initialised)");
        }
        try (PointerScope s = Torch.scope()) {
            MiniMindLM fresh = strict ? null : MiniMindLM.init(c, 42);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, long[]> expected = MiniMindLM.expectedShapes(c);
            for (String k : expected.keySet()) {
                HostTensor h = host.get(k);
                if (h == null && k.equals(MiniMindLM.EMBED)) h = host.get(MiniMindLM.LM_HEAD);
                if (h != null && Arrays.equals(h.shape(), expected.get(k))) tensors.put(k, toTensor(h, ScalarType.Float));
                else if (fresh != null && fresh.namedParameters().containsKey(k)) tensors.put(k, fresh.namedParameters().get(k));
            }
            MiniMindLM m = MiniMindLM.fromTensors(c, tensors);
            if (fresh != null) fresh.close();
            return m;
        }
    }

    /**
     * Refuses weights holding inf/NaN (a diverged run's, or a damaged copy) with one line naming the first such tensor:
     * training from them only produces NaN losses, generating from them only garbage.
     */
    public static void requireFinite(Path path, Map<String, HostTensor> tensors) {
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            HostTensor t = e.getValue();
            if (!t.dtype().isFloatingPoint()) continue;
            long bad = 0;
            for (double v : t.toDoubleArray()) if (!Double.isFinite(v)) bad++;
            if (bad > 0) throw nonFiniteInFile(path, e.getKey(), bad, t.numel());
        }
    }

    /** {@link #requireFinite(Path, Map)} for a model already built (a resume checkpoint's). */
    public static void requireFinite(Path path, MiniMindLM model) {
        try (PointerScope s = Torch.scope()) {
            for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
                Tensor t = e.getValue().detach();
                Tensor finite = torch.isfinite(t);
                if (finite.all().item_bool()) continue;
                long bad = finite.logical_not().sum().item_long();
                throw nonFiniteInFile(path, e.getKey(), bad, t.numel());
            }
        }
    }

    private static UserError nonFiniteInFile(Path path, String key, long bad, long of) {
        return new UserError(path + ": " + key + " holds " + bad + " inf/NaN values (of " + of + "): refusing to use these weights;"
                + " they come from a diverged or damaged run: take an earlier checkpoint (or retrain with a lower --learning_rate)");
    }

    /**
     * A config that fits a state dict's shapes: hidden and vocab from the embedding, layers from the keys, head_dim from
     * q_norm when present (minimind-3) else hidden / {@code heads}, KV heads from k_proj, MoE from the router.
     */
    public static ModelConfig inferConfig(Map<String, HostTensor> sd, int headsIfUnknown) {
        HostTensor emb = sd.containsKey(MiniMindLM.EMBED) ? sd.get(MiniMindLM.EMBED) : sd.get(MiniMindLM.LM_HEAD);
        if (emb == null || emb.rank() != 2) throw new UserError("not a MiniMind state dict: no " + MiniMindLM.EMBED);
        int vocab = (int) emb.size(0), hidden = (int) emb.size(1);
        int layers = 0;
        while (sd.containsKey("model.layers." + layers + ".input_layernorm.weight")) layers++;
        if (layers == 0) throw new UserError("not a MiniMind state dict: no model.layers.0.input_layernorm.weight");
        String a = "model.layers.0.self_attn.";
        boolean qkNorm = sd.containsKey(a + "q_norm.weight");
        int headDim = qkNorm ? (int) sd.get(a + "q_norm.weight").size(0) : hidden / headsIfUnknown;
        int heads = (int) sd.get(a + "q_proj.weight").size(0) / headDim;
        int kv = (int) sd.get(a + "k_proj.weight").size(0) / headDim;
        boolean moe = sd.containsKey("model.layers.0.mlp.gate.weight");
        String ffn = moe ? "model.layers.0.mlp.experts.0." : "model.layers.0.mlp.";
        int inter = (int) sd.get(ffn + "gate_proj.weight").size(0);
        ModelConfig base = qkNorm ? ModelConfig.minimind3(hidden, layers, moe) : ModelConfig.minimind2(hidden, layers, moe);
        int routed = moe ? (int) sd.get("model.layers.0.mlp.gate.weight").size(0) : base.nRoutedExperts();
        int shared = 0;
        while (sd.containsKey("model.layers.0.mlp.shared_experts." + shared + ".gate_proj.weight")) shared++;
        return base.toBuilder().numAttentionHeads(heads).numKeyValueHeads(kv).vocabSize(vocab).intermediateSize(inter)
                .nRoutedExperts(routed).nSharedExperts(moe ? shared : base.nSharedExperts()).build();
    }
}
