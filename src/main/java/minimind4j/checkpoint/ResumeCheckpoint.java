package minimind4j.checkpoint;

import minimind4j.checkpoint.format.Pth;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.DType;
import minimind4j.checkpoint.format.AtomicFiles;
import minimind4j.UserError;
import minimind4j.engine.Precision;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.AdamW;

import java.io.IOException;
import org.bytedeco.pytorch.ArchiveWriter;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The resume checkpoint ({@code {save_dir}/{weight}_{hidden}[_moe]_resume.pth}), laid out as MiniMind's
 * trainer_utils.lm_checkpoint writes it, so a run moves between MiniMind and this project mid-training: {@code model}
 * (the state dict; here in fp32, not MiniMind's fp16, so a resumed run continues from the exact weights, and MiniMind's
 * load_state_dict copies them into its fp32 parameters just the same), {@code optimizer} (PyTorch's AdamW
 * state_dict(), see {@link AdamWStateDict}), {@code epoch}, {@code step}, {@code world_size}, {@code wandb_id} and
 * {@code scaler} (GradScaler.state_dict(): empty unless float16, as MiniMind always passes its scaler). What this
 * project adds sits under keys MiniMind never reads: {@code seed}, {@code batch_size}, {@code config}, {@code format}.
 * Every other source of randomness here is a pure function of (seed, epoch, sample), so nothing else is needed for a
 * resumed run to retrace an uninterrupted one.
 *
 * <p>Files of the first format ({@code minimind4j-resume-1}: the optimizer as libtorch's own archive under
 * {@code optimizer.libtorch_adamw}) still load.
 */
public final class ResumeCheckpoint {
    private ResumeCheckpoint() {}

    public static final String FORMAT = "minimind4j-resume-2";

    /**
     * {@code scaler} is the float16 loss scaler's state dict (empty when there is none); {@code batchSize} is per
     * process, recorded so a resume with another one can be flagged (the step count means batches of that size).
     */
    public static void save(Path path, MiniMindLM model, AdamW opt, int epoch, int step, int worldSize, long seed, int batchSize,
                            Map<String, Object> scaler) {
        save(path, model, opt, epoch, step, worldSize, seed, batchSize, scaler, Map.of(), Map.of());
    }

    /**
     * {@code adapters}: LoRA tensors kept in the 'model' dict beside the base weights, under their ".lora." names, as
     * MiniMind's lm_checkpoint stores a LoRA model's state dict; the optimizer then holds only their state, indexed in
     * the adapters' order (the order of MiniMind's lora parameters: module by module, A then B). {@code run}: the run's
     * precision and threads ({@code dtype}, {@code num_threads}), which --from_resume 1 reuses; MiniMind ignores them.
     */
    public static void save(Path path, MiniMindLM model, AdamW opt, int epoch, int step, int worldSize, long seed, int batchSize,
                            Map<String, Object> scaler, Map<String, HostTensor> adapters, Map<String, Object> run) {
        LinkedHashMap<String, Object> root = contents(model, opt, epoch, step, worldSize, seed, batchSize, scaler, adapters);
        root.putAll(run);
        try {
            Pth.write(path, root);
        } catch (IOException e) {
            throw AtomicFiles.failure(path, "the resume checkpoint", e);
        }
    }

    /** The dict {@link #save} writes. */
    public static LinkedHashMap<String, Object> contents(MiniMindLM model, AdamW opt, int epoch, int step, int worldSize, long seed,
                                                        int batchSize, Map<String, Object> scaler) {
        return contents(model, opt, epoch, step, worldSize, seed, batchSize, scaler, Map.of());
    }

    static LinkedHashMap<String, Object> contents(MiniMindLM model, AdamW opt, int epoch, int step, int worldSize, long seed,
                                                 int batchSize, Map<String, Object> scaler, Map<String, HostTensor> adapters) {
        LinkedHashMap<String, Object> root = new LinkedHashMap<>();
        LinkedHashMap<String, HostTensor> modelDict = Weights.hostStateDict(model, DType.F32);
        modelDict.putAll(adapters);
        root.put("model", modelDict);
        if (adapters.isEmpty()) {
            List<String> names = AdamWStateDict.namesOf(opt, model.namedParameters());
            root.put("optimizer", AdamWStateDict.of(opt, names, MiniMindLM.pythonParameterOrder(model.config())));
        } else {
            List<String> names = new ArrayList<>(adapters.keySet());
            root.put("optimizer", AdamWStateDict.of(opt, names, names));
        }
        root.put("epoch", (long) epoch);
        root.put("step", (long) step);
        root.put("world_size", (long) worldSize);
        root.put("wandb_id", null);
        root.put("scaler", new LinkedHashMap<>(scaler));
        root.put("seed", seed);
        root.put("batch_size", (long) batchSize);
        root.put("config", model.config().asMap());
        root.put("format", FORMAT);
        return root;
    }

    /** What a resume checkpoint restores. {@code optimizer}: PyTorch's state dict, or (older files) libtorch's archive bytes;
     *  {@code adapters}: the 'model' entries with ".lora." in their names (a LoRA run's). */
    public record State(Path file, MiniMindLM model, int epoch, int step, int savedWorldSize, long seed, int batchSize,
                        Object optimizer, Map<?, ?> scaler, Map<String, HostTensor> adapters) {
        /** Restores the optimizer state onto the run's device. */
        public void loadOptimizer(AdamW opt, Precision precision) {
            if (optimizer instanceof byte[] archive) {
                AdamWStateDict.loadLibtorchArchive(opt, archive, precision.device());
            } else if (optimizer instanceof Map<?, ?> sd && adapters.isEmpty()) {
                ModelConfig c = model.config();
                AdamWStateDict.load(opt, AdamWStateDict.namesOf(opt, model.namedParameters()), MiniMindLM.expectedShapes(c),
                        MiniMindLM.pythonParameterOrder(c), sd, file, precision.device());
            } else if (optimizer instanceof Map<?, ?> sd) {
                List<String> names = new ArrayList<>(adapters.keySet());
                Map<String, long[]> shapes = new LinkedHashMap<>();
                adapters.forEach((k, v) -> shapes.put(k, v.shape()));
                AdamWStateDict.load(opt, names, shapes, names, sd, file, precision.device());
            }
        }
    }

    /**
     * Reads a resume checkpoint for a run of {@code worldSize} processes. As MiniMind does, a checkpoint written by
     * another world size has its step rescaled (step * saved / current) so that the same samples count as done.
     */
    public static State load(Path path, ModelConfig c, int worldSize) {
        return load(path, read(path), c, worldSize);
    }

    /**
     * The checkpoint's contents as torch.load returns them, read once per run: the run's settings ({@code dtype},
     * {@code num_threads}) and its state ({@link #load(Path, Object, ModelConfig, int)}) both come from them.
     */
    public static Object read(Path path) {
        try {
            return Pth.read(path);
        } catch (IOException e) {
            throw new UserError(path + ": cannot read the resume checkpoint (" + e.getMessage() + "); delete it or pass --from_resume 0");
        }
    }

    /** {@link #load(Path, ModelConfig, int)} of contents already {@link #read}; {@code path} names the file in messages. */
    @SuppressWarnings("unchecked")
    public static State load(Path path, Object o, ModelConfig c, int worldSize) {
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
        Object optimizer;
        if (root.get("optimizer") instanceof Map<?, ?> opt && opt.get("libtorch_adamw") instanceof HostTensor h) optimizer = h.toByteArray();
        else if (root.get("optimizer") instanceof Map<?, ?> opt && opt.containsKey("state") && opt.containsKey("param_groups")) optimizer = opt;
        else throw new UserError(path + ": the resume checkpoint has no optimizer state (" + (root.containsKey("optimizer") ? "an unknown layout" : "no 'optimizer' entry")
                    + "); resuming would restart AdamW's moments: pass --from_resume 0 and --from_weight to start from its weights instead");
        Map<?, ?> scaler = root.get("scaler") instanceof Map<?, ?> sc ? sc : null;
        return new State(path, m, epoch, step, saved, seed, batchSize, optimizer, scaler, adapters);
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
