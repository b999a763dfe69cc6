package minimind4j.bench;

import minimind4j.data.Batch;
import minimind4j.data.Sample;
import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code bench --breakdown}: where the default training step's time goes, by op family. libtorch's profiler is not
 * reachable from the Java binding (its callbacks are C++ function objects), so each family is timed on its own, forward
 * and backward, at the shapes the timed batches give it (rows, longest sample, supervised positions), as many times as
 * one step runs it, under the step's precision and thread count. What the families do not account for of the measured
 * step is autograd bookkeeping, allocation and the copies between ops: the "rest" row. A dense (non-MoE) model only.
 */
public final class StepBreakdown {
    private StepBreakdown() {}

    /** Seconds per step of each family, summed over the timed batches and divided by their count. */
    public static Map<String, Object> run(ModelConfig c, List<List<Sample>> batches, Precision precision, double stepSeconds,
                                   Map<?, ?> timeSplit, Say out) {
        Map<String, Object> report = new LinkedHashMap<>();
        if (c.useMoe()) {
            out.say("breakdown: a dense model only (MoE experts run on a data-dependent share of the tokens)");
            return report;
        }
        Map<String, Double> secs = new LinkedHashMap<>();
        for (String f : FAMILIES) secs.put(f, 0.0);
        for (int i = 0; i < batches.size(); i++) {
            Batch b = Batch.of(batches.get(i), 0, 0);
            // batch 0 warms the allocator and the kernels' caches, as in the timed step
            Map<String, Double> one = familiesOnce(c, b, precision);
            if (i == 0) continue;
            one.forEach((k, v) -> secs.merge(k, v, Double::sum));
        }
        int timed = Math.max(1, batches.size() - 1);
        secs.replaceAll((k, v) -> v / timed);
        double optimizer = stepSeconds * ((Number) timeSplit.get("optimizer")).doubleValue();
        secs.put("optimizer (clip + AdamW)", optimizer);
        double listed = secs.values().stream().mapToDouble(Double::doubleValue).sum();
        out.say("where a default step's %.2f s go (each op family timed alone at the step's shapes, forward + backward):", stepSeconds);
        for (Map.Entry<String, Double> e : secs.entrySet()) {
            out.say("  %-58s %7.3f s %5.1f%%", e.getKey(), e.getValue(), 100 * e.getValue() / stepSeconds);
            report.put(e.getKey(), e.getValue());
        }
        double rest = stepSeconds - listed;
        out.say("  %-58s %7.3f s %5.1f%%", "rest (step minus the rows: autograd, allocation, copies)", rest, 100 * rest / stepSeconds);
        if (rest < 0) out.say("  (negative: each family alone, on fresh inputs, misses the cache reuse of the whole step, so the rows overstate a little)");
        report.put("rest", rest);
        report.put("step_seconds", stepSeconds);
        // host round trips: on a CPU every op has finished when it returns, so a read of a value waits for nothing
        out.say("  host round trips per training step: 2 (the loss triple, read once before backward; the gradient norm)%s",
                precision.cuda() ? "" : "; on a CPU they wait for nothing");
        report.put("host_round_trips_per_step", 2);
        return report;
    }

    public static final List<String> FAMILIES = List.of(
            "matmul: q/k/v, o, gate/up, down projections",
            "matmul: lm_head on supervised positions",
            "attention (causal, GQA; fused SDPA, or the math path for bf16 on a CPU)",
            "RMSNorm",
            "rotary embedding (q, k)",
            "SwiGLU activation (silu(gate) * up)",
            "residual adds",
            "cross-entropy over supervised positions",
            "embedding lookup",
            "casts of fp32 weights to the autocast type");

    private static Map<String, Double> familiesOnce(ModelConfig c, Batch b, Precision precision) {
        long rows = b.rows(), t = b.cols(), n = b.supervised();
        int h = c.hiddenSize(), heads = c.numAttentionHeads(), kv = c.numKeyValueHeads(), d = c.headDim(), inter = c.intermediateSize();
        int layers = c.numHiddenLayers();
        long[] hidden = {rows, t, h};
        Map<String, Double> s = new LinkedHashMap<>();
        try (PointerScope scope = Torch.scope()) {
            Tensor wQkv = weight(precision, (long) (heads + 2 * kv) * d, h), wO = weight(precision, h, (long) heads * d);
            Tensor wGateUp = weight(precision, 2L * inter, h), wDown = weight(precision, h, inter);
            Tensor embed = weight(precision, c.vocabSize(), h), norm = weight(precision, h);
            s.put(FAMILIES.get(0), layers * (
                    timed(precision, in -> Torch.linear(in[0], wQkv), hidden)
                    + timed(precision, in -> Torch.linear(in[0], wO), new long[]{rows, t, (long) heads * d})
                    + timed(precision, in -> Torch.linear(in[0], wGateUp), hidden)
                    + timed(precision, in -> Torch.linear(in[0], wDown), new long[]{rows, t, inter})));
            s.put(FAMILIES.get(1), n == 0 ? 0 : timed(precision, in -> Torch.linear(in[0], embed), new long[]{n, h}));
            s.put(FAMILIES.get(2), layers * timed(precision, in -> Torch.attention(in[0], in[1], in[2], true),
                    new long[]{rows, heads, t, d}, new long[]{rows, kv, t, d}, new long[]{rows, kv, t, d}));
            double norms = (2 * layers + 1) * timed(precision, in -> MiniMindLM.rmsNorm(in[0], norm, c.rmsNormEps()), hidden);
            if (c.qkNorm()) {
                Tensor headNorm = weight(precision, d);
                norms += layers * (timed(precision, in -> MiniMindLM.rmsNorm(in[0], headNorm, c.rmsNormEps()), new long[]{rows, t, heads, d})
                        + timed(precision, in -> MiniMindLM.rmsNorm(in[0], headNorm, c.rmsNormEps()), new long[]{rows, t, kv, d}));
            }
            s.put(FAMILIES.get(3), norms);
            Tensor[] rope = MiniMindLM.rotaryTables(d, (int) t, c.ropeTheta());
            Tensor cos = precision.to(rope[0]).unsqueeze(1), sin = precision.to(rope[1]).unsqueeze(1);
            s.put(FAMILIES.get(4), layers * (timed(precision, in -> MiniMindLM.rotary(in[0], cos, sin), new long[]{rows, t, heads, d})
                    + timed(precision, in -> MiniMindLM.rotary(in[0], cos, sin), new long[]{rows, t, kv, d})));
            s.put(FAMILIES.get(5), layers * timed(precision, in -> torch.silu(in[0]).mul(in[1]), new long[]{rows, t, inter}, new long[]{rows, t, inter}));
            s.put(FAMILIES.get(6), 2 * layers * timed(precision, in -> in[0].add(in[1]), hidden, hidden));
            Tensor targets = precision.to(torch.randint(c.vocabSize(), new long[]{Math.max(1, n)}, new TensorOptions(ScalarType.Long)));
            // the logits reach cross-entropy in fp32 (autocast runs it in fp32)
            s.put(FAMILIES.get(7), n == 0 ? 0 : timed(precision, in -> Torch.crossEntropy(in[0].to(ScalarType.Float), targets), new long[]{n, c.vocabSize()}));
            Tensor ids = precision.longs(b.ids(), b.rows(), b.cols());
            s.put(FAMILIES.get(8), timed(precision, in -> torch.embedding(embed, ids)));
            s.put(FAMILIES.get(9), precision.autocast() == null ? 0 : castSeconds(c, precision));
        }
        return s;
    }

    /**
     * Seconds of one forward (under the step's autocast) and backward of {@code op} on fresh random inputs of the
     * given shapes (in the autocast type, needing gradients); making the inputs is not timed. A first untimed call
     * warms the kernels for these shapes.
     */
    private static double timed(Precision precision, java.util.function.Function<Tensor[], Tensor> op, long[]... shapes) {
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 2; round++) {
            try (PointerScope scope = Torch.scope()) {
                Tensor[] in = new Tensor[shapes.length];
                for (int i = 0; i < shapes.length; i++) {
                    Tensor x = precision.to(torch.randn(shapes[i], new TensorOptions(ScalarType.Float)));
                    if (precision.autocast() != null) x = x.to(precision.autocast());
                    x.set_requires_grad(true);
                    in[i] = x;
                }
                long t0 = System.nanoTime();
                Tensor y;
                try (Precision.Region r = precision.autocastRegion()) {
                    y = op.apply(in);
                }
                y.backward(torch.ones_like(y), new BoolOptional(), false, new TensorArrayRefOptional());
                sync(precision);
                if (round > 0) best = (System.nanoTime() - t0) / 1e9;
            }
        }
        return best;
    }

    private static Tensor weight(Precision precision, long... shape) {
        Tensor w = precision.to(torch.randn(shape, new TensorOptions(ScalarType.Float)));
        w.set_requires_grad(true);
        return w;
    }

    /** Every weight matrix of the model cast to the autocast type once and a gradient of its shape cast back. */
    private static double castSeconds(ModelConfig c, Precision precision) {
        double total = 0;
        try (PointerScope scope = Torch.scope()) {
            for (Map.Entry<String, long[]> e : MiniMindLM.expectedShapes(c).entrySet()) {
                long[] shape = e.getValue();
                if (shape.length < 2 || e.getKey().equals(MiniMindLM.EMBED)) continue;  // the tied weight is cast once, for lm_head
                Tensor w = precision.to(torch.randn(shape, new TensorOptions(ScalarType.Float)));
                long t0 = System.nanoTime();
                w.to(precision.autocast()).to(ScalarType.Float);
                sync(precision);
                total += (System.nanoTime() - t0) / 1e9;
            }
        }
        return total;
    }

    private static void sync(Precision precision) {
        if (precision.cuda()) torch.cuda_synchronize();
    }
}
