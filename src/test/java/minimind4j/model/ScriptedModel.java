package minimind4j.model;

import minimind4j.engine.Torch;
import org.bytedeco.pytorch.Tensor;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A tiny MiniMind2 model (hidden 32, one layer, tied embeddings, MiniMind2's 8/2 heads) whose greedy continuation of
 * any prompt ending in {@code chain[0]} is exactly {@code chain[1..]}: the reply is known before the code under test
 * runs, so a test can choose one whose characters span several byte tokens.
 *
 * <p>How: attention is silenced (o_proj = 0); token chain[i] embeds as the unit vector e_i; the MLP maps e_i to
 * e_{i+1} - e_i (intermediate unit i gates on e_i, its down column is (e_{i+1} - e_i) / its activation), so the
 * residual stream after the layer is e_{i+1}, and the tied lm_head scores chain[i+1] highest (every other row is 0).
 */
public final class ScriptedModel {
    private ScriptedModel() {}

    public static final ModelConfig CONFIG = ModelConfig.minimind2(32, 1, false);

    /** chain: distinct token ids, at most 31; the last is usually eos. */
    public static MiniMindLM of(int... chain) {
        ModelConfig c = CONFIG;
        int h = c.hiddenSize(), inter = c.intermediateSize();
        if (chain.length > h - 1 || chain.length > inter) throw new IllegalArgumentException("chain too long");
        Set<Integer> seen = new HashSet<>();
        for (int t : chain) if (!seen.add(t)) throw new IllegalArgumentException("token " + t + " twice in the chain");
        Map<String, float[]> w = new HashMap<>();
        LinkedHashMap<String, long[]> shapes = MiniMindLM.expectedShapes(c);
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long n = 1;
            for (long d : e.getValue()) n *= d;
            float[] v = new float[(int) n];
            if (e.getKey().endsWith("norm.weight")) java.util.Arrays.fill(v, 1f);
            w.put(e.getKey(), v);
        }
        float[] embed = w.get(MiniMindLM.EMBED);
        for (int i = 0; i < chain.length; i++) embed[chain[i] * h + i] = 1f;
        // RMSNorm turns e_i into sqrt(h) e_i before the MLP
        double a = 1 / Math.sqrt(1.0 / h + c.rmsNormEps());  // the rms of e_i is 1/sqrt(h)
        double act = a / (1 + Math.exp(-a)) * a; // silu(gate) * up for the unit that fires
        float[] gate = w.get("model.layers.0.mlp.gate_proj.weight"), up = w.get("model.layers.0.mlp.up_proj.weight"),
                down = w.get("model.layers.0.mlp.down_proj.weight");
        for (int i = 0; i + 1 < chain.length; i++) {
            gate[i * h + i] = 1f;
            up[i * h + i] = 1f;
            // down is [hidden, inter]: column i
            down[(i + 1) * inter + i] = (float) (1 / act);
            down[i * inter + i] = (float) (-1 / act);
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (org.bytedeco.javacpp.PointerScope s = Torch.scope()) {
            for (Map.Entry<String, long[]> e : shapes.entrySet()) tensors.put(e.getKey(), Torch.floats(w.get(e.getKey()), e.getValue()));
            MiniMindLM m = MiniMindLM.fromTensors(c, tensors);  // keeps its own copies past the scope
            m.train(false);
            return m;
        }
    }
}
