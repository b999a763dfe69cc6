package minimind4j.train;

import minimind4j.model.ModelFamily;
import minimind4j.TestPaths;
import minimind4j.checkpoint.Weights;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Pth;
import minimind4j.cli.CliRun;
import minimind4j.model.ModelConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A tiny training run through the real CLI, as the training tests make them: hidden 32, 2 layers, max_seq_len 48,
 * MiniMind2's tokenizer, --log_interval 1000, --device cpu explicitly (a CUDA machine tests the CPU path here too) and
 * --dtype float32 on --num_threads 1: the exact numbers the tests compare are those of fp32 on one thread, whatever
 * CPU runs them (--dtype auto would pick bf16 on one with AVX512-BF16/AMX). Every setter replaces its flag's value
 * (picocli refuses a flag given twice); {@link #without} drops one. {@link #run()} runs it in-process, {@link #args()}
 * gives the command line (for a child JVM).
 */
public final class TinyRun {
    private final String stage;
    private final LinkedHashMap<String, String> flags;
    private LossFault fault = LossFault.NONE;

    private TinyRun(String stage, LinkedHashMap<String, String> flags) {
        this.stage = stage;
        this.flags = flags;
    }

    /** {@code stage} on {@code data}, saving to {@code saveDir}, with the defaults above. */
    public static TinyRun of(String stage, Path data, Path saveDir) {
        TinyRun r = new TinyRun(stage, new LinkedHashMap<>());
        return r.flag("--data_path", data).tokenizer(TestPaths.minimind2()).saveDir(saveDir).hiddenSize(32).layers(2).maxSeqLen(48)
                .logInterval(1000).threads(1).device("cpu").dtype("float32");
    }

    public static TinyRun sft(Path data, Path saveDir) { return of("sft", data, saveDir); }

    public static TinyRun pretrain(Path data, Path saveDir) { return of("pretrain", data, saveDir); }

    /** A copy (the same stage, flags and fault) that {@link #saveDir saves} elsewhere: a second run to compare with. */
    public TinyRun in(Path saveDir) {
        TinyRun r = new TinyRun(stage, new LinkedHashMap<>(flags));
        r.fault = fault;
        return r.saveDir(saveDir);
    }

    /** A copy to change without changing this one. */
    public TinyRun copy() {
        return in(Path.of(flags.get("--save_dir")));
    }

    // ---- any flag ----

    /** Sets (or replaces) {@code name}'s value. */
    public TinyRun flag(String name, Object value) {
        flags.put(name, String.valueOf(value));
        return this;
    }

    /** A flag without a value ({@code --pad_to_max_seq_len}, say). */
    public TinyRun flag(String name) {
        flags.put(name, null);
        return this;
    }

    /** Flags as on a command line: each name followed by its value, or by the next name when it takes none. */
    public TinyRun flags(String... commandLine) {
        for (int i = 0; i < commandLine.length; i++) {
            String name = commandLine[i];
            if (!name.startsWith("--")) throw new IllegalArgumentException("a flag name, not " + name);
            if (i + 1 < commandLine.length && !commandLine[i + 1].startsWith("--")) flag(name, commandLine[++i]);
            else flag(name);
        }
        return this;
    }

    /** Drops {@code name} (a default, say: no --dtype lets a resume take the checkpoint's). */
    public TinyRun without(String name) {
        flags.remove(name);
        return this;
    }

    /** The steps {@code fault} accepts get a NaN loss (tests of the skip path). */
    public TinyRun lossFault(LossFault fault) {
        this.fault = fault;
        return this;
    }

    // ---- what the tests set ----

    public TinyRun saveDir(Path dir) { return flag("--save_dir", dir); }

    public TinyRun tokenizer(Path dir) { return flag("--tokenizer_path", dir); }

    public TinyRun hiddenSize(int n) { return flag("--hidden_size", n); }

    public TinyRun layers(int n) { return flag("--num_hidden_layers", n); }

    public TinyRun maxSeqLen(int n) { return flag("--max_seq_len", n); }

    public TinyRun logInterval(int n) { return flag("--log_interval", n); }

    public TinyRun threads(int n) { return flag("--num_threads", n); }

    public TinyRun device(String device) { return flag("--device", device); }

    /** float32, bfloat16 or float16. */
    public TinyRun dtype(String dtype) { return flag("--dtype", dtype); }

    public TinyRun epochs(int n) { return flag("--epochs", n); }

    public TinyRun batchSize(int n) { return flag("--batch_size", n); }

    /** As the command line writes it ("2e-3"). */
    public TinyRun learningRate(String lr) { return flag("--learning_rate", lr); }

    public TinyRun accumulation(int steps) { return flag("--accumulation_steps", steps); }

    public TinyRun fromWeight(String nameOrPath) { return flag("--from_weight", nameOrPath); }

    /** --from_weight none: random initial weights. */
    public TinyRun fromScratch() { return fromWeight("none"); }

    public TinyRun maxSteps(long n) { return flag("--max_steps", n); }

    public TinyRun fromResume() { return flag("--from_resume", 1); }

    public TinyRun moe() { return flag("--use_moe", 1); }

    public TinyRun evalData(Path data, int interval) { return flag("--eval_data", data).flag("--eval_interval", interval); }

    // ---- running ----

    /** The command line. */
    public String[] args() {
        List<String> a = new ArrayList<>(List.of(stage));
        flags.forEach((k, v) -> {
            a.add(k);
            if (v != null) a.add(v);
        });
        return a.toArray(String[]::new);
    }

    /** The files this run writes, named by {@link RunFiles}. */
    public RunFiles files() {
        ModelFamily family = StageDefaults.family(flags.get("--model_family"));
        int hidden = Integer.parseInt(flags.get("--hidden_size")), layers = Integer.parseInt(flags.get("--num_hidden_layers"));
        boolean moe = "1".equals(flags.get("--use_moe"));
        ModelConfig c = family == ModelFamily.MINIMIND3 ? ModelConfig.minimind3(hidden, layers, moe) : ModelConfig.minimind2(hidden, layers, moe);
        Stage s = null;
        for (Stage x : Stage.values()) if (x.id().equals(stage)) s = x;
        if (s == null) throw new IllegalStateException("not a training stage: " + stage);
        String saveWeight = flags.containsKey("--save_weight") ? flags.get("--save_weight")
                : s == Stage.LORA && flags.containsKey("--lora_name") ? flags.get("--lora_name")
                : s == Stage.DPO && flags.containsKey("--lora_rank") ? StageDefaults.DPO_LORA_SAVE_WEIGHT
                : StageDefaults.of(s, family).saveWeight();
        return new RunFiles(Path.of(flags.get("--save_dir")), saveWeight, c);
    }

    /** Runs it in-process, out and err captured. */
    public Result run() {
        CliRun r = CliRun.of(fault, args());
        return new Result(r.code(), r.out(), r.err(), files());
    }

    /** {@link #run()}, asserting exit code 0 (the message is the run's err). */
    public Result ok() {
        return run().ok();
    }

    /** A finished run: its exit code and output, and what it wrote. */
    public record Result(int code, String out, String err, RunFiles files) {
        public Result ok() {
            assertEquals(0, code, err);
            return this;
        }

        /** The weight file's tensors. */
        public Map<String, HostTensor> weights() {
            return readStateDict(files.weights());
        }

        /** The resume checkpoint's whole dict (model, optimizer, epoch, step, scaler, ...). */
        @SuppressWarnings("unchecked")
        public Map<String, Object> resume() {
            try {
                return (Map<String, Object>) Pth.read(files.resume());
            } catch (Exception e) {
                throw new AssertionError(files.resume() + ": " + e, e);
            }
        }

        /** The resume checkpoint's fp32 weights (its 'model'): a single small step can vanish in the fp16 weight file. */
        public Map<String, HostTensor> resumeWeights() {
            return Weights.read(files.resume());
        }

        /** The metrics CSV's rows, by column name. */
        public List<MetricsCsv.Row> metrics() {
            return MetricsCsv.read(files.metrics());
        }
    }

    private static Map<String, HostTensor> readStateDict(Path p) {
        try {
            return Pth.readStateDict(p);
        } catch (Exception e) {
            throw new AssertionError(p + ": " + e, e);
        }
    }
}
