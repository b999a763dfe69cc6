package minimind4j.cli;

import minimind4j.checkpoint.ResumeCheckpoint;
import minimind4j.model.ModelFamily;
import minimind4j.UserError;

import minimind4j.engine.Precision;
import minimind4j.model.ModelConfig;
import minimind4j.train.Distributed;
import minimind4j.train.LossFault;
import minimind4j.train.RunSettings;
import minimind4j.train.LossAverage;
import minimind4j.train.RunFiles;
import minimind4j.train.Stage;
import minimind4j.train.StageDefaults;
import minimind4j.train.TrainConfig;
import minimind4j.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** What {@code minimind sft}, {@code pretrain}, {@code lora} and {@code dpo} share: the flags, their stage defaults, and the run. */
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
    /** The steps whose loss the trainer makes NaN: none, except in tests of the skip path (see CliRun). */
    LossFault lossFault = LossFault.NONE;

    /** The stage this command trains. */
    abstract Stage stage();

    /**
     * The stage's defaults for a model family, applied to every flag not given
     * ({@link StageDefaults}); lora and dpo adjust them for their own flags.
     */
    TrainConfig defaults(ModelFamily family) { return StageDefaults.of(stage(), family); }

    /** The defaults of --model_family's family (minimind2 without it). */
    TrainConfig defaults() { return defaults(StageDefaults.family(m.family)); }

    /** Whether {@code option} was given on the command line (its field otherwise holds the --help default). */
    boolean given(String option) {
        CommandLine.ParseResult parsed = spec == null ? null : spec.commandLine().getParseResult();
        return parsed != null && parsed.hasMatchedOption(option);
    }


    /** Settings when the user gave no data: the bundled demo; null when the stage has no demo. */
    Demo.Profile demoProfile() { return null; }

    /** The starting weights as a file, when --from_weight named one (set by {@link #modelConfig}). */
    private Path startFile;

    /** The save directory: --save_dir, else the demo's, else the stage's. */
    private Path saveDir(TrainConfig s, Demo.Profile demo) {
        return given("--save_dir") ? f.saveDir : demo != null ? demo.saveDir() : s.saveDir();
    }

    /**
     * The model to train: the demo's, or the starting weights' shape (their file says it; flags only confirm it, and a
     * resumed run's checkpoint was written from the same shape), or the model flags' for a fresh model.
     */
    ModelConfig modelConfig(TrainConfig s, Demo.Profile demo) {
        if (demo != null && !m.anyGiven()) return demo.model();
        String fromWeight = given("--from_weight") ? f.fromWeight : s.fromWeight();
        FromWeight start = FromWeight.resolve(fromWeight, saveDir(s, demo), m);
        if (start.file() != null && RunFiles.isPath(fromWeight)) startFile = start.file().toAbsolutePath();
        startWeights = start.file();
        startRead = start.read();
        return start.config();
    }

    /** The weight file training starts from (named or a path), null for a fresh model; set by {@link #modelConfig}. */
    private Path startWeights;
    /** That file as read for its shape: the trainer loads these tensors instead of reading it again. */
    private RunFiles.Loaded startRead;
    /** The resume checkpoint's contents, read once for the recorded settings and handed to the trainer. */
    private Object resumeRead;

    /**
     * The stage defaults follow the weights: without --model_family, a starting file with q/k norms is minimind-3 and
     * trains with minimind-3's defaults. Returns the defaults to use and prints one line saying which and why.
     */
    TrainConfig followWeights(TrainConfig s, ModelConfig config, Demo.Profile demo, PrintStream out) {
        if (demo != null || startWeights == null) return s;
        String why;
        if (m.family != null) {
            why = "--model_family " + m.family;
        } else {
            why = startWeights + (config.qkNorm() ? " has q/k norms: a minimind-3 model (--model_family minimind2 overrides)"
                    : " has no q/k norms: a MiniMind2 model (--model_family minimind3 overrides)");
            s = defaults(config.modelFamily());
        }
        if (DistributedFlags.localRank() <= 0)
            out.printf(Locale.ROOT, "defaults: %s's %s stage (lr %s, max_seq_len %d, empty_think_ratio %s, data %s); %s%n",
                    (m.family != null ? StageDefaults.family(m.family) : config.modelFamily()) == ModelFamily.MINIMIND3 ? "minimind-3" : "MiniMind2", s.stage().data(), s.learningRate(), s.maxSeqLen(),
                    s.emptyThinkRatio(), s.dataPath(), why);
        return s;
    }

    /** The run's Trainer before it starts: LoRA attaches its adapters here. */
    Trainer prepare(Trainer t, TrainConfig o) { return t; }

    /** After a finished demo run: what it changed. */
    void showDemo(Demo.Profile demo, PrintStream out, ModelConfig config, TrainConfig o, Trainer t) {
        demo.showComparison(out, config, o, t);
    }

    /** The run's configuration: the stage's defaults {@code s}, then the demo's settings, then every flag given. */
    TrainConfig options(TrainConfig s, Demo.Profile demo) {
        TrainConfig.Builder b = s.toBuilder();
        if (demo != null) demo.apply(b);
        if (given("--save_dir")) b.saveDir(f.saveDir);
        if (given("--save_weight")) b.saveWeight(f.saveWeight);
        if (given("--epochs")) b.epochs(f.epochs);
        if (given("--batch_size")) b.batchSize(f.batchSize);
        if (given("--learning_rate")) b.learningRate(f.learningRate);
        if (given("--accumulation_steps")) b.accumulationSteps(f.accumulationSteps);
        if (given("--grad_clip")) b.gradClip(f.gradClip);
        if (given("--log_interval")) b.logInterval(f.logInterval);
        if (given("--save_interval")) b.saveInterval(f.saveInterval);
        if (given("--max_seq_len")) b.maxSeqLen(f.maxSeqLen);
        if (given("--data_path") && !f.dataPath.isEmpty()) b.dataPaths(f.dataPath);
        if (given("--from_weight")) b.fromWeight(f.fromWeight);
        if (given("--from_resume")) b.fromResume(f.fromResume == 1);
        if (given("--tokenizer_path")) b.tokenizerPath(f.tokenizerPath);
        if (given("--add_system_ratio")) b.addSystemRatio(f.addSystemRatio);
        if (given("--empty_think_ratio")) b.emptyThinkRatio(f.emptyThinkRatio);
        // --pad_to_max_seq_len is MiniMind's layout, which has no length grouping
        if (f.padToMaxSeqLen) b.groupByLength(false);
        else if (given("--group_by_length")) b.groupByLength(f.groupByLength == 1);
        if (given("--eval_data")) b.evalData(f.evalData);
        if (given("--eval_interval")) b.evalInterval(f.evalInterval);
        if (given("--max_nan_steps")) b.maxNanSteps(f.maxNanSteps);
        if (given("--seed")) b.seed(f.seed);
        if (given("--max_steps")) b.maxSteps(f.maxSteps);
        if (given("--loss_average")) b.lossAverage(LossAverage.parse(f.lossAverage));
        if (f.dtype != null) b.dtype(f.dtype);
        if (startFile != null) b.fromWeight(startFile.toString());
        return b.device(f.device)  // null: MiniMind's default, cuda:0 when there is one
                .padToMaxSeqLen(f.padToMaxSeqLen).strictData(f.strictData)
                .numThreads(TrainFlags.or(f.numThreads, minimind4j.engine.Torch.defaultThreads()))
                .strictLoad(strict.strict())
                .dataFormat(minimind4j.data.formats.DataFormat.fromFlag(f.dataFormat))
                .truncation(minimind4j.data.Truncation.fromFlag(f.truncation))
                .build();
    }

    @Override
    public Integer call() {
        TrainConfig s = defaults();
        Demo.Profile demo = null;
        if (!given("--data_path") && !s.dataPath().toFile().exists()) {
            demo = demoProfile();
            if (demo == null) throw new UserError(s.dataPath() + ": no such file (pass --data_path FILE.jsonl)");
        }
        ModelConfig config = modelConfig(s, demo);
        s = followWeights(s, config, demo, System.out);
        // before anything is written or launched: a bad --device/--dtype is the user's first error to see
        if (f.cpuAutocast && DistributedFlags.localRank() <= 0)
            System.out.println("note: --cpu_autocast is no longer needed: --dtype applies on a CPU as on CUDA");
        TrainConfig o = options(s, demo);
        // the run's precision and threads, chosen once (see RunSettings)
        // the resume checkpoint is read once: its recorded settings here, its state by the trainer
        Path resumeFile = o.fromResume() ? RunFiles.resume(o.saveDir(), o.saveWeight(), config) : null;
        resumeRead = resumeFile != null && java.nio.file.Files.isRegularFile(resumeFile) ? ResumeCheckpoint.read(resumeFile) : null;
        RunSettings settings = RunSettings.choose(f.device, f.dtype, f.numThreads, DistributedFlags.localRank(), config, o.maxSeqLen(),
                resumeFile, resumeRead);
        settings.print(System.out, DistributedFlags.localRank());
        Precision precision = settings.precision();
        o = o.toBuilder().dtype(precision.dtypeName()).numThreads(TrainFlags.or(f.numThreads, settings.threads())).build();
        if (demo != null) demo.prepare(spec.commandLine().getOut(), o, s.dataPath().toString());
        // workers choose their threads once they know which ranks share their machine
        if (d.launches()) {
            resumeRead = null;  // each worker reads the checkpoint itself; the launcher only supervises
            startRead = null;
            return d.launch(spec, 0, java.util.Map.of(RunSettings.WORKER_DTYPE, precision.dtypeName()));
        }
        PrintStream out = System.out;
        if (config.useMoe() && !o.padToMaxSeqLen() && DistributedFlags.localRank() <= 0)
            out.println("note: MoE aux loss averages over padding too; batches here are padded to their longest sample, MiniMind's to "
                    + "max_seq_len, so aux_loss differs from MiniMind's (--pad_to_max_seq_len --group_by_length 0 matches it exactly)");
        try (Distributed dist = d.join(precision)) {
            if (dist.worldSize() > 1) {
                // a resumed run keeps the threads per rank it was trained with, as a single process does (RunSettings)
                Integer recorded = RunSettings.recorded(resumeRead).threads();
                f.numThreads = f.numThreads != null ? DistributedFlags.threadsPerRank(dist, f.numThreads, "--num_threads " + f.numThreads, out)
                        : DistributedFlags.threadsPerRank(dist, recorded, "as recorded in " + RunFiles.resume(o.saveDir(), o.saveWeight(), config).getFileName(), out);
                o = o.toBuilder().numThreads(f.numThreads).build();
            }
            Trainer t = new Trainer(o, config, precision, out, dist, lossFault);
            if (startRead != null) t.startFrom(startRead);
            if (resumeRead != null) t.resumeFrom(resumeRead);
            resumeRead = null;  // the trainer lets go of it once the model and optimizer are loaded
            startRead = null;
            t = prepare(t, o);
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
