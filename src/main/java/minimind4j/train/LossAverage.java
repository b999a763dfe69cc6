package minimind4j.train;

import minimind4j.UserError;

import java.util.Locale;

/**
 * What the loss of one optimizer step is an average over.
 *
 * <p>{@link #BATCHES} is MiniMind's (DDP's) rule: every micro-batch's loss is the mean over its own supervised
 * tokens, divided by accumulation_steps, and the ranks' gradients are averaged. A micro-batch or rank with few
 * supervised tokens then weighs as much as one with many, so world size x batch x accumulation changes the update.
 *
 * <p>{@link #TOKENS} divides the summed token losses of the whole step by the step's supervised tokens over every
 * micro-batch and rank (one all-reduce of the count before the first backward), so any split of the same global
 * batch gives the update of one process taking it whole (Hugging Face's average_tokens_across_devices).
 */
public enum LossAverage {
    BATCHES, TOKENS;

    public static LossAverage parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserError("--loss_average " + s + ": expected batches (MiniMind's per-batch mean) or tokens (mean over the step's supervised tokens)");
        }
    }

    public String flag() { return name().toLowerCase(Locale.ROOT); }
}
