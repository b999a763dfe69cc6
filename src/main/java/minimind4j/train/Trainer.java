package minimind4j.train;

import minimind4j.checkpoint.ResumeCheckpoint;
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

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The training loop of MiniMind's train_pretrain.py and train_full_sft.py: AdamW, the cosine schedule set every
 * micro-step, loss / accumulation_steps, clip + step + zero every accumulation_steps (leftovers flushed at the end
 * of an epoch), periodic fp16 weights plus a resume checkpoint, both written atomically. With --loss_average tokens
 * the loss is normalised over the optimizer step's supervised tokens instead ({@link LossAverage}, {@link StepBatches}).
 *
 * <p>Beyond MiniMind: non-finite losses and gradient norms skip their optimizer step (and stop the run after
 * maxNanSteps bad steps in a row, {@link NanPolicy}), no checkpoint with an inf/NaN value reaches the disk,
 * SIGINT/SIGTERM/SIGHUP save a resume checkpoint, batches are padded only to their longest sample, the vocabulary
 * projection runs only on supervised positions, and an optional held-out set is evaluated. The step itself is
 * {@link TrainStep}'s; saving is {@link Checkpointing}'s, reporting {@link StepLog}'s.
 */
public final class Trainer {
    /** What a finished (or stopped) run produced. */
    public record Result(Path weights, Path resume, long stepsRun, double lastLoss, boolean interrupted, double seconds,
                         long skippedSteps, int stopSignal) {
        /** The process exit status: 0, or 128 + the stop signal's number (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP). */
        public int exitCode() { return interrupted ? 128 + (stopSignal > 0 ? stopSignal : 2) : 0; }
    }

    private final TrainConfig o;
    private final ModelConfig config;
    private final Precision precision;
    private final PrintStream out;
    private final Distributed dist;
    private final LossFault fault;
    private final RunFiles files;
    private final GradientDump gradientDump = GradientDump.fromSystemProperty();
    private volatile boolean stopRequested;
    /** What the run trains instead of the whole model (LoRA); null: the whole model. */
    private Adaptation adaptation;
    /** The per-batch loss (DPO's instead of the language-model loss); see {@link StepLoss}. */
    private StepLoss stepLoss = StepLoss.LANGUAGE_MODEL;
    private StepLog log;
    /** The --from_weight file as the command read it; null: read it here. Dropped once loaded. */
    private RunFiles.Loaded startWeights;
    private Object resumeContents;

    public Trainer(TrainConfig o, ModelConfig config, Precision precision, PrintStream out, Distributed dist) {
        this(o, config, precision, out, dist, LossFault.NONE);
    }

    /** @param fault the steps whose loss is made NaN (tests of the skip path); {@link LossFault#NONE} in real runs */
    public Trainer(TrainConfig o, ModelConfig config, Precision precision, PrintStream out, Distributed dist, LossFault fault) {
        this.o = o;
        this.config = config;
        this.precision = precision;
        this.out = out;
        this.dist = dist;
        this.fault = fault;
        this.files = new RunFiles(o.saveDir(), o.saveWeight(), config);
    }

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

    /** The resume checkpoint's contents as the command already read them (for its settings), not read again. */
    public Trainer resumeFrom(Object contents) {
        this.resumeContents = contents;
        return this;
    }

    /** Starts from {@code read}, the --from_weight file as already read (for its shape), instead of reading it again. */
    public Trainer startFrom(RunFiles.Loaded read) {
        this.startWeights = read;
        return this;
    }

    /** The file --from_weight names ({@link RunFiles#isPath}): a path as given, else {save_dir}/{from_weight}_{hidden}[_moe].pth. */
    public Path fromWeightPath() {
        return RunFiles.isPath(o.fromWeight()) ? Path.of(o.fromWeight()) : weightPath(o.fromWeight());
    }

    public ModelConfig config() { return config; }

    /** Asks the loop to save a resume checkpoint and return after the current step (Ctrl-C does this). */
    public void requestStop() { stopRequested = true; }

    public Path weightPath(String name) { return RunFiles.weights(o.saveDir(), name, config); }

    public Path resumePath() { return files.resume(); }

    public Result run() {
        log = new StepLog(o, out, dist, stepLoss);
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
            Checkpointing checkpoints = new Checkpointing(o, files, precision, dist, adaptation, log::line);
            checkpoints.removeStaleTemps();
            if (tok.vocabSize() > config.vocabSize())
                throw new UserError(o.tokenizerPath() + ": the tokenizer has " + tok.vocabSize() + " tokens but the model's vocab_size is " + config.vocabSize() + " (pass --vocab_size)");
            return train(tok, data, checkpoints);
        }
    }

    /** The training set, or (forEval) a held-out set rendered without random augmentation so evals compare. */
    private TokenDataset openDataset(MiniMindTokenizer tok, List<Path> paths, boolean forEval) {
        if (o.stage().data() == Stage.DPO) return minimind4j.data.DpoDataset.open(paths, o.strictData(), tok, o.sftOptions(false), log::line);
        if (o.stage().data() == Stage.SFT) return SftDataset.open(paths, o.strictData(), tok, o.sftOptions(forEval), log::line);
        JsonlIndex index = PretrainDataset.index(paths, o.strictData());
        if (index.skipSummary() != null) log.line(index.skipSummary());
        return new PretrainDataset(index, tok, o.maxSeqLen());
    }

    /** The loop: epochs of batches, each a micro-step; then, as due, a log line, an evaluation, a save, a stop. */
    private Result train(MiniMindTokenizer tok, TokenDataset data, Checkpointing checkpoints) {
        Start start = Start.of(o, config, files, fromWeightPath(), startWeights, resumeContents, dist, out, log::line);
        startWeights = null;
        resumeContents = null;
        MiniMindLM model = start.model();
        ResumeCheckpoint.State resumed = start.resumed();
        model.to(precision);
        dist.broadcastParameters(model);
        stepLoss.start(model, precision, resumed != null);
        describe(model, data);
        TensorVector params = trainable(model, resumed);
        AdamW opt = TrainStep.optimizer(params, o.learningRate());
        GradScaler scaler = new GradScaler(precision.gradScaler());
        if (resumed != null) {
            resumed.loadOptimizer(opt, precision);
            scaler.load(resumed.scaler());
        }
        TokenDataset eval = o.evalData() == null ? null : openDataset(tok, List.of(o.evalData()), true);
        BatchPlan first = plan(data, start.epoch());
        long done = start.epoch() * (long) first.iters() + start.step();
        long stepsToRun = o.epochs() * (long) first.iters() - done;
        if (o.maxSteps() > 0) stepsToRun = Math.min(stepsToRun, o.maxSteps());
        NanPolicy nan = new NanPolicy(o.maxNanSteps(), log::line);
        StopSignals signals = new StopSignals(() -> {
            requestStop();
            log.line("stop requested: finishing this step, then saving a resume checkpoint (a second signal waits for the save)");
        }, again -> log.line(again + ": still saving the resume checkpoint, waiting for it (kill -9 would lose the progress since the last save)"));
        int padTo = o.padToMaxSeqLen() ? o.maxSeqLen() : 0;
        long stepsRun = 0;
        double lastLoss = Double.NaN;
        int stopSignal = 0;
        Path savedWeights = null;
        Throwable failure = null;
        try {
            log.begin(files.metrics(), resumed != null, done);
            outer:
            for (int epoch = start.epoch(); epoch < o.epochs(); epoch++) {
                BatchPlan plan = epoch == start.epoch() ? first : plan(data, epoch);
                int iters = plan.iters(), skip = epoch == start.epoch() ? start.step() : 0;
                log.startEpoch();
                try (BatchLoader loader = new BatchLoader(plan, skip, data.padId(), padTo)) {
                    StepBatches batches = new StepBatches(loader, o.lossAverage(), dist, o.accumulationSteps(), iters);
                    for (int step = skip + 1; step <= iters; step++) {
                        Batch batch;
                        try {
                            batch = batches.next(step);
                        } catch (UserError dataError) {
                            throw checkpoints.keepProgress(dataError, model, opt, scaler, epoch, step - 1, stepsRun);
                        }
                        if (batch == null) break;
                        boolean last = step == iters;
                        double lr = CosineSchedule.lr((long) epoch * iters + step, (long) o.epochs() * iters, o.learningRate());
                        opt.param_groups().get(0).options().set_lr(lr);
                        // the epoch's last step flushes a partial window, before anything below evaluates or saves
                        double[] losses = microStep(model, opt, params, scaler, batches, batch, nan, epoch, step, iters,
                                step % o.accumulationSteps() == 0 || last);
                        stepsRun++;
                        if (Double.isFinite(losses[0])) lastLoss = losses[0];
                        log.stepDone(epoch, step, iters, losses[0], lr, batch.tokens(), batch.supervised(), stepsRun, stepsToRun);
                        // ranks agree on stopping (and on the signal that asked) at the same step, before any of them saves
                        stopSignal = dist.max(stopRequested ? (signals.number() > 0 ? signals.number() : 2) : 0);
                        boolean stopNow = stopSignal > 0 || (o.maxSteps() > 0 && stepsRun >= o.maxSteps());
                        Double evalLoss = eval != null && o.evalInterval() > 0 && (step % o.evalInterval() == 0 || last)
                                ? Evaluation.run(model, eval, o.batchSize(), padTo, precision).mean() : null;
                        if (log.due(step, last, evalLoss)) {
                            double global = log.write(epoch, step, iters, batches.logWeight(batch), losses, lr, evalLoss, scaler,
                                    nan.overflowSkips(), stepsRun, stepsToRun);
                            if (Double.isFinite(global)) lastLoss = global;
                        }
                        int resumable = checkpoints.resumableStep(step, iters);
                        if (stopSignal > 0) log.line(StopSignals.nameOf(stopSignal) + ": saving a resume checkpoint at epoch " + (epoch + 1) + ", step " + resumable + " ...");
                        if (step % o.saveInterval() == 0 || last || stopNow) savedWeights = checkpoints.save(model, opt, scaler, epoch, resumable);
                        if (stopNow) {
                            if (stopSignal > 0) log.line("interrupted (" + StopSignals.nameOf(stopSignal) + "): saved " + files.resume() + "; continue with --from_resume 1");
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
            finish(eval, failure);
        }
        double seconds = log.elapsed();
        model.close();
        return new Result(savedWeights, files.resume(), stepsRun, lastLoss, stopSignal > 0, seconds, nan.total(), stopSignal);
    }

    private void describe(MiniMindLM model, TokenDataset data) {
        log.line(String.format(Locale.ROOT, "model: %.3fM parameters, hidden %d, layers %d, heads %d/%d, vocab %d%s; data: %d samples from %s; %s",
                model.parameterCount() / 1e6, config.hiddenSize(), config.numHiddenLayers(), config.numAttentionHeads(),
                config.numKeyValueHeads(), config.vocabSize(), config.useMoe() ? ", MoE" : "", data.size(), o.dataPath(), precision.describe()));
    }

    /** The tensors the optimizer updates: the model's, or the adaptation's on the frozen model. */
    private TensorVector trainable(MiniMindLM model, ResumeCheckpoint.State resumed) {
        if (adaptation == null && resumed != null && !resumed.adapters().isEmpty())
            throw new UserError(files.resume() + ": written by minimind lora (it holds adapters); resume it with minimind lora, or pass --from_resume 0");
        if (adaptation == null) return model.parameters();
        TensorVector params = adaptation.attach(model, resumed == null ? null : resumed.adapters());
        long trainable = 0;
        for (long i = 0; i < params.size(); i++) trainable += params.get(i).numel();
        log.line(String.format(Locale.ROOT, "training %.3fM parameters (%.2f%% of the model); base weights frozen", trainable / 1e6, 100.0 * trainable / model.parameterCount()));
        return params;
    }

    private BatchPlan plan(TokenDataset data, int epoch) {
        return new BatchPlan(data, o.batchSize(), epoch, o.groupByLength(), BatchPlan.GROUP_WINDOW, dist.rank(), dist.worldSize());
    }

    /**
     * One micro-step of {@link TrainStep}: the forward, the backward of a finite loss (a non-finite one drops the
     * window, {@link NanPolicy}), and at the window's end the update. Returns the loss, logits loss and aux loss.
     */
    private double[] microStep(MiniMindLM model, AdamW opt, TensorVector params, GradScaler scaler, StepBatches batches, Batch batch,
                               NanPolicy nan, int epoch, int step, int iters, boolean endsWindow) {
        try (PointerScope scope = Torch.scope()) {
            Tensor ids = precision.longs(batch.ids(), batch.rows(), batch.cols());
            Tensor labels = precision.longs(batch.labels(), batch.rows(), batch.cols());
            TrainStep.Forward f = TrainStep.forward(model, precision, ids, labels, stepLoss);
            if (fault.poisons((long) epoch * iters + step)) {
                MiniMindLM.Loss l = f.loss();
                f = TrainStep.read(new MiniMindLM.Loss(l.total().mul(Torch.scalar(Double.NaN)), l.logitsLoss(), l.auxLoss(), l.supervised()));
            }
            if (Double.isFinite(f.total())) {
                scaler.scale(batches.backwardLoss(f.loss(), batch)).backward();
                nan.finiteLoss();
            } else {
                opt.zero_grad(true);  // drops the window's earlier steps too
                nan.nonFiniteLoss(epoch, step, f.total());
            }
            if (endsWindow) {
                dist.averageGradients(params);
                if (gradientDump != null && dist.isMain()) gradientDump.write(model);
                nan.updated(TrainStep.update(opt, params, scaler, o.gradClip()), scaler.enabled(), epoch, step);
                nan.check(epoch, step);
            }
            return new double[]{f.total(), f.logits(), f.aux()};
        }
    }

    /** The plot and the log's close also write: after a failure (a full disk, say) theirs must not hide the first error. */
    private void finish(TokenDataset eval, Throwable failure) {
        try {
            log.close(files.lossPlot());
        } catch (RuntimeException e) {
            if (failure == null) throw e;
            failure.addSuppressed(e);
        } finally {
            if (eval != null) eval.close();
            stepLoss.close();
        }
    }
}
