package minimind4j.train;

import minimind4j.UserError;
import minimind4j.checkpoint.format.AtomicFiles;
import minimind4j.checkpoint.ResumeCheckpoint;
import minimind4j.checkpoint.Weights;
import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import org.bytedeco.pytorch.AdamW;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What a run writes to keep its progress: the float16 weights (or the adapter) and the resume checkpoint, both
 * written atomically by the main rank, and the leftovers of a killed save removed at the start.
 */
final class Checkpointing {
    private final TrainConfig o;
    private final RunFiles files;
    private final Precision precision;
    private final Distributed dist;
    private final Adaptation adaptation;
    private final Consumer<String> log;

    Checkpointing(TrainConfig o, RunFiles files, Precision precision, Distributed dist, Adaptation adaptation, Consumer<String> log) {
        this.o = o;
        this.files = files;
        this.precision = precision;
        this.dist = dist;
        this.adaptation = adaptation;
        this.log = log;
    }

    /** Removes the temp files an interrupted save of this run's outputs left in the save directory. */
    void removeStaleTemps() {
        if (!dist.isMain()) return;
        try {
            List<String> removed = AtomicFiles.removeStaleTemps(o.saveDir(), files.outputNames());
            if (!removed.isEmpty())
                log.accept("removed " + removed.size() + " temp file(s) left in " + o.saveDir() + " by an interrupted save: " + String.join(", ", removed));
        } catch (IOException e) {
            throw new UserError(o.saveDir() + ": cannot remove the temp files of an interrupted save (" + e.getMessage() + ")");
        }
    }

    /**
     * The step a resume checkpoint records: the last one whose gradients are in the weights. Mid-window, the steps
     * since the last optimizer step only live in .grad, which is not saved, so the resumed run redoes them (same
     * batches, same weights, same gradients) and ends exactly where an uninterrupted run ends. (MiniMind records the
     * current step and so drops that partial window.) The epoch's last step is always flushed.
     */
    int resumableStep(int step, int iters) {
        return step == iters ? step : step - step % o.accumulationSteps();
    }

    /** Saves the weights and the resume checkpoint at ({@code epoch}, {@code step}); every rank waits for it. */
    Path save(MiniMindLM model, AdamW opt, GradScaler scaler, int epoch, int step) {
        Path w = files.weights();
        if (dist.isMain()) {
            // both check the float16 values they write: a diverged model stops here, files untouched
            if (adaptation == null) Weights.saveHalf(w, model);
            else adaptation.saveWeights(w);
            ResumeCheckpoint.save(files.resume(), model, opt, epoch, step, dist.worldSize(), o.seed(), o.batchSize(), scaler.stateDict(),
                    adaptation == null ? Map.of() : adaptation.resumeState(),
                    Map.of("dtype", precision.dtypeName(), "num_threads", (long) Torch.threads()));
        }
        dist.barrier();
        return w;
    }

    /**
     * A data line that fails only when its batch is prepared (its chat template raised, say) ends the run, but not its
     * progress: a single-process run saves a resume checkpoint at the last finished step, so fixing the line and
     * passing --from_resume 1 continues exactly there. (A rank of a distributed run cannot save alone: the others
     * stop at their next collective.)
     */
    UserError keepProgress(UserError e, MiniMindLM model, AdamW opt, GradScaler scaler, int epoch, int doneSteps, long stepsRun) {
        if (dist.worldSize() > 1 || stepsRun == 0) return e;
        save(model, opt, scaler, epoch, resumableStep(doneSteps, Integer.MAX_VALUE));
        return new UserError(e.getMessage() + "; progress saved: fix the line and continue with --from_resume 1", e);
    }
}
