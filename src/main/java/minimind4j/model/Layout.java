package minimind4j.model;

import minimind4j.engine.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.LinkedHashMap;
import java.util.Map;

/** MiniMind's state dict for a config: names, shapes and PyTorch's registration order; and its from-scratch init. */
final class Layout {
    private Layout() {}

    /** The names and shapes, in PyTorch's order, lm_head.weight included. */
    static LinkedHashMap<String, long[]> shapes(ModelConfig c) {
        LinkedHashMap<String, long[]> s = new LinkedHashMap<>();
        long h = c.hiddenSize(), d = c.headDim();
        s.put(MiniMindLM.EMBED, new long[]{c.vocabSize(), h});
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            s.put(p + "self_attn.q_proj.weight", new long[]{c.numAttentionHeads() * d, h});
            s.put(p + "self_attn.k_proj.weight", new long[]{c.numKeyValueHeads() * d, h});
            s.put(p + "self_attn.v_proj.weight", new long[]{c.numKeyValueHeads() * d, h});
            s.put(p + "self_attn.o_proj.weight", new long[]{h, c.numAttentionHeads() * d});
            if (c.qkNorm()) {
                s.put(p + "self_attn.q_norm.weight", new long[]{d});
                s.put(p + "self_attn.k_norm.weight", new long[]{d});
            }
            s.put(p + "input_layernorm.weight", new long[]{h});
            s.put(p + "post_attention_layernorm.weight", new long[]{h});
            if (!c.useMoe()) {
                putFeedForward(s, p + "mlp.", c);
            } else if (c.modelFamily() == ModelFamily.MINIMIND3) {
                // minimind-3's MOEFeedForward registers its router (an nn.Linear) before the experts
                s.put(p + "mlp.gate.weight", new long[]{c.nRoutedExperts(), h});
                for (int e = 0; e < c.nRoutedExperts(); e++) putFeedForward(s, p + "mlp.experts." + e + ".", c);
            } else {
                // MiniMind2's: experts, then the MoEGate, then the shared experts
                for (int e = 0; e < c.nRoutedExperts(); e++) putFeedForward(s, p + "mlp.experts." + e + ".", c);
                s.put(p + "mlp.gate.weight", new long[]{c.nRoutedExperts(), h});
                for (int e = 0; e < c.nSharedExperts(); e++) putFeedForward(s, p + "mlp.shared_experts." + e + ".", c);
            }
        }
        s.put("model.norm.weight", new long[]{h});
        s.put(MiniMindLM.LM_HEAD, new long[]{c.vocabSize(), h});
        return s;
    }

    private static void putFeedForward(Map<String, long[]> s, String p, ModelConfig c) {
        s.put(p + "gate_proj.weight", new long[]{c.intermediateSize(), c.hiddenSize()});
        s.put(p + "down_proj.weight", new long[]{c.hiddenSize(), c.intermediateSize()});
        s.put(p + "up_proj.weight", new long[]{c.intermediateSize(), c.hiddenSize()});
    }

    /** Fresh fp32 leaves under every name but lm_head, initialised as {@link MiniMindLM#init} describes. */
    static LinkedHashMap<String, Tensor> initialised(ModelConfig c, long seed) {
        Torch.seed(seed);
        boolean postInit = c.modelFamily() == ModelFamily.MINIMIND3;
        LinkedHashMap<String, Tensor> p = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes(c).entrySet()) {
            if (e.getKey().equals(MiniMindLM.LM_HEAD)) continue;
            long[] shape = e.getValue();
            Tensor t;
            if (shape.length == 1) {
                t = torch.ones(shape, new TensorOptions(ScalarType.Float));
            } else if (postInit) {
                t = torch.empty(shape, new TensorOptions(ScalarType.Float), null);
                torch.normal_(t, 0.0, MiniMindLM.INITIALIZER_RANGE);
            } else {
                double bound = 1.0 / Math.sqrt(shape[1]);
                t = torch.empty(shape, new TensorOptions(ScalarType.Float), null);
                torch.uniform_(t, -bound, bound);
            }
            t.set_requires_grad(true);
            p.put(e.getKey(), t);
        }
        return p;
    }

}
