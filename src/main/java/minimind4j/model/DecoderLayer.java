package minimind4j.model;

import org.bytedeco.pytorch.Tensor;

import java.util.Map;

/** MiniMind's MiniMindBlock: x + attention(norm(x)), then + feed-forward (dense or MoE) of norm(x), pre-norm. */
final class DecoderLayer {
    /** How this forward's attention sees keys: training (none cached), extending a cache, or a cache per row. */
    interface Attend {
        Tensor apply(Attention attention, Tensor normed);
    }

    /** The layer's output and its MoE aux loss (null for a dense layer). */
    record Out(Tensor x, Tensor aux) {}

    private final RmsNorm inputNorm;
    private final RmsNorm postAttentionNorm;
    private final Attention attention;
    /** Exactly one of these is set, by config.useMoe(). */
    private final FeedForward mlp;
    private final MoeFeedForward moe;

    DecoderLayer(ModelConfig c, int layer, Map<String, Tensor> params, Linear.Hook hook) {
        String pre = "model.layers." + layer + ".";
        inputNorm = new RmsNorm(MiniMindLM.required(params, pre + "input_layernorm.weight"), c.rmsNormEps());
        postAttentionNorm = new RmsNorm(MiniMindLM.required(params, pre + "post_attention_layernorm.weight"), c.rmsNormEps());
        attention = new Attention(c, layer, params, hook);
        mlp = c.useMoe() ? null : new FeedForward(params, pre + "mlp.", hook);
        moe = c.useMoe() ? new MoeFeedForward(c, params, pre + "mlp.", hook) : null;
    }

    Out forward(Tensor x, Attend attend) {
        x = x.add(attend.apply(attention, inputNorm.forward(x)));
        Tensor m = postAttentionNorm.forward(x);
        if (moe == null) return new Out(x.add(mlp.forward(m)), null);
        MoeFeedForward.Out f = moe.forward(m);
        return new Out(x.add(f.y()), f.aux());
    }
}
