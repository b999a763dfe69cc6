package minimind4j.model;

import minimind4j.engine.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Gradient accumulation as the trainer does it (each micro-batch loss / accumulation_steps, gradients summed) equals
 * one big batch when every sample has the same number of supervised tokens: 2 x batch 2 == batch 4.
 */
class AccumulationTest {
    @Test
    void twoMicroBatchesOfTwoGiveTheGradientOfOneBatchOfFour() {
        ModelConfig c = ModelConfig.minimind2(32, 2, false).withVocabSize(64).withHeads(4, 2);
        RandomBatch batch = RandomBatch.of(64, 4, 10, 4, 5); // 6 supervised positions per row, 5 of them targets
        long[] ids = batch.ids(), labels = batch.labels();
        try (PointerScope s = Torch.scope(); MiniMindLM a = MiniMindLM.init(c, 9); MiniMindLM b = MiniMindLM.init(c, 9)) {
            a.loss(Torch.longs(ids, 4, 10), Torch.longs(labels, 4, 10)).total().backward();
            for (int half = 0; half < 2; half++) {
                long[] hi = java.util.Arrays.copyOfRange(ids, half * 20, half * 20 + 20);
                long[] hl = java.util.Arrays.copyOfRange(labels, half * 20, half * 20 + 20);
                b.loss(Torch.longs(hi, 2, 10), Torch.longs(hl, 2, 10)).total().div(Torch.scalar(2)).backward();
            }
            Map<String, float[]> ga = grads(a), gb = grads(b);
            for (String k : ga.keySet()) {
                float[] x = ga.get(k), y = gb.get(k);
                for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], 1e-6 + 1e-4 * Math.abs(x[i]), k + "[" + i + "]");
            }
        }
    }

    private static Map<String, float[]> grads(MiniMindLM m) {
        Map<String, float[]> g = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) g.put(e.getKey(), Torch.toFloats(e.getValue().grad()));
        return g;
    }
}
