package minimind4j.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import minimind4j.TestPython;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sampling rules of chat and serve's default path (temperature, top_k, top_p, repetition penalty) against MiniMind's
 * own generate() lines run in real PyTorch (src/test/python/minimind_sampling.py): the empirical distribution of
 * 100,000 draws must match torch's probabilities per token, and a token torch gives probability 0 must never be drawn.
 */
class SamplingTest {
    static final int DRAWS = 100_000;

    record Case(String name, Sampling sampling, float[] logits, int[] seen) {}

    static float[] logits(int v, long seed) {
        Random r = new Random(seed);
        float[] x = new float[v];
        for (int i = 0; i < v; i++) x[i] = (float) (r.nextGaussian() * 2);
        return x;
    }

    @Test
    void drawsFollowMiniMindsDistributionAsTorchComputesIt() throws Exception {
        float[] small = logits(16, 1), wide = logits(64, 2);
        // the seen tokens include both positive and negative logits (the penalty divides one, multiplies the other)
        int[] seen = {0, 3, 5, 7, 3, 11};
        List<Case> cases = List.of(
                new Case("temperature only", new Sampling(0.7, 1.0, 0, 1.0), small, new int[]{1}),
                new Case("top_k 4", new Sampling(1.0, 1.0, 4, 1.0), small, new int[]{1}),
                new Case("top_p 0.8", new Sampling(1.0, 0.8, 0, 1.0), small, new int[]{1}),
                new Case("repetition penalty 1.3", new Sampling(1.0, 1.0, 0, 1.3), small, seen),
                new Case("all four", new Sampling(1.3, 0.7, 6, 1.2), small, seen),
                new Case("chat's defaults (0.85, top_p 0.85, top_k 50)", new Sampling(0.85, 0.85, 50, 1.0), wide, new int[]{2, 9}));
        for (Case c : cases) {
            boolean negativeSeen = false, positiveSeen = false;
            for (int s : c.seen()) {
                negativeSeen |= c.logits()[s] < 0;
                positiveSeen |= c.logits()[s] > 0;
            }
            if (c.sampling().repetitionPenalty() != 1.0) assertTrue(negativeSeen && positiveSeen, c.name());
        }
        ObjectMapper json = new ObjectMapper();
        ArrayNode input = json.createArrayNode();
        for (Case c : cases) {
            ObjectNode o = input.addObject();
            ArrayNode l = o.putArray("logits");
            for (float f : c.logits()) l.add(f);
            ArrayNode s = o.putArray("seen");
            for (int id : c.seen()) s.add(id);
            o.put("temperature", c.sampling().temperature());
            o.put("top_k", c.sampling().topK());
            o.put("top_p", c.sampling().topP());
            o.put("repetition_penalty", c.sampling().repetitionPenalty());
        }
        JsonNode torch = json.readTree(TestPython.run(new String[]{"torch"}, input.toString(), "src/test/python/minimind_sampling.py"));
        for (int k = 0; k < cases.size(); k++) {
            Case c = cases.get(k);
            int v = c.logits().length;
            long[] counts = new long[v];
            SplittableRandom random = new SplittableRandom(1234 + k);
            for (int i = 0; i < DRAWS; i++) counts[c.sampling().next(c.logits(), c.seen(), c.seen().length, random)]++;
            int kept = 0;
            List<String> report = new ArrayList<>();
            for (int t = 0; t < v; t++) {
                double p = torch.get(k).get(t).asDouble(), f = counts[t] / (double) DRAWS;
                report.add(t + ": torch " + String.format("%.4f", p) + " drawn " + String.format("%.4f", f));
                if (p == 0) {
                    assertEquals(0, counts[t], c.name() + ": token " + t + " has probability 0 in torch\n" + report);
                } else {
                    kept++;
                    double sd = Math.sqrt(p * (1 - p) / DRAWS);
                    assertEquals(p, f, 5 * sd + 1e-4, c.name() + ": token " + t);
                }
            }
            if (c.sampling().topK() > 0 && c.sampling().topK() < v) assertTrue(kept <= c.sampling().topK(), c.name());
            if (c.sampling().topP() < 1) assertTrue(kept >= 2, c.name() + ": the cut keeps more than the top token, else top_p is not exercised");
            if (c.sampling().topP() < 1 || (c.sampling().topK() > 0 && c.sampling().topK() < v)) assertTrue(kept < v, c.name() + " cuts something");
        }
    }
}
