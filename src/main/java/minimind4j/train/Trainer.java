package minimind4j.train;

import minimind4j.checkpoint.ResumeCheckpoint;
import minimind4j.checkpoint.Weights;
import minimind4j.cli.UserError;
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
 * of an epoch), periodic fp16 weights plus a resume checkpoint, both written atomically.
 *
 * <p>Beyond MiniMind: non-finite losses skip their optimizer step (and stop the run after maxNanSteps in a row),
 * Ctrl-C saves a resume checkpoint, batches are padded only to their longest sample, the vocabulary projection runs
 * only on supervised positions, and an optional held-out set is evaluated.
 */
public final class Trainer {
    /** What a finished (or stopped) run produced. */
    public record Result(Path weights, Path resume, long stepsRun, double lastLoss, boolean interrupted, double seconds) {}

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

    public Trainer(TrainOptions o, ModelConfig config, Precision precision, PrintStream out, Distributed dist) {
        this.o = o;
        this.config = config;
        this.precision = precision;
        this.out = out;
        this.dist = dist;
    }

    /** Asks the loop to save a resume checkpoint and return after the current step (Ctrl-C does this). */
    public void requestStop() { stopRequested = true; }

    public Path weightPath(String name) {
        return o.saveDir().resolve(name + "_" + config.hiddenSize() + config.weightSuffix() + ".pth");
    }

    public Path resumePath() {
        return o.saveDir().resolve(o.saveWeight() + "_" + config.hiddenSize() + config.weightSuffix() + "_resume.pth");
    }

    private void log(String s) {
        if (dist.isMain()) progress.line(s);
    }

    private Progress progress;

    public Result run() {
        progress = new Progress(out, dist.isMain() && System.console() != null && System.getenv("CI") == null);
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
            if (tok.vocabSize() > config.vocabSize())
                throw new UserError(o.tokenizerPath() + ": the tokenizer has " + tok.vocabSize() + " tokens but the model's vocab_size is " + config.vocabSize() + " (pass --vocab_size)");
            return train(tok, data);
        }
    }

    /** The training set, or (forEval) a held-out set rendered without random augmentation so evals compare. */
    private TokenDataset openDataset(MiniMindTokenizer tok, java.util.List<Path> paths, boolean forEval) {
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
                // a path (minimind sft --from_weight out/x.pth) or MiniMind's name {save_dir}/{name}_{hidden}.pth
                Path w = o.fromWeight().endsWith(".pth") || o.fromWeight().endsWith(".safetensors") || o.fromWeight().contains("/")
                        ? Path.of(o.fromWeight()) : weightPath(o.fromWeight());
                if (!Files.exists(w))
                    throw new UserError(w + ": no such weight file (train the earlier stage first, or pass --from_weight none / another --save_dir)");
                model = Weights.load(w, config, true, dist.isMain() ? out : null);
            }
        }
        model.to(precision);
        dist.broadcastParameters(model);
        log(String.format(Locale.ROOT, "model: %.3fM parameters, hidden %d, layers %d, heads %d/%d, vocab %d%s; data: %d samples from %s; %s",
                model.parameterCount() / 1e6, config.hiddenSize(), config.numHiddenLayers(), config.numAttentionHeads(),
                config.numKeyValueHeads(), config.vocabSize(), config.useMoe() ? ", MoE" : "", data.size(), o.dataPath(), precision.describe()));
        TensorVector params = model.parameters();
        AdamW opt = Torch.adamW(params, o.learningRate(), 0.9, 0.999, 1e-8, 0.01);
        GradScaler scaler = new GradScaler(precision.gradScaler());
        if (resumed != null) {
            resumed.loadOptimizer(opt, precision);
            scaler.load(resumed.scaler());
        }

        TokenDataset eval = o.evalData() == null ? null : openDataset(tok, java.util.List.of(o.evalData()), true);
        Metrics metrics = dist.isMain() ? new Metrics(o.saveDir().resolve(o.saveWeight() + "_" + config.hiddenSize() + config.weightSuffix() + "_metrics.csv"), resumed != null) : null;

        sun.misc.SignalHandler previous = null;
        sun.misc.Signal sigint = new sun.misc.Signal("INT");
        try {
            previous = sun.misc.Signal.handle(sigint, s -> requestStop());
        } catch (IllegalArgumentException ignored) {
            // no SIGINT on this platform or it is reserved: Ctrl-C then ends the JVM as usual
        }
        long runStart = System.nanoTime();
        long stepsRun = 0, nanStreak = 0;
        double lastLoss = Double.NaN;
        boolean interrupted = false;
        Path savedWeights = null;
        int padTo = o.padToMaxSeqLen() ? o.maxSeqLen() : 0;
        try {
            BatchPlan first = new BatchPlan(data, o.batchSize(), startEpoch, o.groupByLength(), 32, dist.rank(), dist.worldSize());
            long itersPerEpoch = first.iters();
            long totalSteps = o.epochs() * itersPerEpoch;
            long stepsToRun = totalSteps - (startEpoch * itersPerEpoch + startStep);
            if (o.maxSteps() > 0) stepsToRun = Math.min(stepsToRun, o.maxSteps());
            outer:
            for (int epoch = startEpoch; epoch < o.epochs(); epoch++) {
                BatchPlan plan = epoch == startEpoch ? first : new BatchPlan(data, o.batchSize(), epoch, o.groupByLength(), 32, dist.rank(), dist.worldSize());
                int iters = plan.iters();
                int skip = epoch == startEpoch ? startStep : 0;
                long windowTokens = 0, windowSupervised = 0;
                long windowStart = System.nanoTime();
                try (BatchLoader loader = new BatchLoader(plan, skip, data.padId(), padTo)) {
                    for (int step = skip + 1; step <= iters; step++) {
                        Batch batch;
                        try {
                            batch = loader.next();
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
                            MiniMindLM.Loss l;
                            try (Precision.Region autocast = precision.autocastRegion()) {
                                l = model.loss(ids, labels);
                            }
                            var poison = poisonLossAt;
                            if (poison != null && poison.test((long) epoch * iters + step))
                                l = new MiniMindLM.Loss(l.total().mul(Torch.scalar(Double.NaN)), l.logitsLoss(), l.auxLoss(), l.supervised());
                            loss = l.total().item_double();
                            logitsLoss = l.logitsLoss().item_double();
                            aux = l.auxLoss().item_double();
                            if (Double.isFinite(loss)) {
                                scaler.scale(l.total().div(Torch.scalar(o.accumulationSteps()))).backward();
                                nanStreak = 0;
                            } else {
                                nanStreak++;
                                opt.zero_grad(true);
                                log(String.format(Locale.ROOT, "epoch %d step %d: loss is %s; skipped this step's update", epoch + 1, step, loss));
                                if (nanStreak >= o.maxNanSteps())
                                    throw new UserError("the loss was NaN/inf for " + nanStreak + " steps in a row (epoch " + (epoch + 1) + ", step " + step
                                            + "); lower --learning_rate or check the data. Saved checkpoints hold no NaN weights.");
                            }
                            // the epoch's last step flushes a partial window, before anything below evaluates or saves
                            if (step % o.accumulationSteps() == 0 || step == iters) optimizerStep(model, opt, params, scaler, epoch, step);
                        }
                        stepsRun++;
                        if (Double.isFinite(loss)) lastLoss = loss;
                        windowTokens += batch.tokens() * dist.worldSize();
                        windowSupervised += batch.supervised() * dist.worldSize();
                        double elapsedRun = (System.nanoTime() - runStart) / 1e9;
                        double eta = elapsedRun / stepsRun * (stepsToRun - stepsRun);
                        double windowSec = Math.max(1e-9, (System.nanoTime() - windowStart) / 1e9);
                        if (dist.isMain()) progress.tick(epoch + 1, o.epochs(), step, iters, loss, lr, windowTokens / windowSec, eta);
                        boolean last = step == iters;
                        boolean stopNow = dist.any(stopRequested) || (o.maxSteps() > 0 && stepsRun >= o.maxSteps());
                        Double evalLoss = null;
                        if (eval != null && o.evalInterval() > 0 && (step % o.evalInterval() == 0 || last)) {
                            evalLoss = Evaluation.run(model, eval, o.batchSize(), padTo, precision).mean();
                        }
                        if (step % o.logInterval() == 0 || last || evalLoss != null) {
                            log(String.format(Locale.ROOT,
                                    "Epoch:[%d/%d](%d/%d), loss: %.4f, logits_loss: %.4f, aux_loss: %.4f, lr: %.8f, %.0f tok/s, %.0f supervised tok/s, elapsed %s, ETA %s%s%s",
                                    epoch + 1, o.epochs(), step, iters, loss, logitsLoss, aux, lr, windowTokens / windowSec,
                                    windowSupervised / windowSec, Progress.duration(elapsedRun), Progress.duration(eta),
                                    evalLoss == null ? "" : String.format(Locale.ROOT, ", eval_loss: %.4f", evalLoss),
                                    scaler.enabled() ? String.format(Locale.ROOT, ", loss_scale: %.0f, overflow_skips: %d", scaler.scale(), overflowSkips) : ""));
                            if (metrics != null) metrics.log(epoch + 1, step, (long) epoch * iters + step, loss, logitsLoss, aux, lr,
                                    windowTokens / windowSec, windowSupervised / windowSec, elapsedRun, evalLoss);
                            windowTokens = windowSupervised = 0;
                            windowStart = System.nanoTime();
                        }
                        if (step % o.saveInterval() == 0 || last || stopNow) {
                            savedWeights = save(model, opt, scaler, epoch, resumableStep(step, iters));
                        }
                        if (stopNow) {
                            interrupted = o.maxSteps() <= 0 || stepsRun < o.maxSteps();
                            if (interrupted) log("interrupted: saved " + resumePath() + "; continue with --from_resume 1");
                            break outer;
                        }
                    }
                }
            }
        } finally {
            if (previous != null) sun.misc.Signal.handle(sigint, previous);
            if (metrics != null) {
                metrics.plot(o.saveDir().resolve(o.saveWeight() + "_" + config.hiddenSize() + config.weightSuffix() + "_loss.png"),
                        o.saveWeight() + " loss (" + o.dataPath().getFileName() + ")");
                metrics.close();
            }
            if (eval != null) eval.close();
        }
        double seconds = (System.nanoTime() - runStart) / 1e9;
        model.close();
        return new Result(savedWeights, resumePath(), stepsRun, lastLoss, interrupted, seconds);
    }

    private long overflowSkips;

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

    /**
     * Average across ranks, unscale (float16), clip, step, zero — MiniMind's scaler.unscale_, clip_grad_norm_,
     * scaler.step, scaler.update. The norm is non-finite exactly when some gradient element is, which is the check
     * GradScaler makes before it skips a step.
     */
    private void optimizerStep(MiniMindLM model, AdamW opt, TensorVector params, GradScaler scaler, int epoch, int step) {
        dist.averageGradients(model);
        scaler.unscale(params);
        double norm = torch.clip_grad_norm_(params, o.gradClip());
        boolean clean = Double.isFinite(norm);
        if (clean) opt.step();
        else if (scaler.enabled()) overflowSkips++;  // expected while the loss scale settles: no message per step
        else log(String.format(Locale.ROOT, "epoch %d step %d: gradient norm is %s; skipped this update", epoch + 1, step, norm));
        scaler.update(clean);
        opt.zero_grad(true);
    }

    private Path save(MiniMindLM model, AdamW opt, GradScaler scaler, int epoch, int step) {
        Path w = weightPath(o.saveWeight());
        if (dist.isMain()) {
            Weights.saveHalf(w, model);
            ResumeCheckpoint.save(resumePath(), model, opt, epoch, step, dist.worldSize(), o.seed(), o.batchSize(), scaler.stateDict());
        }
        dist.barrier();
        return w;
    }
}
