package minimind4j.train;

import minimind4j.engine.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Dynamic loss scaling for float16 autocast, as {@code torch.amp.GradScaler} with its defaults: the loss is multiplied
 * by the scale (2^16 at first) before backward so small fp16 gradients do not flush to zero; gradients are divided by
 * it before clipping; a step whose gradients hold inf/NaN is skipped and halves the scale; 2000 clean steps in a row
 * double it. The scale is a power of two, so scaling and unscaling fp32 gradients is exact.
 *
 * <p>Disabled (bf16 or fp32), every method is the identity and every step counts as clean, which is how MiniMind
 * builds its scaler ({@code enabled=(dtype == 'float16')}).
 */
public final class GradScaler {
    static final double INIT_SCALE = 65536.0, GROWTH_FACTOR = 2.0, BACKOFF_FACTOR = 0.5;
    static final int GROWTH_INTERVAL = 2000;

    private final boolean enabled;
    private final int growthInterval;
    private double scale = INIT_SCALE;
    private int growthTracker;

    public GradScaler(boolean enabled) {
        this(enabled, GROWTH_INTERVAL);
    }

    GradScaler(boolean enabled, int growthInterval) {
        this.enabled = enabled;
        this.growthInterval = growthInterval;
    }

    boolean enabled() { return enabled; }

    double scale() { return scale; }

    public Tensor scale(Tensor loss) {
        return enabled ? loss.mul(Torch.scalar(scale)) : loss;
    }

    /** Divides every gradient by the scale, in place, before the norm is taken and clipped. */
    void unscale(TensorVector params) {
        if (!enabled) return;
        org.bytedeco.pytorch.Scalar inverse = Torch.scalar(1.0 / scale);
        for (long i = 0; i < params.size(); i++) {
            Tensor g = params.get(i).grad();
            if (g.defined()) g.mul_(inverse);
        }
    }

    /** After a step: {@code clean} = the gradients were all finite (the step was taken). */
    void update(boolean clean) {
        if (!enabled) return;
        if (!clean) {
            scale *= BACKOFF_FACTOR;
            growthTracker = 0;
        } else if (++growthTracker >= growthInterval) {
            scale *= GROWTH_FACTOR;
            growthTracker = 0;
        }
    }

    /** PyTorch's GradScaler.state_dict() keys, so a MiniMind user reading the resume file finds what they expect. */
    Map<String, Object> stateDict() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (!enabled) return m;
        m.put("scale", scale);
        m.put("growth_factor", GROWTH_FACTOR);
        m.put("backoff_factor", BACKOFF_FACTOR);
        m.put("growth_interval", (long) growthInterval);
        m.put("_growth_tracker", (long) growthTracker);
        return m;
    }

    void load(Map<?, ?> state) {
        if (!enabled || state == null || !(state.get("scale") instanceof Number s)) return;
        scale = s.doubleValue();
        if (state.get("_growth_tracker") instanceof Number t) growthTracker = t.intValue();
    }
}
