package minimind4j.generate;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Sampling's top-p pass sorts only the tokens top-k left possible; here against MiniMind's rule written out over the
 * whole vocabulary (sort every token by probability, keep through the one that crosses top_p), draw for draw.
 */
class SamplingTopPTest {

    /** MiniMind's filtering over all v tokens, then the same inverse-CDF draw. */
    private static int reference(float[] in, double temperature, double topP, int topK, SplittableRandom random) {
        int v = in.length;
        double[] logits = new double[v];
        for (int i = 0; i < v; i++) logits[i] = in[i] / temperature;
        if (topK > 0 && topK < v) {
            double[] sorted = logits.clone();
            Arrays.sort(sorted);
            double kth = sorted[v - topK];
            for (int i = 0; i < v; i++) if (logits[i] < kth) logits[i] = Double.NEGATIVE_INFINITY;
        }
        double max = Arrays.stream(logits).max().orElseThrow();
        double[] p = new double[v];
        double z = 0;
        for (int i = 0; i < v; i++) z += p[i] = Math.exp(logits[i] - max);
        for (int i = 0; i < v; i++) p[i] /= z;
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        double cum = 0;
        boolean cut = false;
        for (int id : order) {
            if (cut) p[id] = 0;
            cum += p[id];
            if (cum > topP) cut = true;
        }
        double s = Arrays.stream(p).sum();
        for (int i = 0; i < v; i++) p[i] /= s;
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

    @Test
    void topPOverTheSurvivorsDrawsWhatTheFullSortDraws() {
        Random r = new Random(7);
        int[] none = new int[0];
        for (int trial = 0; trial < 300; trial++) {
            float[] logits = new float[6400];
            for (int i = 0; i < logits.length; i++) logits[i] = (float) (r.nextGaussian() * 3);
            if (trial % 3 == 0) for (int i = 0; i < 40; i++) logits[r.nextInt(100)] = 15f; // ties at the top
            double t = 0.5 + r.nextDouble();
            double topP = trial % 5 == 0 ? 0.3 : 0.92;
            int topK = trial % 4 == 0 ? 0 : 50;
            Sampling s = new Sampling(t, topP, topK, 1.0);
            assertEquals(reference(logits, t, topP, topK, new SplittableRandom(trial)),
                    s.next(logits, none, 0, new SplittableRandom(trial)), "trial " + trial);
        }
    }
}
