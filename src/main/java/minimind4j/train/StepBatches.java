package minimind4j.train;

import minimind4j.data.Batch;
import minimind4j.model.MiniMindLM;
import minimind4j.engine.Torch;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayDeque;

/**
 * The micro-batches of each optimizer step and the weight each one's loss gets before backward.
 *
 * <p>Optimizer steps close every accumulation_steps micro-steps and at the epoch's last step, so the step that
 * micro-step {@code s} (1-based) belongs to ends at {@code min(iters, ceil(s / A) * A)}. With
 * {@link LossAverage#TOKENS} the whole step is read ahead from the loader (a few small arrays) and its supervised
 * tokens are summed over ranks before the first backward; with {@link LossAverage#BATCHES} batches pass through
 * one at a time, as before.
 */
final class StepBatches {
    private final BatchLoader loader;
    private final LossAverage average;
    private final Distributed dist;
    private final int accumulation;
    private final int iters;
    private final ArrayDeque<Batch> ahead = new ArrayDeque<>();
    private double stepSupervised;

    StepBatches(BatchLoader loader, LossAverage average, Distributed dist, int accumulation, int iters) {
        this.loader = loader;
        this.average = average;
        this.dist = dist;
        this.accumulation = accumulation;
        this.iters = iters;
    }

    /** The batch of micro-step {@code step} (1-based within the epoch), or null at the end of the epoch. */
    Batch next(int step) {
        if (average == LossAverage.BATCHES) return loader.next();
        if (ahead.isEmpty()) readStep(step);
        return ahead.poll();
    }

    private void readStep(int step) {
        int end = Math.min(iters, ((step - 1) / accumulation + 1) * accumulation);
        long local = 0;
        for (int s = step; s <= end; s++) {
            Batch b = loader.next();
            if (b == null) break;
            ahead.add(b);
            local += b.supervised();
        }
        // every rank reaches here at the same micro-step (same iters, same accumulation), so the collective pairs up
        stepSupervised = dist.sum(new double[]{local})[0];
    }

    /**
     * The loss to backpropagate. batches: (logits + aux) / A, MiniMind's expression. tokens: the micro-batch's mean
     * logits loss times its supervised tokens is its summed token loss; over the step's global count that is the
     * token mean, times worldSize because the gradient allreduce divides by it. The MoE aux loss is a per-batch
     * regulariser and keeps MiniMind's weighting (mean over micro-batches and ranks).
     */
    Tensor backwardLoss(MiniMindLM.Loss l, Batch b) {
        if (average == LossAverage.BATCHES) return l.total().div(Torch.scalar(accumulation));
        double w = stepSupervised > 0 ? (double) b.supervised() * dist.worldSize() / stepSupervised : 0;
        return l.logitsLoss().mul(Torch.scalar(w)).add(l.auxLoss().div(Torch.scalar(accumulation)));
    }

    /** The weight of this rank's micro-batch loss in the logged global loss (tokens: its supervised count). */
    double logWeight(Batch b) {
        return average == LossAverage.TOKENS ? b.supervised() : 1;
    }
}
