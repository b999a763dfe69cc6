package minimind4j.train;

import minimind4j.checkpoint.ResumeCheckpoint;
import minimind4j.checkpoint.Weights;
import minimind4j.UserError;
import minimind4j.data.Batch;
import minimind4j.data.JsonlIndex;
import minimind4j.data.PretrainDataset;
import minimind4j.data.SftDataset;
import minimind4j.data.TokenDataset;
import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The training loop of MiniMind's train_pretrain.py and train_full_sft.py: AdamW, the cosine schedule set every
 * micro-step, loss / accumulation_steps, clip + step + zero every accumulation_steps (leftovers flushed at the end
 * of an epoch), periodic fp16 weights plus a resume checkpoint, both written atomically. With --loss_average tokens
 * the loss is normalised over the optimizer step's supervised tokens instead ({@link LossAverage}, {@link StepBatches}).
 *
 * <p>Beyond MiniMind: non-finite losses and gradient norms skip their optimizer step (and stop the run after
 * maxNanSteps bad steps in a row), no checkpoint with an inf/NaN value reaches the disk, SIGINT/SIGTERM/SIGHUP save a
 * resume checkpoint, batches are padded only to their longest sample, the vocabulary projection runs
 * only on supervised positions, and an optional held-out set is evaluated.
 */
public final class Trainer {
    /** What a finished (or stopped) run produced. */
    public record Result(Path weights, Path resume, long stepsRun, double lastLoss, boolean interrupted, double seconds,
                         long skippedSteps, int stopSignal) {
        /** The process exit status: 0, or 128 + the stop signal's number (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP). */
        public int exitCode() { return interrupted ? 128 + (stopSignal > 0 ? stopSignal : 2) : 0; }
    }

    /**
     * Fault injection for tests only: when set, the loss of every global step it accepts is made NaN, so the skip
     * path can be exercised without having to break a model for real.
     */
    static volatile java.util.function.LongPredicate poisonLossAt;

    private final TrainOptions o;
    private final ModelConfig config;
    private final Precision precision;
    private final PrintStream out;
    private final Distributed dist;
    private volatile boolean stopRequested;
    /** What the run trains instead of the whole model (LoRA); null: the whole model. */
    private Adaptation adaptation;

    public Trainer(TrainOptions o, ModelConfig config, Precision precision, PrintStream out, Distributed dist) {
        this.o = o;
        this.config = config;
        this.precision = precision;
        this.out = out;
        this.dist = dist;
    }

    /** The per-batch loss (DPO's instead of the language-model loss); see {@link StepLoss}. */
    private StepLoss stepLoss = StepLoss.LANGUAGE_MODEL;

    /** Trains on {@code l} instead of the language-model loss. */
    public Trainer withLoss(StepLoss l) {
        this.stepLoss = l;
        return this;
    }

    /** Trains {@code a}'s tensors on a frozen model and saves its weights instead of the model's. */
    public Trainer adapt(Adaptation a) {
        this.adaptation = a;
        return this;
    }

    /** The file --from_weight names: a path as given (ends in .pth/.safetensors), else {save_dir}/{from_weight}_{hidden}.pth. */
    public Path fromWeightPath() {
        // a path (minimind sft --from_weight out/x.pth) or MiniMind's name {save_dir}/{name}_{hidden}.pth
        String w = o.fromWeight();
        return w.endsWith(".pth") || w.endsWith(".safetensors") || w.endsWith(".bin") || w.endsWith(".json") || w.contains("/") ? Path.of(w) : weightPath(w);
    }

    public ModelConfig config() { return config; }

    /** Asks the loop to save a resume checkpoint and return after the current step (Ctrl-C does this). */
    public void requestStop() { stopRequested = true; }

    /** The temp-file names of this run's outputs, whose leftovers from a killed save a new run removes. */
    private java.util.List<String> outputNames() {
        String base = o.saveWeight() + "_" + config.hiddenSize() + config.weightSuffix();
        return java.util.List.of(weightPath(o.saveWeight()).getFileName().toString(), resumePath().getFileName().toString(),
                base + "_metrics.csv", base + "_loss.png");
    }

    private void removeStaleTemps() {
        if (!dist.isMain()) return;
        try {
            java.util.List<String> removed = minimind4j.checkpoint.AtomicFiles.removeStaleTemps(o.saveDir(), outputNames());
            if (!removed.isEmpty())
                log("removed " + removed.size() + " temp file(s) left in " + o.saveDir() + " by an interrupted save: " + String.join(", ", removed));
        } catch (java.io.IOException e) {
            throw new UserError(o.saveDir() + ": cannot remove the temp files of an interrupted save (" + e.getMessage() + ")");
        }
    }

    public Path weightPath(String name) {
        return o.saveDir().resolve(name + "_" + config.hiddenSize() + config.weightSuffix() + ".pth");
    }

    public Path resumePath() {
        return resumePath(o.saveDir(), o.saveWeight(), config);
    }

    /** {save_dir}/{save_weight}_{hidden}[_moe]_resume.pth, MiniMind's resume checkpoint name. */
    public static Path resumePath(Path saveDir, String saveWeight, ModelConfig config) {
        return saveDir.resolve(saveWeight + "_" + config.hiddenSize() + config.weightSuffix() + "_resume.pth");
    }

    private void log(String s) {
        if (dist.isMain()) progress.line(s);
    }

    private Progress progress;

    public Result run() {
        progress = new Progress(out, dist.isMain() && Progress.onTerminal());
        if (o.numThreads() > 0) Torch.setThreads(o.numThreads());
        if (o.epochs() < 1 || o.batchSize() < 1 || o.accumulationSteps() < 1 || o.maxSeqLen() < 2)
            throw new UserError("--epochs, --batch_size, --accumulation_steps must be >= 1 and --max_seq_len >= 2");
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(o.tokenizerPath());
             TokenDataset data = openDataset(tok, o.dataPaths(), false)) {
            // after the data is accepted: refused data leaves nothing on disk, not even an empty save directory
            try {
                Files.createDirectories(o.saveDir());
            } catch (Exception e) {
                throw new UserError(o.saveDir() + ": cannot create the save directory (" + e.getMessage() + ")");
            }
            removeStaleTemps();
            if (tok.vocabSize() > config.vocabSize())
                throw new UserError(o.tokenizerPath() + ": the tokenizer has " + tok.vocabSize() + " tokens but the model's vocab_size is " + config.vocabSize() + " (pass --vocab_size)");
            return train(tok, data);
        }
    }

    /** The training set, or (forEval) a held-out set rendered without random augmentation so evals compare. */
    private TokenDataset openDataset(MiniMindTokenizer tok, java.util.List<Path> paths, boolean forEval) {
        if (o.stage().equals("dpo")) return minimind4j.data.DpoDataset.open(paths, o.strictData(), tok, o.sftOptions(false), this::log);
        if (o.stage().equals("sft")) return SftDataset.open(paths, o.strictData(), tok, o.sftOptions(forEval), this::log);
        JsonlIndex index = PretrainDataset.index(paths, o.strictData());
        if (index.skipSummary() != null) log(index.skipSummary());
        return new PretrainDataset(index, tok, o.maxSeqLen());
    }

    private Result train(MiniMindTokenizer tok, TokenDataset data) {
        int startEpoch = 0, startStep = 0;
        MiniMindLM model;
        ResumeCheckpoint.State resumed = null;
        Path resumeFile = resumePath();
        if (o.fromResume() && Files.exists(resumeFile)) {
            resumed = ResumeCheckpoint.load(resumeFile, config, dist.worldSize());
            model = resumed.model();
            Weights.requireFinite(resumeFile, model);
            startEpoch = resumed.epoch();
            startStep = resumed.step();
            log("resuming from " + resumeFile + ": epoch " + (startEpoch + 1) + ", step " + startStep);
            // the step count and every random draw are functions of these: a change makes the rest of the run a different one
            if (resumed.seed() != o.seed())
                log("warning: the checkpoint was written with --seed " + resumed.seed() + ", this run has " + o.seed() + ": samples and augmentation will differ from the original run's");
            if (resumed.batchSize() > 0 && resumed.batchSize() != o.batchSize())
                log("warning: the checkpoint was written with --batch_size " + resumed.batchSize() + ", this run has " + o.batchSize()
                        + ": skipping " + startStep + " batches of the new size does not skip exactly the samples already seen");
        } else {
            if (o.fromResume()) log("no resume checkpoint at " + resumeFile + ": starting fresh");
            if (o.fromWeight().equals("none")) {
                model = MiniMindLM.init(config, o.seed());
            } else {
                Path w = fromWeightPath();
                if (!Files.exists(w))
                    throw new UserError(w + ": no such weight file (train the earlier stage first, or pass --from_weight none / another --save_dir)");
                model = Weights.load(w, config, o.strictLoad(), dist.isMain() ? out : null);
            }
        }
        model.to(precision);
        dist.broadcastParameters(model);
        stepLoss.start(model, precision, resumed != null);
        log(String.format(Locale.ROOT, "model: %.3fM parameters, hidden %d, layers %d, heads %d/%d, vocab %d%s; data: %d samples from %s; %s",
                model.parameterCount() / 1e6, config.hiddenSize(), config.numHiddenLayers(), config.numAttentionHeads(),
                config.numKeyValueHeads(), config.vocabSize(), config.useMoe() ? ", MoE" : "", data.size(), o.dataPath(), precision.describe()));
        if (adaptation == null && resumed != null && !resumed.adapters().isEmpty())
            throw new UserError(resumeFile + ": written by minimind lora (it holds adapters); resume it with minimind lora, or pass --from_resume 0");
        TensorVector params = adaptation == null ? model.parameters() : adaptation.attach(model, resumed == null ? null : resumed.adapters());
        if (adaptation != null) {
            long trainable = 0;
            for (long i = 0; i < params.size(); i++) trainable += params.get(i).numel();
            log(String.format(Locale.ROOT, "training %.3fM parameters (%.2f%% of the model); base weights frozen", trainable / 1e6, 100.0 * trainable / model.parameterCount()));
        }
        AdamW opt = Torch.adamW(params, o.learningRate(), 0.9, 0.999, 1e-8, 0.01);
        GradScaler scaler = new GradScaler(precision.gradScaler());
        if (resumed != null) {
            resumed.loadOptimizer(opt, precision);
            scaler.load(resumed.scaler());
        }

        TokenDataset eval = o.evalData() == null ? null : openDataset(tok, java.util.List.of(o.evalData()), true);
        BatchPlan first = new BatchPlan(data, o.batchSize(), startEpoch, o.groupByLength(), BatchPlan.GROUP_WINDOW, dist.rank(), dist.worldSize());
        long itersPerEpoch = first.iters();
        // a resumed run drops the rows a killed run logged after its last checkpoint, so each step appears once
        Metrics metrics = dist.isMain() ? new Metrics(o.saveDir().resolve(o.saveWeight() + "_" + config.hiddenSize() + config.weightSuffix() + "_metrics.csv"),
                resumed != null, startEpoch * itersPerEpoch + startStep, stepLoss.metricNames()) : null;

        StopSignals signals = new StopSignals(() -> {
            requestStop();
            log("stop requested: finishing this step, then saving a resume checkpoint (a second signal waits for the save)");
        }, again -> log(again + ": still saving the resume checkpoint, waiting for it (kill -9 would lose the progress since the last save)"));
        long runStart = System.nanoTime();
        long stepsRun = 0;
        double lastLoss = Double.NaN;
        boolean interrupted = false;
        int stopSignal = 0;
        Path savedWeights = null;
        int padTo = o.padToMaxSeqLen() ? o.maxSeqLen() : 0;
        Throwable failure = null;
        try {
            long totalSteps = o.epochs() * itersPerEpoch;
            long stepsToRun = totalSteps - (startEpoch * itersPerEpoch + startStep);
            if (o.maxSteps() > 0) stepsToRun = Math.min(stepsToRun, o.maxSteps());
            outer:
            for (int epoch = startEpoch; epoch < o.epochs(); epoch++) {
                BatchPlan plan = epoch == startEpoch ? first : new BatchPlan(data, o.batchSize(), epoch, o.groupByLength(), BatchPlan.GROUP_WINDOW, dist.rank(), dist.worldSize());
                int iters = plan.iters();
                int skip = epoch == startEpoch ? startStep : 0;
                long windowTokens = 0, windowSupervised = 0;
                long windowStart = System.nanoTime();
                try (BatchLoader loader = new BatchLoader(plan, skip, data.padId(), padTo)) {
                    StepBatches batches = new StepBatches(loader, o.lossAverage(), dist, o.accumulationSteps(), iters);
                    for (int step = skip + 1; step <= iters; step++) {
                        Batch batch;
                        try {
                            batch = batches.next(step);
                        } catch (UserError dataError) {
                            throw keepProgress(dataError, model, opt, scaler, epoch, step - 1, stepsRun);
                        }
                        if (batch == null) break;
                        double lr = CosineSchedule.lr((long) epoch * iters + step, (long) o.epochs() * iters, o.learningRate());
                        opt.param_groups().get(0).options().set_lr(lr);
                        double loss, logitsLoss, aux;
                        try (PointerScope scope = Torch.scope()) {
                            Tensor ids = precision.longs(batch.ids(), batch.rows(), batch.cols());
                            Tensor labels = precision.longs(batch.labels(), batch.rows(), batch.cols());
                            TrainStep.Forward f = TrainStep.forward(model, precision, ids, labels, stepLoss);
                            var poison = poisonLossAt;
                            if (poison != null && poison.test((long) epoch * iters + step)) {
                                MiniMindLM.Loss l = f.loss();
                                f = TrainStep.read(new MiniMindLM.Loss(l.total().mul(Torch.scalar(Double.NaN)), l.logitsLoss(), l.auxLoss(), l.supervised()));
                            }
                            MiniMindLM.Loss l = f.loss();
                            loss = f.total();
                            logitsLoss = f.logits();
                            aux = f.aux();
                            if (Double.isFinite(loss)) {
                                scaler.scale(batches.backwardLoss(l, batch)).backward();
                                windowPending++;
                            } else {
                                badSteps.bad(1 + windowPending);  // zero_grad drops the window's earlier steps too
                                windowPending = 0;
                                opt.zero_grad(true);
                                log(String.format(Locale.ROOT, "epoch %d step %d: loss is %s; skipped this step's update", epoch + 1, step, loss));
                                badSteps.check(epoch, step);
                            }
                            // the epoch's last step flushes a partial window, before anything below evaluates or saves
                            if (step % o.accumulationSteps() == 0 || step == iters) {
                                optimizerStep(model, opt, params, scaler, epoch, step);
                                badSteps.check(epoch, step);
                            }
                        }
                        stepsRun++;
                        if (Double.isFinite(loss)) lastLoss = loss;
                        windowTokens += batch.tokens();  // this rank's; the log line sums them over ranks
                        windowSupervised += batch.supervised();
                        double elapsedRun = (System.nanoTime() - runStart) / 1e9;
                        double eta = elapsedRun / stepsRun * (stepsToRun - stepsRun);
                        double windowSec = Math.max(1e-9, (System.nanoTime() - windowStart) / 1e9);
                        if (dist.isMain()) progress.tick(epoch + 1, o.epochs(), step, iters, loss, lr, windowTokens * dist.worldSize() / windowSec, eta);
                        boolean last = step == iters;
                        // ranks agree on stopping (and on the signal that asked) at the same step, before any of them saves
                        stopSignal = dist.max(stopRequested ? (signals.number() > 0 ? signals.number() : 2) : 0);
                        boolean stopNow = stopSignal > 0 || (o.maxSteps() > 0 && stepsRun >= o.maxSteps());
                        Double evalLoss = null;
                        if (eval != null && o.evalInterval() > 0 && (step % o.evalInterval() == 0 || last)) {
                            evalLoss = Evaluation.run(model, eval, o.batchSize(), padTo, precision).mean();
                        }
                        if (step % o.logInterval() == 0 || last || evalLoss != null) {
                            GlobalStep g = GlobalStep.of(dist, batches.logWeight(batch), loss, logitsLoss, aux, windowTokens, windowSupervised);
                            double[] extra = stepLoss.globalMetrics(dist);
                            if (Double.isFinite(g.loss())) lastLoss = g.loss();
                            log(String.format(Locale.ROOT,
                                    "Epoch:[%d/%d](%d/%d), loss: %.4f, " + stepLoss.lossName() + ": %.4f, aux_loss: %.4f, lr: %.8f, %.0f tok/s, %.0f supervised tok/s, elapsed %s, ETA %s%s%s",
                                    epoch + 1, o.epochs(), step, iters, g.loss(), g.logitsLoss(), g.auxLoss(), lr, g.tokens() / windowSec,
                                    g.supervised() / windowSec, Progress.duration(elapsedRun), Progress.duration(eta),
                                    evalLoss == null ? "" : String.format(Locale.ROOT, ", eval_loss: %.4f", evalLoss),
                                    scaler.enabled() ? String.format(Locale.ROOT, ", loss_scale: %.0f, overflow_skips: %d", scaler.scale(), overflowSkips) : "")
                                    + stepLoss.describeMetrics(extra));
                            if (metrics != null) metrics.log(epoch + 1, step, (long) epoch * iters + step, g.loss(), g.logitsLoss(), g.auxLoss(), lr,
                                    g.tokens() / windowSec, g.supervised() / windowSec, elapsedRun, evalLoss, extra);
                            windowTokens = windowSupervised = 0;
                            windowStart = System.nanoTime();
                        }
                        boolean signalled = stopSignal > 0;
                        if (signalled) log(StopSignals.nameOf(stopSignal) + ": saving a resume checkpoint at epoch " + (epoch + 1) + ", step " + resumableStep(step, iters) + " ...");
                        if (step % o.saveInterval() == 0 || last || stopNow) {
                            savedWeights = save(model, opt, scaler, epoch, resumableStep(step, iters));
                        }
                        if (stopNow) {
                            interrupted = signalled;
                            if (!interrupted) stopSignal = 0;
                            if (interrupted) log("interrupted (" + StopSignals.nameOf(stopSignal) + "): saved " + resumePath() + "; continue with --from_resume 1");
                            break outer;
                        }
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            signals.close();
            // the plot and the log's close also write: after a failure (a full disk, say) theirs must not hide the first error
            try {
                if (metrics != null) {
                    try {
                        metrics.plot(o.saveDir().resolve(o.saveWeight() + "_" + config.hiddenSize() + config.weightSuffix() + "_loss.png"),
                                o.saveWeight() + " loss (" + o.dataPath().getFileName() + ")");
                    } finally {
                        metrics.close();
                    }
                }
            } catch (RuntimeException e) {
                if (failure == null) throw e;
                failure.addSuppressed(e);
            } finally {
                if (eval != null) eval.close();
                stepLoss.close();
            }
        }
        double seconds = (System.nanoTime() - runStart) / 1e9;
        model.close();
        return new Result(savedWeights, resumePath(), stepsRun, lastLoss, interrupted, seconds, badSteps.total(), stopSignal);
    }

    /**
     * Steps whose gradient never reached the weights: a non-finite loss, or a window whose update was skipped for a
     * non-finite gradient norm (every step of that window). maxNanSteps of them in a row stop the run; an applied
     * update ends the streak. Under float16 loss scaling, skipped overflow updates are GradScaler's normal start-up
     * and are counted in the total but not in the streak.
     */
    private final class BadSteps {
        private long streak, total;

        void bad(long steps) {
            streak += steps;
            total += steps;
        }

        void good() { streak = 0; }

        long total() { return total; }

        void check(int epoch, int step) {
            if (streak >= o.maxNanSteps())
                throw new UserError(streak + " steps in a row had a NaN/inf loss or gradient (up to epoch " + (epoch + 1) + ", step " + step
                        + "; " + total + " skipped in all): training diverged; lower --learning_rate or check the data"
                        + " (--max_nan_steps " + o.maxNanSteps() + "). Checkpoints on disk hold no inf/NaN values.");
        }
    }

    private final BadSteps badSteps = new BadSteps();
    /** Steps with a finite loss since the last optimizer step: what a skipped update throws away. */
    private long windowPending;

    private long overflowSkips;
    private final GradientDump gradientDump = GradientDump.fromSystemProperty();

    /**
     * The step a resume checkpoint records: the last one whose gradients are in the weights. Mid-window, the steps
     * since the last optimizer step only live in .grad, which is not saved, so the resumed run redoes them (same
     * batches, same weights, same gradients) and ends exactly where an uninterrupted run ends. (MiniMind records the
     * current step and so drops that partial window.) The epoch's last step is always flushed.
     */
    private int resumableStep(int step, int iters) {
        return step == iters ? step : step - step % o.accumulationSteps();
    }

    /**
     * A data line that fails only when its batch is prepared (its chat template raised, say) ends the run, but not its
     * progress: a single-process run saves a resume checkpoint at the last finished step, so fixing the line and
     * passing --from_resume 1 continues exactly there. (A rank of a distributed run cannot save alone: the others
     * stop at their next collective.)
     */
    private UserError keepProgress(UserError e, MiniMindLM model, AdamW opt, GradScaler scaler, int epoch, int doneSteps, long stepsRun) {
        if (dist.worldSize() > 1 || stepsRun == 0) return e;
        save(model, opt, scaler, epoch, resumableStep(doneSteps, Integer.MAX_VALUE));
        return new UserError(e.getMessage() + "; progress saved: fix the line and continue with --from_resume 1", e);
    }

    /** Average across ranks, then {@link TrainStep#update}; a skipped update is counted against its window's steps. */
    private void optimizerStep(MiniMindLM model, AdamW opt, TensorVector params, GradScaler scaler, int epoch, int step) {
        dist.averageGradients(params);
        if (gradientDump != null && dist.isMain()) gradientDump.write(model);
        double norm = TrainStep.update(opt, params, scaler, o.gradClip());
        boolean clean = Double.isFinite(norm);
        long window = windowPending;
        windowPending = 0;
        if (clean) {
            if (window > 0) badSteps.good();
        } else if (scaler.enabled()) {
            overflowSkips++;  // expected while the loss scale settles: no message per step, not a divergence
            badSteps.total += window;
        } else {
            badSteps.bad(window);
            log(String.format(Locale.ROOT, "epoch %d step %d: gradient norm is %s; skipped this update", epoch + 1, step, norm));
        }
    }

    private Path save(MiniMindLM model, AdamW opt, GradScaler scaler, int epoch, int step) {
        Path w = weightPath(o.saveWeight());
        if (dist.isMain()) {
            // both check the float16 values they write: a diverged model stops here, files untouched
            if (adaptation == null) Weights.saveHalf(w, model);
            else adaptation.saveWeights(w);
            ResumeCheckpoint.save(resumePath(), model, opt, epoch, step, dist.worldSize(), o.seed(), o.batchSize(), scaler.stateDict(),
                    adaptation == null ? java.util.Map.of() : adaptation.resumeState(),
                    java.util.Map.of("dtype", precision.dtypeName(), "num_threads", (long) Torch.threads()));
        }
        dist.barrier();
        return w;
    }
}
