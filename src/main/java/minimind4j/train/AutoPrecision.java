package minimind4j.train;

import minimind4j.engine.CpuFeatures;
import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * {@code --dtype auto} on a CPU: times the training step this run will take ({@link TrainStep}, forward + backward +
 * update, on this model's shape) in each candidate precision and thread count, and takes the fastest. A GEMM rate
 * alone is the wrong question: on an AMD EPYC Zen 4 bf16 GEMMs ran ~2x faster than fp32 while the whole bf16 step
 * ran 3x slower (its attention kernel), so only the step says which is faster. bf16 is a candidate only where the
 * CPU has it natively (AMX, AVX512-BF16, arm64 BF16); emulated it is ~10x slower and never wins.
 *
 * <p>The measurement depends on the machine's load at that moment, so the choice is recorded with the run (see
 * {@link RunSettings}) and a resumed run keeps it.
 *
 * @param autocast BFloat16, or null for fp32
 * @param threads  intra-op threads
 * @param reason   what was measured, for the start line
 */
public record AutoPrecision(org.bytedeco.pytorch.global.torch.ScalarType autocast, int threads, String reason) {

    /** Tokens per timed step: about a fifth of a MiniMind2 batch (16 x 340), so the whole choice takes seconds. */
    static final int PROBE_TOKENS = 1024;

    public static AutoPrecision decide(CpuFeatures cpu, ModelConfig config, int maxSeqLen) {
        int previous = Torch.threads();
        List<String> dtypes = new ArrayList<>(List.of("float32"));
        if (cpu.nativeBf16()) dtypes.add("bfloat16");
        Set<Integer> threadCounts = new LinkedHashSet<>(List.of(1, Torch.defaultThreads(), Math.max(1, Runtime.getRuntime().availableProcessors())));
        int seqLen = Math.max(2, Math.min(maxSeqLen, 256)), rows = Math.max(1, PROBE_TOKENS / seqLen);
        List<Candidate> candidates = new ArrayList<>();
        for (String d : dtypes) for (int t : threadCounts) candidates.add(new Candidate(d, t));
        try (MiniMindLM model = MiniMindLM.init(config, 0)) {
            TensorVector params = model.parameters();
            AdamW opt = TrainStep.optimizer(params, 1e-12);
            Tensor[] batch = probeBatch(config, rows, seqLen);
            // a warm-up of each, then the best of two rounds, interleaved so that a burst of load hits every candidate
            for (int round = 0; round < 3; round++)
                for (Candidate c : candidates) {
                    double s = c.time(model, opt, params, batch);
                    if (round > 0) c.best = Math.min(c.best, s);
                }
            opt.close();
            for (Tensor t : batch) Torch.free(t);
        } finally {
            Torch.setThreads(previous);
        }
        Candidate best = candidates.get(0);
        for (Candidate c : candidates) if (c.best < best.best) best = c;
        List<String> measured = new ArrayList<>();
        for (Candidate c : candidates) measured.add(String.format(Locale.ROOT, "%s %dt %.3f s", c.dtype.equals("float32") ? "fp32" : "bf16", c.threads, c.best));
        String why = String.format(Locale.ROOT, "auto: %s: a training step of this model (%d x %d tokens) timed %s%s", cpuLine(cpu),
                rows, seqLen, String.join(", ", measured), cpu.nativeBf16() ? "" : "; bf16 would be emulated, ~10x slower");
        return new AutoPrecision(best.dtype.equals("float32") ? null : org.bytedeco.pytorch.global.torch.ScalarType.BFloat16, best.threads, why);
    }

    private static String cpuLine(CpuFeatures cpu) {
        return cpu.model() + ", " + cpu.bf16Summary();
    }

    /** Random ids with every position supervised: the step's cost, not its numbers, is what is measured. */
    private static Tensor[] probeBatch(ModelConfig c, int rows, int cols) {
        Random r = new Random(0);
        long[] ids = new long[rows * cols];
        for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(c.vocabSize());
        return new Tensor[]{Torch.keep(Torch.longs(ids, rows, cols)), Torch.keep(Torch.longs(ids, rows, cols))};
    }

    private static final class Candidate {
        final String dtype;
        final int threads;
        double best = Double.MAX_VALUE;

        Candidate(String dtype, int threads) {
            this.dtype = dtype;
            this.threads = threads;
        }

        double time(MiniMindLM model, AdamW opt, TensorVector params, Tensor[] batch) {
            Torch.setThreads(threads);
            Precision p = Precision.resolve("cpu", dtype, -1);
            try (PointerScope scope = Torch.scope()) {
                long t0 = System.nanoTime();
                TrainStep.Forward f = TrainStep.forward(model, p, batch[0], batch[1], false);
                f.loss().total().backward();
                TrainStep.update(opt, params, new GradScaler(false), 1.0);
                return (System.nanoTime() - t0) / 1e9;
            }
        }
    }
}
