package minimind4j.engine;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.CrossEntropyLossOptions;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The one thin layer over bytedeco's libtorch mapping. It exists so that model and trainer code read like the
 * PyTorch they mirror, and so that each trap of the mapping (see shared/notes/libtorch-java.md) is handled once:
 * native enums compared by value, AdamW betas stored in reverse order, explicit empty optionals.
 */
public final class Torch {
    private Torch() {}

    /** Native enums from libtorch are not identical to the Java constants; compare their values. */
    public static boolean is(Tensor t, ScalarType type) {
        return t.scalar_type().value == type.value;
    }

    public static Scalar scalar(double v) { return new Scalar(v); }

    public static Tensor longs(long[] data, long... shape) {
        try (LongPointer p = new LongPointer(data)) {
            return torch.from_blob(p, shape, new TensorOptions(ScalarType.Long)).clone();
        }
    }

    public static Tensor floats(float[] data, long... shape) {
        try (FloatPointer p = new FloatPointer(data)) {
            return torch.from_blob(p, shape, new TensorOptions(ScalarType.Float)).clone();
        }
    }

    public static float[] toFloats(Tensor t) {
        Tensor c = t.detach().to(ScalarType.Float).cpu().contiguous();
        float[] out = new float[(int) c.numel()];
        new FloatPointer(c.data_ptr_float()).capacity(out.length).get(out);
        return out;
    }

    public static long[] toLongs(Tensor t) {
        Tensor c = t.detach().to(ScalarType.Long).cpu().contiguous();
        long[] out = new long[(int) c.numel()];
        new LongPointer(c.data_ptr_long()).capacity(out.length).get(out);
        return out;
    }

    public static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) s[i] = t.size(i);
        return s;
    }

    public static Tensor zeros(ScalarType type, long... shape) {
        return torch.zeros(shape, new TensorOptions(type));
    }

    public static Tensor linear(Tensor x, Tensor weight) {
        return torch.linear(x, weight);
    }

    /**
     * Scaled-dot-product attention. q [B,H,T,D]; k, v [B,KV,S,D] with H a multiple of KV: each KV head serves H/KV
     * consecutive query heads, exactly as MiniMind's repeat_kv does. fp32 and CUDA take libtorch's fused kernel; bf16
     * and fp16 on a CPU take {@link #mathAttention}, because libtorch's fused CPU kernel is ~12x slower in bf16 than
     * in fp32 (measured on an AMD EPYC Zen 4 with AVX512-BF16, batch 16 x 8 heads x 340 tokens, forward + backward:
     * fused bf16 1.19-1.38 s, fused fp32 0.10-0.38 s, math in bf16 0.11-0.12 s).
     */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, boolean causal) {
        if (lowPrecisionOnCpu(q)) return mathAttention(q, k, v, causal, null);
        return torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, causal, new DoubleOptional(), true);
    }

    /** Attention with an explicit boolean mask [B,1,T,S] (true = may attend); used for packed sequences and decoding. */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor allowed) {
        if (lowPrecisionOnCpu(q)) return mathAttention(q, k, v, false, allowed);
        return torch.scaled_dot_product_attention(q, k, v, new TensorOptional(allowed), 0.0, false, new DoubleOptional(), true);
    }

    private static boolean lowPrecisionOnCpu(Tensor q) {
        return !q.is_cuda() && (is(q, ScalarType.BFloat16) || is(q, ScalarType.Half));
    }

    /**
     * Attention as two batched GEMMs and a softmax, all in q's type (bf16 GEMMs run on the CPU's bf16 dot products; the
     * softmax kernel computes in fp32 and rounds its output). Grouped-query attention without copying keys or
     * values: the H/KV query heads that share a KV head are stacked as rows, q [B*KV, (H/KV)*T, D] against
     * k [B*KV, S, D], so row r of a group is query position r mod T. The mask is added inside the first GEMM
     * (baddbmm: 0 or -inf). A causal mask lets query t see keys 0..t, as the fused kernel's is_causal does
     * (top-left aligned; a decode step with a cache passes its own mask). q is scaled before the GEMM: 1/sqrt(64) is
     * a power of two, exact in bf16. Autocast is suspended inside: the inputs already have their type, and CPU
     * autocast would run the softmax in fp32 and add a cast each way.
     */
    static Tensor mathAttention(Tensor q, Tensor k, Tensor v, boolean causal, Tensor allowed) {
        long b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3), kv = k.size(1), s = k.size(2), g = h / kv;
        try (Precision.Region plain = Autocast.suspend(q.is_cuda() ? torch.DeviceType.CUDA : torch.DeviceType.CPU)) {
            Tensor rows = q.mul(scalar(1.0 / Math.sqrt(d))).reshape(b * kv, g * t, d);
            Tensor keys = k.reshape(b * kv, s, d).transpose(-2, -1), values = v.reshape(b * kv, s, d);
            Tensor blocked = null;
            if (causal) {
                Tensor queryPos = torch.arange(scalar(t), optionsLike(q, ScalarType.Long)).repeat(g).unsqueeze(1);
                Tensor keyPos = torch.arange(scalar(s), optionsLike(q, ScalarType.Long)).unsqueeze(0);
                blocked = keyPos.gt(queryPos);  // [G*T, S]
            } else if (allowed != null) {
                // [B or 1, 1, T, S] (or [T, S]) -> [B or 1, 1, G*T, S]: group blocks stacked like the query rows
                blocked = allowed.logical_not().repeat(1, 1, g, 1);
            }
            Tensor scores;
            if (blocked == null) {
                scores = torch.bmm(rows, keys);
            } else {
                Tensor bias = zerosLike(q, q.scalar_type(), 1).expand(blocked.sizes()).masked_fill(blocked, scalar(Double.NEGATIVE_INFINITY));
                if (bias.dim() == 4) bias = bias.expand(b, kv, g * t, s).reshape(b * kv, g * t, s);
                scores = torch.baddbmm(bias, rows, keys, scalar(1.0), scalar(1.0));
            }
            return torch.bmm(scores.softmax(-1), values).reshape(b, h, t, d);
        }
    }

    /** Mean cross-entropy over targets that are not -100 (PyTorch's ignore_index convention). */
    public static Tensor crossEntropy(Tensor logits2d, Tensor targets1d) {
        CrossEntropyLossOptions ce = new CrossEntropyLossOptions();
        ce.ignore_index().put(-100L);
        return torch.cross_entropy(logits2d, targets1d, ce);
    }

    /** AdamW with PyTorch's argument order; the native options store betas as (beta2, beta1). */
    public static AdamW adamW(TensorVector params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        AdamWOptions o = new AdamWOptions(lr);
        o.betas().put(0, beta2);
        o.betas().put(1, beta1);
        o.eps().put(eps);
        o.weight_decay().put(weightDecay);
        return new AdamW(params, o);
    }

    /**
     * Intra-op threads when the user sets none: one core is left to the JVM (GC, JIT, the batch loader). Measured on
     * the 2-core CI machine, one thread beat two on everything: a [5440x512]x[512x1536] GEMM 172 vs 166 GFLOP/s, a
     * default-model SFT step 2.7 vs 4.2 s, a 1M-parameter model's step 0.23 vs 0.73 s, decoding 40 vs 13 tokens/s.
     */
    /** Seconds of {@code a.matmul(b)}, best of {@code reps} after a warm-up: on a shared machine a slow repetition measures the neighbours. */
    public static double bestMatmulSeconds(Tensor a, Tensor b, int reps) {
        boolean cuda = a.is_cuda();
        try (PointerScope s = scope()) {
            a.matmul(b);
            double best = Double.MAX_VALUE;
            for (int rep = 0; rep < reps; rep++) {
                try (PointerScope s2 = scope()) {
                    long t0 = System.nanoTime();
                    a.matmul(b);
                    if (cuda) torch.cuda_synchronize();
                    best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                }
            }
            return best;
        }
    }

    /**
     * Training's intra-op threads when none are asked for: cores - 1. At 1 thread OpenBLAS still runs its GEMMs on every
     * core with its own pool; a second OpenMP thread competes with it (README, "Threads").
     */
    public static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    }

    public static void setThreads(int n) {
        torch.set_num_threads(n);
    }

    public static int threads() {
        return torch.get_num_threads();
    }

    public static void seed(long seed) {
        torch.manual_seed(seed);
    }

    /** Whether libtorch has Apple's Metal backend and a Metal device (only bytedeco's macosx-arm64 natives have one). */
    public static boolean mpsAvailable() {
        return torch.hasMPS();
    }

    public static boolean cudaAvailable() {
        return torch.cuda_is_available();
    }

    public static int cudaDeviceCount() {
        return torch.cuda_device_count();
    }

    public static Device device(String name) {
        return new Device(name);
    }

    /** Options for a new tensor of {@code type} on the device of {@code like}. */
    public static TensorOptions optionsLike(Tensor like, ScalarType type) {
        return new TensorOptions(type).device(new DeviceOptional(like.device()));
    }

    /** Zeros of {@code type} on the device of {@code like}. */
    public static Tensor zerosLike(Tensor like, ScalarType type, long... shape) {
        return torch.zeros(shape, optionsLike(like, type));
    }

    /** Ids as a Long tensor on the device of {@code like}. */
    public static Tensor longsLike(Tensor like, long[] data, long... shape) {
        Tensor t = longs(data, shape);
        return like.is_cuda() ? t.to(like.device(), ScalarType.Long) : t;
    }

    public static ScalarTypeOptional noType() {
        return new ScalarTypeOptional();
    }

    /**
     * Keeps a tensor alive past the PointerScope it was made in (model weights, optimizer state, KV caches);
     * pair with {@link #free}. Inside a scope this is the difference between a long-lived tensor and a use-after-free.
     */
    public static Tensor keep(Tensor t) {
        t.retainReference();
        return t;
    }

    /** Releases a tensor kept with {@link #keep}. */
    public static void free(Tensor t) {
        t.releaseReference();
    }

    /** Every native object made inside the scope is freed when it closes; see the memory rule in the notes. */
    public static PointerScope scope() {
        return new PointerScope();
    }
}
