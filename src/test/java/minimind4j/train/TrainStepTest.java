package minimind4j.train;

import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.model.RandomBatch;
import minimind4j.model.ReferenceForward;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link TrainStep} on its own, without the CLI or the loop: a tiny model, a hand-made batch, and references computed
 * here (a plain-Java forward for the loss, AdamW's formulas in doubles for the update).
 */
class TrainStepTest {
    static final ModelConfig TINY = ModelConfig.minimind2(32, 2, false).withVocabSize(64).withHeads(4, 2);
    static final int ROWS = 3, COLS = 10;
    static final double LR = 1e-2, BETA1 = 0.9, BETA2 = 0.999, EPS = 1e-8, WEIGHT_DECAY = 0.1, CLIP = 1.0;

    /**
     * Rows with 6, 3 and 9 supervised targets: the mean over all supervised positions differs from the mean of the
     * rows' means, so the reference below tells the two apart.
     */
    static RandomBatch batch() {
        RandomBatch b = RandomBatch.of(TINY.vocabSize(), ROWS, COLS, 4, 11);
        long[] labels = b.labels().clone();
        for (int t = 0; t < 7; t++) labels[COLS + t] = -100;
        for (int t = 1; t < 4; t++) labels[2 * COLS + t] = b.ids()[2 * COLS + t];
        return new RandomBatch(b.ids(), labels);
    }

    @Test
    void forwardIsTheCrossEntropyMeanOverEverySupervisedPositionOfTheBatch() {
        RandomBatch b = batch();
        try (PointerScope s = Torch.scope(); MiniMindLM m = MiniMindLM.init(TINY, 5)) {
            Map<String, float[]> w = new HashMap<>();
            m.namedParameters().forEach((k, v) -> w.put(k, Torch.toFloats(v)));
            double sum = 0;
            int n = 0;
            for (int r = 0; r < ROWS; r++) {
                long[] ids = Arrays.copyOfRange(b.ids(), r * COLS, (r + 1) * COLS), labels = Arrays.copyOfRange(b.labels(), r * COLS, (r + 1) * COLS);
                int targets = (int) Arrays.stream(labels, 1, COLS).filter(y -> y != -100).count();
                sum += ReferenceForward.loss(ReferenceForward.logits(TINY, w, ids), labels) * targets;
                n += targets;
            }
            assertEquals(6 + 3 + 9, n, "the batch's supervised targets");
            double expected = sum / n;
            Tensor ids = Torch.longs(b.ids(), ROWS, COLS), labels = Torch.longs(b.labels(), ROWS, COLS);
            for (boolean fullLogits : new boolean[]{false, true}) {
                TrainStep.Forward f = TrainStep.forward(m, Precision.cpu(), ids, labels, fullLogits);
                assertEquals(expected, f.total(), 1e-4, "fullLogits " + fullLogits);
                assertEquals(expected, f.logits(), 1e-4, "a dense model's loss is all logits loss");
                assertEquals(0.0, f.aux(), "no router, no aux loss");
                assertEquals(n, f.loss().supervised());
                assertEquals(f.total(), f.loss().total().item_double(), 1e-6, "read() reads back the loss tensor");
            }
        }
    }

    /**
     * Two updates against AdamW computed here in doubles (decoupled weight decay, bias correction) on the gradients
     * clipped to a global norm of 1 (torch's clip_grad_norm_: times min(1, clip / (norm + 1e-6))). The first step's loss
     * is scaled by 100: Adam's first step hardly depends on a gradient's scale, its second does on the ratio of the
     * two steps' scales, which clipping changes.
     */
    @Test
    void updateIsAnAdamWStepOnTheGlobalNormClippedGradients() {
        RandomBatch b = batch();
        try (PointerScope s = Torch.scope(); MiniMindLM m = MiniMindLM.init(TINY, 5)) {
            TensorVector params = m.parameters();
            AdamW opt = Torch.adamW(params, LR, BETA1, BETA2, EPS, WEIGHT_DECAY);
            Tensor ids = Torch.longs(b.ids(), ROWS, COLS), labels = Torch.longs(b.labels(), ROWS, COLS);
            Map<String, double[]> mom = new HashMap<>(), vel = new HashMap<>();
            double[] lossScale = {100, 1};
            for (int step = 1; step <= 2; step++) {
                TrainStep.Forward f = TrainStep.forward(m, Precision.cpu(), ids, labels, false);
                f.loss().total().mul(Torch.scalar(lossScale[step - 1])).backward();
                Map<String, float[]> before = values(m), grads = grads(m);
                double norm = 0;
                for (float[] g : grads.values()) for (float x : g) norm += (double) x * x;
                norm = Math.sqrt(norm);
                assertTrue(norm > 1.2 * CLIP, "step " + step + ": the gradient is clipped (else this test cannot see the clip): " + norm);
                double coef = Math.min(1.0, CLIP / (norm + 1e-6));

                double returned = TrainStep.update(opt, params, new GradScaler(false), CLIP);
                assertEquals(norm, returned, 1e-5 * norm, "update returns the norm before clipping");

                Map<String, float[]> after = values(m);
                double bc1 = 1 - Math.pow(BETA1, step), bc2 = 1 - Math.pow(BETA2, step), worst = 0, moved = 0;
                for (String k : before.keySet()) {
                    float[] p0 = before.get(k), g = grads.get(k), p1 = after.get(k);
                    double[] mk = mom.computeIfAbsent(k, x -> new double[p0.length]), vk = vel.computeIfAbsent(k, x -> new double[p0.length]);
                    for (int i = 0; i < p0.length; i++) {
                        double gi = g[i] * coef;
                        mk[i] = BETA1 * mk[i] + (1 - BETA1) * gi;
                        vk[i] = BETA2 * vk[i] + (1 - BETA2) * gi * gi;
                        double expected = p0[i] * (1 - LR * WEIGHT_DECAY) - (LR / bc1) * mk[i] / (Math.sqrt(vk[i]) / Math.sqrt(bc2) + EPS);
                        worst = Math.max(worst, Math.abs(expected - p1[i]));
                        moved = Math.max(moved, Math.abs(p1[i] - p0[i]));
                    }
                }
                assertTrue(moved > LR / 2, "step " + step + " moved the weights: " + moved);
                assertTrue(worst < 1e-6, "step " + step + ": the update differs from AdamW on the clipped gradients by up to " + worst);
                for (Tensor p : m.namedParameters().values()) assertFalse(p.grad().defined(), "the update zeroes (frees) the gradients");
            }
            opt.close();
        }
    }

    /**
     * float16's loss scaling: the update unscales first, so a scaled backward (a power of two) trains exactly as an
     * unscaled one; an overflowing (non-finite) gradient takes no step, leaves every weight as it was, and halves the scale.
     */
    @Test
    void aScaledBackwardUpdatesAsAnUnscaledOneAndANonFiniteGradientTakesNoStep() {
        RandomBatch b = batch();
        try (PointerScope s = Torch.scope(); MiniMindLM plain = MiniMindLM.init(TINY, 5); MiniMindLM scaled = MiniMindLM.init(TINY, 5)) {
            Tensor ids = Torch.longs(b.ids(), ROWS, COLS), labels = Torch.longs(b.labels(), ROWS, COLS);
            TensorVector pp = plain.parameters(), sp = scaled.parameters();
            AdamW po = Torch.adamW(pp, LR, BETA1, BETA2, EPS, WEIGHT_DECAY), so = Torch.adamW(sp, LR, BETA1, BETA2, EPS, WEIGHT_DECAY);
            GradScaler off = new GradScaler(false), on = new GradScaler(true);
            double scale = on.scale();

            TrainStep.forward(plain, Precision.cpu(), ids, labels, false).loss().total().backward();
            double n1 = TrainStep.update(po, pp, off, CLIP);
            on.scale(TrainStep.forward(scaled, Precision.cpu(), ids, labels, false).loss().total()).backward();
            double n2 = TrainStep.update(so, sp, on, CLIP);
            assertEquals(n1, n2, "the norm is that of the unscaled gradients");
            assertBitEqual(values(plain), values(scaled), "scaled by " + scale + " and unscaled");
            assertEquals(scale, on.scale(), "a clean step keeps the scale (it grows after 2000 of them)");

            Map<String, float[]> before = values(scaled);
            TrainStep.forward(scaled, Precision.cpu(), ids, labels, false).loss().total().mul(Torch.scalar(Double.POSITIVE_INFINITY)).backward();
            double norm = TrainStep.update(so, sp, on, CLIP);
            assertFalse(Double.isFinite(norm), "the norm of an overflowed gradient: " + norm);
            assertBitEqual(before, values(scaled), "after the non-finite gradient");
            assertEquals(scale / 2, on.scale(), "the skipped step backs the scale off");
            for (Tensor p : scaled.namedParameters().values()) assertFalse(p.grad().defined(), "the skipped step's gradients are dropped");
            po.close();
            so.close();
        }
    }

    private static void assertBitEqual(Map<String, float[]> a, Map<String, float[]> b, String what) {
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k), b.get(k), what + ": " + k);
    }

    private static Map<String, float[]> values(MiniMindLM m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, v) -> out.put(k, Torch.toFloats(v)));
        return out;
    }

    private static Map<String, float[]> grads(MiniMindLM m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, v) -> out.put(k, Torch.toFloats(v.grad())));
        return out;
    }
}
