package minimind4j.cli;

import minimind4j.engine.Precision;
import minimind4j.model.ModelConfig;
import minimind4j.train.Distributed;
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
    @Spec
    CommandSpec spec;

    /** The stage's defaults, MiniMind's (train_full_sft.py / train_pretrain.py), applied to every unset flag. */
    record StageDefaults(String stage, String saveWeight, int epochs, int batchSize, double learningRate,
                         int accumulationSteps, int maxSeqLen, String dataPath, String fromWeight) {}

    abstract StageDefaults defaults();

    /** Settings when the user gave no data: the bundled demo; null when the stage has no demo. */
    Demo.Profile demoProfile() { return null; }

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
                TrainFlags.or(f.dtype, "bfloat16"),
                f.cpuAutocast,
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
                TrainFlags.or(f.emptyThinkRatio, 0.2),
                f.strictData,
                TrainFlags.or(f.groupByLength, 1) == 1 && !f.padToMaxSeqLen,
                f.padToMaxSeqLen,
                TrainFlags.or(f.numThreads, minimind4j.engine.Torch.defaultThreads()),
                TrainFlags.or(f.evalData, dm ? demo.evalData() : null),
                TrainFlags.or(f.evalInterval, dm ? demo.evalInterval() : 500),
                TrainFlags.or(f.maxNanSteps, 10),
                TrainFlags.or(f.seed, 42L),
                TrainFlags.or(f.maxSteps, 0L),
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
        TrainOptions o = options(s, demo);
        // the starting weights' file says the model's shape; flags only confirm it (a resumed run's checkpoint was
        // written from the same shape, so the file is the authority there too)
        ModelConfig config;
        if (demo != null && !m.anyGiven()) config = demo.model();
        else {
            FromWeight start = FromWeight.resolve(o.fromWeight(), o.saveDir(), m);
            config = start.config();
            if (start.file() != null && FromWeight.looksLikeFile(o.fromWeight())) o = o.withFromWeight(start.file().toAbsolutePath().toString());
        }
        // before anything is written or launched: a bad --device/--dtype is the user's first error to see
        Precision precision = Precision.resolve(o.device(), o.dtype(), o.cpuAutocast(), DistributedFlags.localRank());
        if (demo != null) demo.prepare(spec.commandLine().getOut(), o.saveDir());
        if (d.launches()) return d.launch(spec, Math.max(1, Runtime.getRuntime().availableProcessors() / d.nprocPerNode));
        PrintStream out = System.out;
        try (Distributed dist = d.join(precision)) {
            Trainer t = new Trainer(o, config, precision, out, dist);
            Trainer.Result r = t.run();
            if (dist.isMain()) {
                out.printf(Locale.ROOT, "done: %d steps in %s, last loss %.4f; weights %s%n", r.stepsRun(),
                        minimind4j.train.Progress.duration(r.seconds()), r.lastLoss(), r.weights());
                if (demo != null && !r.interrupted()) demo.showComparison(out, config, o, t);
            }
            return r.interrupted() ? 130 : 0;
        }
    }
}
