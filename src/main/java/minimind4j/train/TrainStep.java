package minimind4j.train;

import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The compute of one training step, as sft, pretrain and lora run it, {@code bench} times it and {@code --dtype auto}
 * measures it: the forward pass under the run's autocast with one host read of the loss parts, then (by the caller)
 * the backward, then the update: unscale (float16), clip, AdamW, zero. The loop around it (schedule, accumulation,
 * skipping, logging, saving) is {@link Trainer}'s.
 */
public final class TrainStep {
    private TrainStep() {}

    /** The loss parts of a micro-step and their values read back (one host round trip for the three). */
    public record Forward(MiniMindLM.Loss loss, double total, double logits, double aux) {}

    /**
     * @param fullLogits MiniMind's computation (logits on every position) instead of only the supervised ones
     */
    public static Forward forward(MiniMindLM model, Precision precision, Tensor ids, Tensor labels, boolean fullLogits) {
        return forward(model, precision, ids, labels, fullLogits ? MiniMindLM::lossFullLogits : StepLoss.LANGUAGE_MODEL);
    }

    /** The forward of the stage's loss ({@link StepLoss}: the language model's, or DPO's against its reference). */
    public static Forward forward(MiniMindLM model, Precision precision, Tensor ids, Tensor labels, StepLoss loss) {
        MiniMindLM.Loss l;
        try (Precision.Region autocast = precision.autocastRegion()) {
            l = loss.loss(model, ids, labels);
        }
        return read(l);
    }

    /** Reads a loss's three parts to the host at once (on CUDA each separate read would wait for the forward). */
    public static Forward read(MiniMindLM.Loss l) {
        float[] v = Torch.toFloats(torch.stack(new TensorVector(
                l.total().detach().to(ScalarType.Float), l.logitsLoss().detach().to(ScalarType.Float), l.auxLoss().detach().to(ScalarType.Float))));
        return new Forward(l, v[0], v[1], v[2]);
    }

    /**
     * MiniMind's optimizer: {@code optim.AdamW(params, lr=args.learning_rate)}, i.e. PyTorch's AdamW defaults (betas
     * 0.9/0.999, eps 1e-8, weight decay 0.01), for training and for every measurement of its step.
     */
    public static AdamW optimizer(TensorVector params, double lr) {
        return Torch.adamW(params, lr, 0.9, 0.999, 1e-8, 0.01);
    }

    /**
     * MiniMind's scaler.unscale_, clip_grad_norm_, scaler.step, scaler.update, zero_grad, on gradients already
     * averaged across ranks. The norm is non-finite exactly when some gradient element is, which is the check
     * GradScaler makes before it skips a step; the step is then not taken.
     *
     * @return the gradient norm before clipping
     */
    public static double update(AdamW opt, TensorVector params, GradScaler scaler, double clip) {
        scaler.unscale(params);
        double norm = torch.clip_grad_norm_(params, clip);
        boolean clean = Double.isFinite(norm);
        if (clean) opt.step();
        scaler.update(clean);
        opt.zero_grad(true);
        return norm;
    }
}
