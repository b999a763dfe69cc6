package minimind4j.engine;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The attention bf16 takes on a CPU (two GEMMs and a softmax, grouped-query heads stacked as rows) against libtorch's
 * fused kernel: in fp32 the same numbers (the mask, the head grouping and the scale are right), in bf16 within bf16's
 * rounding of the fp32 result, forward and gradients.
 */
class AttentionTest {
    static Tensor fused(Tensor q, Tensor k, Tensor v, boolean causal, Tensor allowed) {
        return torch.scaled_dot_product_attention(q, k, v, allowed == null ? new TensorOptional() : new TensorOptional(allowed), 0.0, causal,
                new DoubleOptional(), true);
    }

    static double maxRel(Tensor a, Tensor b) {
        Tensor d = a.to(ScalarType.Float).sub(b.to(ScalarType.Float)).abs().max();
        return Torch.toFloats(d)[0] / Math.max(1e-12, Torch.toFloats(b.to(ScalarType.Float).abs().max())[0]);
    }

    /** q [2,8,T,16] against k/v [2,2,S,16]: 4 query heads per KV head, as in MiniMind2 (8/2). */
    static double[] compare(ScalarType type, long t, long s, boolean causal, boolean masked) {
        try (PointerScope scope = Torch.scope()) {
            Torch.seed(7);
            TensorOptions o = new TensorOptions(ScalarType.Float);
            Tensor q = torch.randn(new long[]{2, 8, t, 16}, o), k = torch.randn(new long[]{2, 2, s, 16}, o), v = torch.randn(new long[]{2, 2, s, 16}, o);
            Tensor allowed = null;
            if (masked) {
                // a packed-sequence mask: two documents, each causal within itself
                allowed = torch.tril(torch.ones(new long[]{t, s}, new TensorOptions(ScalarType.Bool)), s - t);
                allowed = allowed.logical_and(torch.arange(Torch.scalar(s)).lt(Torch.scalar(s / 2)).unsqueeze(0)
                        .eq(torch.arange(Torch.scalar(t)).add(Torch.scalar(s - t)).lt(Torch.scalar(s / 2)).unsqueeze(1))).unsqueeze(0).unsqueeze(0);
            }
            Tensor[] in32 = {q.clone().set_requires_grad(true), k.clone().set_requires_grad(true), v.clone().set_requires_grad(true)};
            Tensor ref = fused(in32[0], in32[1], in32[2], causal, allowed);
            Tensor w = torch.randn(ref.sizes(), o);
            ref.mul(w).sum().backward();
            Tensor[] inT = {q.to(type).set_requires_grad(true), k.to(type).set_requires_grad(true), v.to(type).set_requires_grad(true)};
            Tensor out = Torch.mathAttention(inT[0], inT[1], inT[2], causal, allowed);
            out.to(ScalarType.Float).mul(w).sum().backward();
            return new double[]{maxRel(out, ref), maxRel(inT[0].grad(), in32[0].grad()), maxRel(inT[1].grad(), in32[1].grad()), maxRel(inT[2].grad(), in32[2].grad())};
        }
    }

    @Test
    void inFp32TheMathPathIsTheFusedKernel() {
        for (double[] r : new double[][]{compare(ScalarType.Float, 12, 12, true, false), compare(ScalarType.Float, 3, 12, true, false),
                compare(ScalarType.Float, 12, 12, false, true), compare(ScalarType.Float, 12, 12, false, false)})
            for (double x : r) assertTrue(x < 1e-5, "math vs fused in fp32: " + java.util.Arrays.toString(r));
    }

    /** bf16 keeps 8 bits of mantissa (relative rounding 2^-8 = 0.4%); measured here: output and gradients within ~1%. */
    @Test
    void inBf16TheMathPathIsTheFp32ResultRounded() {
        for (double[] r : new double[][]{compare(ScalarType.BFloat16, 24, 24, true, false), compare(ScalarType.BFloat16, 24, 24, false, true)}) {
            System.out.println("bf16 math attention vs fp32 fused (out, dq, dk, dv): " + java.util.Arrays.toString(r));
            for (double x : r) assertTrue(x < 0.03, "bf16 math vs fp32 fused: " + java.util.Arrays.toString(r));
        }
    }

    @Test
    void bf16OnACpuTakesTheMathPath() {
        try (PointerScope scope = Torch.scope()) {
            TensorOptions o = new TensorOptions(ScalarType.Float);
            Tensor q = torch.randn(new long[]{1, 4, 5, 8}, o).to(ScalarType.BFloat16), k = torch.randn(new long[]{1, 2, 5, 8}, o).to(ScalarType.BFloat16);
            Tensor a = Torch.attention(q, k, k, true), b = Torch.mathAttention(q, k, k, true, null);
            assertTrue(Torch.toFloats(a.sub(b).abs().max())[0] == 0f, "Torch.attention in bf16 on a CPU is the math path");
        }
    }
}
