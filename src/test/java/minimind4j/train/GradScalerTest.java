package minimind4j.train;

import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.model.RandomBatch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Loss scaling as torch.amp.GradScaler does it: exact for finite gradients, skip-and-back-off on overflow. */
class GradScalerTest {
    @Test
    void scaledBackwardThenUnscaleGivesBitIdenticalUpdates() {
        ModelConfig c = ModelConfig.minimind2(32, 2, false).withVocabSize(64).withHeads(4, 2);
        RandomBatch batch = RandomBatch.of(64, 3, 12, 5, 8);
        long[] ids = batch.ids(), labels = batch.labels();
        GradScaler scaler = new GradScaler(true);
        try (PointerScope s = Torch.scope(); MiniMindLM plain = MiniMindLM.init(c, 2); MiniMindLM scaled = MiniMindLM.init(c, 2)) {
            AdamW a = Torch.adamW(plain.parameters(), 1e-2, 0.9, 0.999, 1e-8, 0.01);
            AdamW b = Torch.adamW(scaled.parameters(), 1e-2, 0.9, 0.999, 1e-8, 0.01);
            for (int step = 0; step < 3; step++) {
                plain.loss(Torch.longs(ids, 3, 12), Torch.longs(labels, 3, 12)).total().backward();
                double na = torch.clip_grad_norm_(plain.parameters(), 1.0);
                a.step();
                a.zero_grad(true);

                scaler.scale(scaled.loss(Torch.longs(ids, 3, 12), Torch.longs(labels, 3, 12)).total()).backward();
                scaler.unscale(scaled.parameters());
                double nb = torch.clip_grad_norm_(scaled.parameters(), 1.0);
                b.step();
                b.zero_grad(true);
                scaler.update(Double.isFinite(nb));
                assertEquals(na, nb, "gradient norm at step " + step);
            }
            for (Map.Entry<String, Tensor> e : plain.namedParameters().entrySet())
                assertArrayEquals(Torch.toFloats(e.getValue()), Torch.toFloats(scaled.namedParameters().get(e.getKey())), e.getKey());
        }
        assertEquals(65536.0, scaler.scale(), "three clean steps do not grow the scale (interval 2000)");
    }

    @Test
    void overflowHalvesTheScaleAndCleanRunsDoubleIt() {
        GradScaler s = new GradScaler(true, 3);
        assertEquals(65536.0, s.scale());
        s.update(false);
        assertEquals(32768.0, s.scale());
        s.update(true);
        s.update(true);
        s.update(false);  // the clean run is broken before the interval: back off, tracker restarts
        assertEquals(16384.0, s.scale());
        s.update(true);
        s.update(true);
        assertEquals(16384.0, s.scale());
        s.update(true);
        assertEquals(32768.0, s.scale());
    }

    @Test
    void stateRoundTripsWithPyTorchsKeysAndADisabledScalerIsTheIdentity() {
        GradScaler s = new GradScaler(true, 5);
        s.update(false);
        s.update(true);
        s.update(true);
        Map<String, Object> state = s.stateDict();
        assertEquals(32768.0, state.get("scale"));
        assertEquals(2L, state.get("_growth_tracker"));
        assertEquals(5L, state.get("growth_interval"));
        GradScaler t = new GradScaler(true, 5);
        t.load(state);
        t.update(true);
        t.update(true);
        t.update(true);
        assertEquals(65536.0, t.scale(), "the restored tracker continues: 2 + 3 clean steps reach the interval of 5");

        GradScaler off = new GradScaler(false);
        assertTrue(off.stateDict().isEmpty());
        off.update(false);
        assertEquals(65536.0, off.scale());
        try (PointerScope p = Torch.scope()) {
            Tensor loss = Torch.floats(new float[]{2.5f}, 1);
            assertEquals(2.5f, off.scale(loss).item_float());
        }
    }
}
