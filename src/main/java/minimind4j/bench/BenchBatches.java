package minimind4j.bench;

import minimind4j.data.Batch;
import minimind4j.data.LossMask;
import minimind4j.data.Sample;
import minimind4j.model.ModelConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** The samples a bench times when no --data is given, and the figures that describe any bench's batches. */
public final class BenchBatches {
    private BenchBatches() {}

    /** Lengths 30..max (log-normal around 120), the reply the last ~45% of each sample, random token ids. */
    public static List<Sample> synthetic(ModelConfig c, int n, int maxSeqLen, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double g = Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
            int len = (int) Math.max(30, Math.min(maxSeqLen, Math.round(Math.exp(Math.log(120) + 0.55 * g))));
            int[] ids = new int[len], labels = new int[len];
            int replyFrom = (int) (len * 0.55);
            for (int t = 0; t < len; t++) {
                ids[t] = 3 + r.nextInt(c.vocabSize() - 3);
                labels[t] = t >= replyFrom ? ids[t] : LossMask.IGNORE;
            }
            out.add(new Sample(i, "", ids, labels));
        }
        return out;
    }

    /** Count, mean tokens per sample, supervised and padding fractions. */
    public static Map<String, Object> stats(List<List<Sample>> batches) {
        long tokens = 0, positions = 0, supervised = 0;
        for (List<Sample> b : batches) {
            Batch block = Batch.of(b, 0, 0);
            tokens += block.tokens();
            supervised += block.supervised();
            positions += (long) block.rows() * block.cols();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", batches.size());
        m.put("mean_tokens_per_sample", (double) tokens / Math.max(1, batches.stream().mapToInt(List::size).sum()));
        m.put("supervised_fraction", (double) supervised / Math.max(1, tokens));
        m.put("padding_fraction", 1 - (double) tokens / Math.max(1, positions));
        return m;
    }

}
