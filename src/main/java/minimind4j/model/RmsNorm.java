package minimind4j.model;

import minimind4j.engine.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** MiniMind's RMSNorm with its weight: computed in fp32 whatever the input (it may be bf16 under autocast), cast back. */
final class RmsNorm {
    private final Tensor weight;
    private final double eps;

    RmsNorm(Tensor weight, double eps) {
        this.weight = weight;
        this.eps = eps;
    }

    Tensor forward(Tensor x) { return apply(x, weight, eps); }

    static Tensor apply(Tensor x, Tensor weight, double eps) {
        Tensor f = Torch.is(x, ScalarType.Float) ? x : x.to(ScalarType.Float);
        Tensor var = f.pow(Torch.scalar(2)).mean(new long[]{-1}, true, Torch.noType());
        return sameType(f.mul(var.add(Torch.scalar(eps)).rsqrt()).mul(weight), x);
    }

    /** {@code y.to(x.dtype)}: under autocast bf16 inputs meet fp32 weights or tables and MiniMind casts back. */
    static Tensor sameType(Tensor y, Tensor x) {
        return y.scalar_type().value == x.scalar_type().value ? y : y.to(x.scalar_type());
    }
}
