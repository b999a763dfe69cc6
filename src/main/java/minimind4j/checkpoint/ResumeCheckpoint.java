package minimind4j.checkpoint;

import minimind4j.cli.UserError;
import minimind4j.engine.Precision;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The resume checkpoint ({@code {save_dir}/{weight}_{hidden}[_moe]_resume.pth}): a torch.save dict like MiniMind's
 * lm_checkpoint, holding the model in fp32 (not fp16, so a resumed run continues from the exact weights), the
 * optimizer state, epoch, step, world size, seed and (float16 runs) the loss scaler's state. Every other source of
 * randomness here is a pure function of (seed, epoch, sample), so nothing else is needed for a resumed run to retrace an uninterrupted one.
 *
 * <p>The optimizer state is libtorch's own AdamW archive, kept as a uint8 tensor under {@code optimizer.libtorch_adamw}:
 * MiniMind's Python optimizer state dict cannot be produced through the Java mapping, which exposes no per-parameter
 * state accessors.
 */
public final class ResumeCheckpoint {
    private ResumeCheckpoint() {}

    /**
     * {@code scaler} is the float16 loss scaler's state dict (empty when there is none); {@code batchSize} is per
     * process, recorded so a resume with another one can be flagged (the step count means batches of that size).
     */
    public static void save(Path path, MiniMindLM model, AdamW opt, int epoch, int step, int worldSize, long seed, int batchSize,
                            Map<String, Object> scaler) {
        save(path, model, opt, epoch, step, worldSize, seed, batchSize, scaler, Map.of());
    }

    /**
     * {@code adapters}: LoRA tensors kept in the 'model' dict beside the base weights, under their ".lora." names, as
     * MiniMind's lm_checkpoint stores a LoRA model's state dict (the optimizer then holds only their state).
     */
    public static void save(Path path, MiniMindLM model, AdamW opt, int epoch, int step, int worldSize, long seed, int batchSize,
                            Map<String, Object> scaler, Map<String, HostTensor> adapters) {
        LinkedHashMap<String, Object> root = new LinkedHashMap<>();
        LinkedHashMap<String, HostTensor> modelDict = Weights.hostStateDict(model, DType.F32);
        modelDict.putAll(adapters);
        root.put("model", modelDict);
        LinkedHashMap<String, Object> optimizer = new LinkedHashMap<>();
        optimizer.put("libtorch_adamw", optimizerBytes(opt, path));
        root.put("optimizer", optimizer);
        root.put("epoch", (long) epoch);
        root.put("step", (long) step);
        root.put("world_size", (long) worldSize);
        root.put("seed", seed);
        root.put("batch_size", (long) batchSize);
        root.put("config", model.config().asMap());
        if (!scaler.isEmpty()) root.put("scaler", new LinkedHashMap<>(scaler));
        root.put("format", "minimind4j-resume-1");
        try {
            Pth.write(path, root);
        } catch (IOException e) {
            throw new UserError(path + ": cannot write the resume checkpoint (" + e.getMessage() + ")");
        }
    }

    private static HostTensor optimizerBytes(AdamW opt, Path near) {
        Path tmp = near.resolveSibling(near.getFileName() + ".optim.tmp");
        try {
            OutputArchive a = new OutputArchive();
            opt.save(a);
            a.save_to(tmp.toString());
            byte[] bytes = Files.readAllBytes(tmp);
            return HostTensor.ofRawBytes(DType.U8, new long[]{bytes.length}, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a stray temp file is harmless; the next save overwrites it
            }
        }
    }

    /** What a resume checkpoint restores; {@code adapters} are the 'model' entries with ".lora." in their names (a LoRA run's). */
    public record State(MiniMindLM model, int epoch, int step, int savedWorldSize, long seed, int batchSize, byte[] optimizer, Map<?, ?> scaler,
                        Map<String, HostTensor> adapters) {
        /** Restores the optimizer state onto the run's device (the archive holds CPU tensors). */
        public void loadOptimizer(AdamW opt, Precision precision) {
            if (optimizer == null) return;
            try {
                Path tmp = Files.createTempFile("minimind4j-optim", ".pt");
                try {
                    Files.write(tmp, optimizer);
                    InputArchive a = new InputArchive();
                    // always mapped: a file written on a GPU must also resume on a CPU-only machine
                    a.load_from(tmp.toString(), new DeviceOptional(precision.device()));
                    opt.load(a);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * Reads a resume checkpoint for a run of {@code worldSize} processes. As MiniMind does, a checkpoint written by
     * another world size has its step rescaled (step * saved / current) so that the same samples count as done.
     */
    @SuppressWarnings("unchecked")
    public static State load(Path path, ModelConfig c, int worldSize) {
        Object o;
        try {
            o = Pth.read(path);
        } catch (IOException e) {
            throw new UserError(path + ": cannot read the resume checkpoint (" + e.getMessage() + "); delete it or pass --from_resume 0");
        }
        if (!(o instanceof Map<?, ?> root) || !(root.get("model") instanceof Map<?, ?> model))
            throw new UserError(path + ": not a resume checkpoint (no 'model' entry); delete it or pass --from_resume 0");
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>(), adapters = new LinkedHashMap<>();
        ((Map<Object, Object>) model).forEach((k, v) -> {
            if (v instanceof HostTensor h) (String.valueOf(k).contains(".lora.") ? adapters : sd).put(String.valueOf(k), h);
        });
        if (root.get("config") instanceof Map<?, ?> saved) {
            List<String> differ = new ArrayList<>();
            for (Map.Entry<String, Object> e : c.asMap().entrySet()) {
                Object was = saved.get(e.getKey());
                if (was != null && !sameValue(was, e.getValue())) differ.add(e.getKey() + " " + was + " (this run: " + e.getValue() + ")");
            }
            if (!differ.isEmpty())
                throw new UserError(path + ": the resume checkpoint was written for another model: " + String.join(", ", differ)
                        + "; pass the same model flags, or --from_resume 0");
        }
        Weights.Report r = Weights.check(MiniMindLM.expectedShapes(c), sd);
        if (!r.clean()) throw new UserError(r.describe(path) + "\n  the resume checkpoint was written for another model shape: pass the same --hidden_size/--num_hidden_layers/--use_moe, or --from_resume 0");
        Map<String, org.bytedeco.pytorch.Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : sd.entrySet())
            tensors.put(e.getKey(), Weights.toTensor(e.getValue(), org.bytedeco.pytorch.global.torch.ScalarType.Float));
        MiniMindLM m = MiniMindLM.fromTensors(c, tensors);
        int epoch = (int) number(root.get("epoch"));
        int step = (int) number(root.get("step"));
        int saved = root.get("world_size") == null ? 1 : (int) number(root.get("world_size"));
        if (saved != worldSize) step = step * saved / worldSize;
        long seed = root.get("seed") == null ? 42 : number(root.get("seed"));
        int batchSize = root.get("batch_size") == null ? 0 : (int) number(root.get("batch_size"));
        byte[] optBytes = null;
        if (root.get("optimizer") instanceof Map<?, ?> opt && opt.get("libtorch_adamw") instanceof HostTensor h) optBytes = h.toByteArray();
        Map<?, ?> scaler = root.get("scaler") instanceof Map<?, ?> sc ? sc : null;
        return new State(m, epoch, step, saved, seed, batchSize, optBytes, scaler, adapters);
    }

    private static boolean sameValue(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) return x.doubleValue() == y.doubleValue();
        return a.equals(b);
    }

    private static long number(Object o) {
        if (o instanceof Number n) return n.longValue();
        throw new UserError("resume checkpoint: expected a number, found " + o);
    }
}
