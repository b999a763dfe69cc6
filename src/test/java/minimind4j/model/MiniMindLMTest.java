package minimind4j.model;

import minimind4j.engine.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class MiniMindLMTest {

    @Test
    void defaultConfigHasMiniMindsKeysAndParameterCount() {
        ModelConfig c = ModelConfig.minimind2();
        assertEquals(1408, c.intermediateSize());
        assertEquals(75, MiniMindLM.expectedShapes(c).size());
        assertEquals(25_829_888L, MiniMindLM.parameterCount(c));
        // minimind-3 at 768/8: 64 * ceil(768*pi/64) = 2432, q/k norms add 2 keys per layer
        ModelConfig m3 = ModelConfig.minimind3(768, 8);
        assertEquals(2432, m3.intermediateSize());
        assertEquals(75 + 16, MiniMindLM.expectedShapes(m3).size());
    }

    @Test
    void moeKeysFollowMiniMind2Layout() {
        ModelConfig c = ModelConfig.minimind2(64, 1, true);
        var keys = MiniMindLM.expectedShapes(c).keySet();
        assertTrue(keys.contains("model.layers.0.mlp.experts.3.up_proj.weight"));
        assertTrue(keys.contains("model.layers.0.mlp.gate.weight"));
        assertTrue(keys.contains("model.layers.0.mlp.shared_experts.0.down_proj.weight"));
        assertArrayEquals(new long[]{4, 64}, MiniMindLM.expectedShapes(c).get("model.layers.0.mlp.gate.weight"));
    }

    @Test
    void lossAndLogitsMatchAPlainJavaForward() {
        for (boolean qkNorm : new boolean[]{false, true}) {
            ModelConfig base = qkNorm ? ModelConfig.minimind3(64, 2) : ModelConfig.minimind2(64, 2, false);
            ModelConfig c = base.withVocabSize(97).withHeads(4, 2);
            try (PointerScope s = Torch.scope(); MiniMindLM m = MiniMindLM.init(c, 7)) {
                m.train(false);
                long[] ids = {1, 5, 17, 42, 96, 3, 3, 60, 2};
                long[] labels = {-100, -100, -100, 42, 96, 3, -100, 60, 2};
                Tensor idsT = Torch.longs(ids, 1, ids.length);
                Tensor labT = Torch.longs(labels, 1, labels.length);
                float[] logits = Torch.toFloats(m.logits(m.forward(idsT, null, null, null).states()));
                Map<String, float[]> w = new HashMap<>();
                m.namedParameters().forEach((k, v) -> w.put(k, Torch.toFloats(v)));
                double[][] ref = ReferenceForward.logits(c, w, ids);
                for (int t = 0; t < ids.length; t++)
                    for (int v = 0; v < c.vocabSize(); v++)
                        assertEquals(ref[t][v], logits[t * c.vocabSize() + v], 2e-4, "logit t=" + t + " v=" + v);
                double refLoss = ReferenceForward.loss(ref, labels);
                assertEquals(refLoss, m.loss(idsT, labT).total().item_double(), 1e-4);
                assertEquals(refLoss, m.lossFullLogits(idsT, labT).total().item_double(), 1e-4);
            }
        }
    }

    @Test
    void moeForwardMatchesPlainJava() {
        ModelConfig c = ModelConfig.minimind2(32, 1, true).withVocabSize(50).withHeads(4, 2);
        try (PointerScope s = Torch.scope(); MiniMindLM m = MiniMindLM.init(c, 11)) {
            m.train(false);
            long[] ids = {1, 4, 9, 16, 25, 36, 49};
            float[] logits = Torch.toFloats(m.logits(m.forward(Torch.longs(ids, 1, ids.length), null, null, null).states()));
            Map<String, float[]> w = new HashMap<>();
            m.namedParameters().forEach((k, v) -> w.put(k, Torch.toFloats(v)));
            double[][] ref = ReferenceForward.logits(c, w, ids);
            for (int t = 0; t < ids.length; t++)
                for (int v = 0; v < c.vocabSize(); v++)
                    assertEquals(ref[t][v], logits[t * c.vocabSize() + v], 2e-4);
        }
    }

    @Test
    void kvCacheDecodingEqualsFullForward() {
        ModelConfig c = ModelConfig.minimind2(64, 2, false).withVocabSize(97).withHeads(4, 2);
        try (PointerScope s = Torch.scope(); MiniMindLM m = MiniMindLM.init(c, 3)) {
            m.train(false);
            long[] ids = {1, 8, 13, 21, 34, 55, 89, 2};
            float[] full = Torch.toFloats(m.logits(m.forward(Torch.longs(ids, 1, ids.length), null, null, null).states()));
            try (KvCache cache = new KvCache(c.numHiddenLayers())) {
                long[] prefix = {1, 8, 13};
                m.forward(Torch.longs(prefix, 1, prefix.length), null, null, cache);
                // a multi-token chunk (positions 3..5) on top of the cache: the offset causal mask lets position p see 0..p
                long[] chunk = {21, 34, 55};
                float[] chunkLogits = Torch.toFloats(m.logits(m.forward(Torch.longs(chunk, 1, chunk.length), null, null, cache).states()));
                for (int t = 0; t < chunk.length; t++)
                    for (int v = 0; v < c.vocabSize(); v++)
                        assertEquals(full[(3 + t) * c.vocabSize() + v], chunkLogits[t * c.vocabSize() + v], 1e-4, "chunk position " + (3 + t));
                for (int t = 6; t < ids.length; t++) {
                    float[] step = Torch.toFloats(m.logits(m.forward(Torch.longs(new long[]{ids[t]}, 1, 1), null, null, cache).states()));
                    for (int v = 0; v < c.vocabSize(); v++) assertEquals(full[t * c.vocabSize() + v], step[v], 1e-4);
                }
                assertEquals(ids.length, cache.length());
            }
        }
    }
}
