package minimind4j.lora;

import minimind4j.UserError;

/**
 * An adapter's shape and strength: rank r, alpha (the update is scaled by alpha / r, as PEFT's LoRA), dropout on the
 * adapter's input while training, and the target layers. MiniMind's model_lora.py has no alpha (its update is B·A,
 * scale 1): alpha defaults to the rank, which is exactly that.
 */
public record LoraConfig(int rank, double alpha, double dropout, LoraTargets targets) {
    /** MiniMind's apply_lora default rank. */
    public static final int DEFAULT_RANK = 16;
    /** MiniMind's init of A: normal(0, 0.02) (B is zeros, so a fresh adapter changes nothing). */
    public static final double A_INIT_STD = 0.02;

    public LoraConfig {
        if (rank < 1) throw new UserError("--lora_rank must be at least 1, got " + rank);
        if (!(alpha > 0) || !Double.isFinite(alpha)) throw new UserError("--lora_alpha must be a positive number, got " + alpha);
        if (!(dropout >= 0 && dropout < 1)) throw new UserError("--lora_dropout must be in [0, 1), got " + dropout);
    }

    public double scale() { return alpha / rank; }
}
