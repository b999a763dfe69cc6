package minimind4j.cli;

import minimind4j.UserError;

import minimind4j.engine.Precision;
import minimind4j.model.ModelConfig;
import minimind4j.train.Distributed;
import minimind4j.train.RunSettings;
import minimind4j.train.TrainOptions;
import minimind4j.train.Trainer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** What {@code minimind sft} and {@code minimind pretrain} share: the flags, their stage defaults, and the run. */
abstract class TrainCommand implements Callable<Integer> {
    @Mixin
    TrainFlags f = new TrainFlags();
    @Mixin
    ModelFlags m = new ModelFlags();
    @Mixin
    DistributedFlags d = new DistributedFlags();
    @Mixin
    StrictFlag strict = new StrictFlag();
    @Spec
    CommandSpec spec;

    /**
     * The stage's defaults, those of MiniMind's train_full_sft.py / train_pretrain.py of the model family's own
     * MiniMind version, applied to every unset flag.
     */
    record StageDefaults(String stage, String saveWeight, int epochs, int batchSize, double learningRate,
                         int accumulationSteps, int maxSeqLen, String dataPath, String fromWeight, double emptyThinkRatio) {}

    /** The defaults for a model family ("minimind2" or "minimind3"). */
    abstract StageDefaults defaults(String family);

    StageDefaults defaults() {
        String family = m.family == null ? "minimind2" : m.family;
        if (!family.equals("minimind2") && !family.equals("minimind3"))
            throw new UserError("--model_family " + family + ": expected minimind2 or minimind3");
        return defaults(family);
    }

    /** The run's precision and threads: chosen once (see {@link RunSettings}), before the options are built. */
    private RunSettings settings;

    /** Settings when the user gave no data: the bundled demo; null when the stage has no demo. */
    Demo.Profile demoProfile() { return null; }

    /** The starting weights as a file, when --from_weight named one (set by {@link #modelConfig}). */
    private Path startFile;

    /**
     * The model to train: the demo's, or the starting weights' shape (their file says it; flags only confirm it, and a
     * resumed run's checkpoint was written from the same shape), or the model flags' for a fresh model.
     */
    ModelConfig modelConfig(StageDefaults s, Demo.Profile demo) {
        if (demo != null && !m.anyGiven()) return demo.model();
        String fromWeight = TrainFlags.or(f.fromWeight, s.fromWeight());
        FromWeight start = FromWeight.resolve(fromWeight, TrainFlags.or(f.saveDir, demo != null ? demo.saveDir() : Path.of("out")), m);
        if (start.file() != null && FromWeight.looksLikeFile(fromWeight)) startFile = start.file().toAbsolutePath();
        startWeights = start.file();
        return start.config();
    }

    /** The weight file training starts from (named or a path), null for a fresh model; set by {@link #modelConfig}. */
    private Path startWeights;

    /**
     * The stage defaults follow the weights: without --model_family, a starting file with q/k norms is minimind-3 and
     * trains with minimind-3's defaults. Returns the defaults to use and prints one line saying which and why.
     */
    StageDefaults followWeights(StageDefaults s, ModelConfig config, Demo.Profile demo, PrintStream out) {
        if (demo != null || startWeights == null) return s;
        String why;
        if (m.family != null) {
            why = "--model_family " + m.family;
        } else {
            why = startWeights + (config.qkNorm() ? " has q/k norms: a minimind-3 model (--model_family minimind2 overrides)"
                    : " has no q/k norms: a MiniMind2 model (--model_family minimind3 overrides)");
            s = defaults(config.family());
        }
        if (DistributedFlags.localRank() <= 0)
            out.printf(Locale.ROOT, "defaults: %s's %s stage (lr %s, max_seq_len %d, empty_think_ratio %s, data %s); %s%n",
                    "minimind3".equals(m.family != null ? m.family : config.family()) ? "minimind-3" : "MiniMind2", s.stage(), s.learningRate(), s.maxSeqLen(),
                    s.emptyThinkRatio(), s.dataPath(), why);
        return s;
    }

    /** The run's Trainer before it starts: LoRA attaches its adapters here. */
    Trainer prepare(Trainer t, TrainOptions o) { return t; }

    /** After a finished demo run: what it changed. */
    void showDemo(Demo.Profile demo, PrintStream out, ModelConfig config, TrainOptions o, Trainer t) {
        demo.showComparison(out, config, o, t);
    }

    TrainOptions options(StageDefaults s, Demo.Profile demo) {
        boolean dm = demo != null;
        return new TrainOptions(
                s.stage(),
                TrainFlags.or(f.saveDir, dm ? demo.saveDir() : Path.of("out")),
                TrainFlags.or(f.saveWeight, s.saveWeight()),
                TrainFlags.or(f.epochs, dm ? demo.epochs() : s.epochs()),
                TrainFlags.or(f.batchSize, dm ? demo.batchSize() : s.batchSize()),
                TrainFlags.or(f.learningRate, dm ? demo.learningRate() : s.learningRate()),
                f.device,  // null: MiniMind's default, cuda:0 when there is one
                settings == null ? TrainFlags.or(f.dtype, "auto") : settings.precision().dtypeName(),
                TrainFlags.or(f.accumulationSteps, dm ? 1 : s.accumulationSteps()),
                TrainFlags.or(f.gradClip, 1.0),
                TrainFlags.or(f.logInterval, dm ? demo.logInterval() : 100),
                TrainFlags.or(f.saveInterval, 1000),
                TrainFlags.or(f.maxSeqLen, dm ? demo.maxSeqLen() : s.maxSeqLen()),
                dataPaths(s, demo).get(0),
                TrainFlags.or(f.fromWeight, s.fromWeight()),
                TrainFlags.or(f.fromResume, 0) == 1,
                TrainFlags.or(f.tokenizerPath, dm ? demo.tokenizer() : Path.of("model")),
                TrainFlags.or(f.addSystemRatio, 0.2),
                TrainFlags.or(f.emptyThinkRatio, s.emptyThinkRatio()),
                f.strictData,
                TrainFlags.or(f.groupByLength, 1) == 1 && !f.padToMaxSeqLen,
                f.padToMaxSeqLen,
                TrainFlags.or(f.numThreads, settings != null ? settings.threads() : minimind4j.engine.Torch.defaultThreads()),
                TrainFlags.or(f.evalData, dm ? demo.evalData() : null),
                TrainFlags.or(f.evalInterval, dm ? demo.evalInterval() : 500),
                TrainFlags.or(f.maxNanSteps, 10),
                TrainFlags.or(f.seed, 42L),
                TrainFlags.or(f.maxSteps, 0L),
                minimind4j.train.LossAverage.parse(TrainFlags.or(f.lossAverage, "batches")),
                strict.strict(),
                dataPaths(s, demo),
                minimind4j.data.formats.DataFormat.fromFlag(f.dataFormat),
                minimind4j.data.Truncation.fromFlag(f.truncation));
    }

    private java.util.List<Path> dataPaths(StageDefaults s, Demo.Profile demo) {
        if (f.dataPath != null && !f.dataPath.isEmpty()) return f.dataPath;
        return java.util.List.of(demo != null ? demo.data() : Path.of(s.dataPath()));
    }

    @Override
    public Integer call() {
        StageDefaults s = defaults();
        Demo.Profile demo = null;
        if ((f.dataPath == null || f.dataPath.isEmpty()) && !Path.of(s.dataPath()).toFile().exists()) {
            demo = demoProfile();
            if (demo == null) throw new UserError(s.dataPath() + ": no such file (pass --data_path FILE.jsonl)");
        }
        ModelConfig config = modelConfig(s, demo);
        s = followWeights(s, config, demo, System.out);
        // before anything is written or launched: a bad --device/--dtype is the user's first error to see
        if (f.cpuAutocast && DistributedFlags.localRank() <= 0)
            System.out.println("note: --cpu_autocast is no longer needed: --dtype applies on a CPU as on CUDA");
        TrainOptions o = options(s, demo);
        settings = RunSettings.choose(f.device, f.dtype, f.numThreads, DistributedFlags.localRank(), config, o.maxSeqLen(),
                TrainFlags.or(f.fromResume, 0) == 1 ? Trainer.resumePath(o.saveDir(), o.saveWeight(), config) : null);
        settings.print(System.out, DistributedFlags.localRank());
        Precision precision = settings.precision();
        o = options(s, demo);
        if (startFile != null) o = o.withFromWeight(startFile.toString());
        if (demo != null) demo.prepare(spec.commandLine().getOut(), o.saveDir(), s.dataPath());
        // workers choose their threads once they know which ranks share their machine
        if (d.launches()) return d.launch(spec, 0, java.util.Map.of(RunSettings.WORKER_DTYPE, precision.dtypeName()));
        PrintStream out = System.out;
        if (config.useMoe() && !o.padToMaxSeqLen() && DistributedFlags.localRank() <= 0)
            out.println("note: MoE aux loss averages over padding too; batches here are padded to their longest sample, MiniMind's to "
                    + "max_seq_len, so aux_loss differs from MiniMind's (--pad_to_max_seq_len --group_by_length 0 matches it exactly)");
        try (Distributed dist = d.join(precision)) {
            if (dist.worldSize() > 1) {
                f.numThreads = DistributedFlags.threadsPerRank(dist, f.numThreads, out);
                o = options(s, demo);
                if (startFile != null) o = o.withFromWeight(startFile.toString());
            }
            Trainer t = prepare(new Trainer(o, config, precision, out, dist), o);
            Trainer.Result r = t.run();
            if (!r.interrupted() && r.stepsRun() > 0 && r.skippedSteps() == r.stepsRun())
                throw new UserError("all " + r.stepsRun() + " steps were skipped (NaN/inf loss or gradient): nothing was learned;"
                        + " lower --learning_rate or check the data");
            if (dist.isMain()) {
                out.printf(Locale.ROOT, "done: %d steps in %s, last loss %.4f%s; weights %s%n", r.stepsRun(),
                        minimind4j.train.Progress.duration(r.seconds()), r.lastLoss(),
                        r.skippedSteps() == 0 ? "" : String.format(Locale.ROOT, ", %d of %d steps skipped (NaN/inf loss or gradient)", r.skippedSteps(), r.stepsRun()),
                        r.weights());
                if (demo != null && !r.interrupted()) showDemo(demo, out, config, o, t);
            }
            return r.exitCode();
        }
    }
}
