package minimind4j.model;

import minimind4j.engine.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Map;

/**
 * MiniMind's Attention: q/k/v projections, minimind-3's per-head q/k RMSNorm, rotary positions, grouped-query
 * attention (KV heads shared by groups of query heads, inside {@link Torch#attention}) and o_proj.
 */
final class Attention {
    private final int layer;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final Linear q, k, v, o;
    /** Per-head q/k norms, where the family has them (minimind-3); null otherwise. */
    private final RmsNorm qNorm, kNorm;

    Attention(ModelConfig c, int layer, Map<String, Tensor> params, Linear.Hook hook) {
        String pre = "model.layers." + layer + ".self_attn.";
        this.layer = layer;
        this.heads = c.numAttentionHeads();
        this.kvHeads = c.numKeyValueHeads();
        this.headDim = c.headDim();
        q = new Linear(params, pre + "q_proj", hook);
        k = new Linear(params, pre + "k_proj", hook);
        v = new Linear(params, pre + "v_proj", hook);
        o = new Linear(params, pre + "o_proj", hook);
        qNorm = c.qkNorm() ? new RmsNorm(MiniMindLM.required(params, pre + "q_norm.weight"), c.rmsNormEps()) : null;
        kNorm = c.qkNorm() ? new RmsNorm(MiniMindLM.required(params, pre + "k_norm.weight"), c.rmsNormEps()) : null;
    }

    /** Training and evaluation: the sequence attends to itself, causally or as {@code allowed} [B,1,T,T] (if not null) says. */
    Tensor forward(Tensor x, Rope.At rope, Tensor allowed) {
        Tensor[] qkv = qkv(x, rope);
        return output(attend(qkv[0], qkv[1], qkv[2], allowed, 0), x);
    }

    /** The new positions attend to everything in {@code cache} and to each other; the cache keeps their keys and values. */
    Tensor forward(Tensor x, Rope.At rope, Tensor allowed, KvCache cache) {
        Tensor[] qkv = qkv(x, rope);
        long past = cache.length();
        Tensor[] kv = cache.append(layer, qkv[1], qkv[2]);
        return output(attend(qkv[0], kv[0], kv[1], allowed, past), x);
    }

    /** One token per row, row r attending to its own cache {@code rows[r]} (the same call a lone cached forward makes). */
    Tensor decode(Tensor x, Rope.At rope, KvCache[] rows) {
        Tensor[] qkv = qkv(x, rope);
        TensorVector perRow = new TensorVector();
        for (int r = 0; r < rows.length; r++) {
            Tensor[] kv = rows[r].append(layer, qkv[1].narrow(0, r, 1), qkv[2].narrow(0, r, 1));
            perRow.push_back(Torch.attention(qkv[0].narrow(0, r, 1), kv[0], kv[1], false));
        }
        return output(torch.cat(perRow, 0), x);
    }

    /** q [B, H, T, D], k and v [B, KV, T, D]: projected, q/k normed (minimind-3) and rotated. */
    private Tensor[] qkv(Tensor x, Rope.At rope) {
        long b = x.size(0), t = x.size(1);
        Tensor[] y = Linear.forward(x, q, k, v);
        Tensor qs = y[0].view(b, t, heads, headDim);
        Tensor ks = y[1].view(b, t, kvHeads, headDim);
        Tensor vs = y[2].view(b, t, kvHeads, headDim);
        if (qNorm != null) {
            qs = qNorm.forward(qs);
            ks = kNorm.forward(ks);
        }
        return new Tensor[]{rope.apply(qs).transpose(1, 2), rope.apply(ks).transpose(1, 2), vs.transpose(1, 2)};
    }

    /** Queries at positions past..past+t-1: under {@code allowed} if given, else causal over the cache and themselves. */
    private static Tensor attend(Tensor q, Tensor k, Tensor v, Tensor allowed, long past) {
        long t = q.size(2);
        if (allowed != null) return Torch.attention(q, k, v, allowed);
        if (past > 0 && t > 1) return Torch.attention(q, k, v, offsetCausalMask(q, t, past));
        return Torch.attention(q, k, v, t > 1);
    }

    /** Queries at positions past..past+t-1 may see keys 0..their own position. */
    private static Tensor offsetCausalMask(Tensor like, long t, long past) {
        Tensor ones = torch.ones(new long[]{t, past + t}, Torch.optionsLike(like, ScalarType.Bool));
        return torch.tril(ones, past);
    }

    /** Heads back side by side [B, T, H*D], through o_proj. */
    private Tensor output(Tensor attended, Tensor x) {
        return o.forward(attended.transpose(1, 2).reshape(x.size(0), x.size(1), (long) heads * headDim));
    }
}
