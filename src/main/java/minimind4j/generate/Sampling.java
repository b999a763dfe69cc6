package minimind4j.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * MiniMind's sampling rules (MiniMindForCausalLM.generate) applied to one row of logits: divide by temperature,
 * repetition penalty on every token seen so far, keep the top_k, then the smallest set whose probability reaches
 * top_p, and draw. Temperature 0 means greedy (argmax).
 */
public record Sampling(double temperature, double topP, int topK, double repetitionPenalty) {

    public static final Sampling GREEDY = new Sampling(0, 1, 0, 1);

    public int next(float[] logitsIn, int[] seen, int seenCount, SplittableRandom random) {
        int v = logitsIn.length;
        if (temperature <= 0 && repetitionPenalty == 1.0) return argmax(logitsIn);
        double[] logits = new double[v];
        double t = temperature <= 0 ? 1 : temperature;
        for (int i = 0; i < v; i++) logits[i] = logitsIn[i] / t;
        if (repetitionPenalty != 1.0) {
            boolean[] done = new boolean[v];
            for (int k = 0; k < seenCount; k++) {
                int id = seen[k];
                if (id < 0 || id >= v || done[id]) continue;
                done[id] = true;
                logits[id] = logits[id] > 0 ? logits[id] / repetitionPenalty : logits[id] * repetitionPenalty;
            }
        }
        if (temperature <= 0) return argmax(logits);
        if (topK > 0 && topK < v) {
            double[] sorted = logits.clone();
            Arrays.sort(sorted);
            double kth = sorted[v - topK];
            for (int i = 0; i < v; i++) if (logits[i] < kth) logits[i] = Double.NEGATIVE_INFINITY;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double x : logits) max = Math.max(max, x);
        double[] p = new double[v];
        double z = 0;
        for (int i = 0; i < v; i++) {
            p[i] = Math.exp(logits[i] - max);
            z += p[i];
        }
        for (int i = 0; i < v; i++) p[i] /= z;
        if (topP < 1.0) {
            // only tokens still possible take part (after top_k, a handful of 6400): tokens at probability 0 add
            // nothing to the running sum, and the stable sort keeps the rest in the order a sort of all would give
            int live = 0;
            for (int i = 0; i < v; i++) if (p[i] > 0) live++;
            Integer[] order = new Integer[live];
            for (int i = 0, k = 0; i < v; i++) if (p[i] > 0) order[k++] = i;
            Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
            double cum = 0;
            boolean cut = false;
            for (int r = 0; r < live; r++) {
                int id = order[r];
                // the token that crosses top_p is kept, as MiniMind's shifted mask does
                if (cut) p[id] = 0;
                cum += p[id];
                if (cum > topP) cut = true;
            }
            double s = 0;
            for (double x : p) s += x;
            for (int i = 0; i < v; i++) p[i] /= s;
        }
        double u = random.nextDouble(), acc = 0;
        int last = 0;
        for (int i = 0; i < v; i++) {
            if (p[i] <= 0) continue;
            acc += p[i];
            last = i;
            if (u < acc) return i;
        }
        return last;
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    static int argmax(double[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
