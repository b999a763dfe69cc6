package minimind4j.train;

import minimind4j.UserError;

import java.util.Locale;
import java.util.function.Consumer;

/**
 * Steps whose gradient never reached the weights: a non-finite loss, or a window whose update was skipped for a
 * non-finite gradient norm (every step of that window). maxNanSteps of them in a row stop the run; an applied
 * update ends the streak. Under float16 loss scaling, skipped overflow updates are GradScaler's normal start-up
 * and are counted in the total but not in the streak.
 */
final class NanPolicy {
    private final int maxNanSteps;
    private final Consumer<String> log;
    private long streak, total;
    /** Steps with a finite loss since the last optimizer step: what a skipped update throws away. */
    private long windowPending;
    private long overflowSkips;

    NanPolicy(int maxNanSteps, Consumer<String> log) {
        this.maxNanSteps = maxNanSteps;
        this.log = log;
    }

    /** Steps skipped in all (non-finite losses, skipped updates' windows, float16 overflow skips). */
    long total() { return total; }

    /** Updates skipped by float16 loss scaling while its scale settles. */
    long overflowSkips() { return overflowSkips; }

    /** A finite loss whose gradient went into the window. */
    void finiteLoss() { windowPending++; }

    /** A non-finite loss: the caller zeroes the gradients, which drops the window's earlier steps too. */
    void nonFiniteLoss(int epoch, int step, double loss) {
        bad(1 + windowPending);
        windowPending = 0;
        log.accept(String.format(Locale.ROOT, "epoch %d step %d: loss is %s; skipped this step's update", epoch + 1, step, loss));
        check(epoch, step);
    }

    /** After an optimizer step whose gradient norm was {@code norm}; {@code scaling}: float16 loss scaling is on. */
    void updated(double norm, boolean scaling, int epoch, int step) {
        long window = windowPending;
        windowPending = 0;
        if (Double.isFinite(norm)) {
            if (window > 0) streak = 0;
        } else if (scaling) {
            overflowSkips++;  // expected while the loss scale settles: no message per step, not a divergence
            total += window;
        } else {
            bad(window);
            log.accept(String.format(Locale.ROOT, "epoch %d step %d: gradient norm is %s; skipped this update", epoch + 1, step, norm));
        }
    }

    private void bad(long steps) {
        streak += steps;
        total += steps;
    }

    /** Stops the run once maxNanSteps steps in a row went wrong. */
    void check(int epoch, int step) {
        if (streak >= maxNanSteps)
            throw new UserError(streak + " steps in a row had a NaN/inf loss or gradient (up to epoch " + (epoch + 1) + ", step " + step
                    + "; " + total + " skipped in all): training diverged; lower --learning_rate or check the data"
                    + " (--max_nan_steps " + maxNanSteps + "). Checkpoints on disk hold no inf/NaN values.");
    }
}
