package minimind4j.model;

import minimind4j.engine.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Map;

/**
 * The MoE feed-forward of either family: a softmax router, the top-k experts per token, their weights renormalised
 * (minimind-3: always when norm_topk_prob; MiniMind2: only for k > 1), MiniMind2's shared experts, and the aux loss
 * in training (MiniMind2: per sequence, alpha 0.01, or over the batch; minimind-3: sum(load * mean score) * E * coef
 * over the batch, load = one_hot(top-k).mean(0) per choice slot).
 */
final class MoeFeedForward {
    /** The layer's output [B, T, hidden] and its aux loss (a zero scalar outside training). */
    record Out(Tensor y, Tensor aux) {}

    private final ModelConfig config;
    private final ModelFamily family;
    /** The router's weight [experts, hidden]: a plain projection, never adapted. */
    private final Tensor router;
    private final FeedForward[] experts;
    private final FeedForward[] shared;
    private final Linear.Hook hook;

    MoeFeedForward(ModelConfig c, Map<String, Tensor> params, String prefix, Linear.Hook hook) {
        this.config = c;
        this.family = c.modelFamily();
        this.hook = hook;
        router = MiniMindLM.required(params, prefix + "gate.weight");
        experts = new FeedForward[c.nRoutedExperts()];
        for (int i = 0; i < experts.length; i++) experts[i] = new FeedForward(params, prefix + "experts." + i + ".", hook);
        shared = new FeedForward[c.nSharedExperts()];
        for (int i = 0; i < shared.length; i++) shared[i] = new FeedForward(params, prefix + "shared_experts." + i + ".", hook);
    }

    Out forward(Tensor x) {
        long b = x.size(0), t = x.size(1), hd = x.size(2);
        int k = config.numExpertsPerTok();
        Tensor flat = x.reshape(-1, hd);
        Tensor scores = Torch.linear(flat, router).softmax(-1);
        var top = scores.topk(k, -1, true, false);
        Tensor w = top.get0(), idx = top.get1();
        if (config.normTopkProb() && (family == ModelFamily.MINIMIND3 || k > 1))
            w = w.div(w.sum(new long[]{-1}, true, Torch.noType()).add(Torch.scalar(1e-20)));
        Tensor aux = hook.training && config.auxLossAlpha() > 0 ? auxLoss(x, scores, idx) : Torch.zerosLike(x, ScalarType.Float);
        Tensor flatIdx = idx.reshape(-1), flatW = w.reshape(-1);
        Tensor y = torch.zeros_like(flat);
        // slot j of the flattened [N, k] choice matrix belongs to token j / k
        Tensor tokenOfSlot = torch.arange(Torch.scalar(flat.size(0)), Torch.optionsLike(x, ScalarType.Long))
                .unsqueeze(1).expand(flat.size(0), k).reshape(-1);
        for (int i = 0; i < experts.length; i++) {
            Tensor slots = flatIdx.eq(Torch.scalar(i)).nonzero().squeeze(1);
            if (slots.numel() == 0) {
                if (hook.training) y = y.add(experts[i].zeroContribution());
                continue;
            }
            Tensor tokens = tokenOfSlot.index_select(0, slots);
            Tensor out = experts[i].forward(flat.index_select(0, tokens)).mul(flatW.index_select(0, slots).unsqueeze(1));
            // under autocast the expert's output is bf16 while y (like the residual stream) is fp32: MiniMind's
            // y.index_add_(0, idx, expert_out.to(y.dtype)) casts the same way
            y = y.index_add(0, tokens, out.to(y.scalar_type()));
        }
        y = y.view(b, t, hd);
        for (FeedForward s : shared) y = y.add(s.forward(x));
        return new Out(y, aux);
    }

    /** The load-balancing loss over router {@code scores} [N, E] and the chosen experts {@code idx} [N, k]. */
    private Tensor auxLoss(Tensor x, Tensor scores, Tensor idx) {
        long b = x.size(0), t = x.size(1);
        int k = config.numExpertsPerTok(), e = config.nRoutedExperts();
        double alpha = config.auxLossAlpha();
        if (family == ModelFamily.MINIMIND3) {
            Tensor load = torch.one_hot(idx, e).to(ScalarType.Float).mean(new long[]{0}, false, Torch.noType());
            return load.mul(scores.mean(new long[]{0}, false, Torch.noType())).sum().mul(Torch.scalar((double) e * alpha));
        }
        if (config.seqAux()) {
            Tensor ce = Torch.zerosLike(x, ScalarType.Float, b, e)
                    .scatter_add(1, idx.view(b, -1), torch.ones(new long[]{b, t * k}, Torch.optionsLike(x, ScalarType.Float)))
                    .div(Torch.scalar((double) (t * k) / e));
            return ce.mul(scores.view(b, t, e).mean(new long[]{1}, false, Torch.noType()))
                    .sum(new long[]{1}, false, Torch.noType()).mean().mul(Torch.scalar(alpha));
        }
        Tensor ce = torch.one_hot(idx.view(-1), e).to(ScalarType.Float).mean(new long[]{0}, false, Torch.noType());
        return scores.mean(new long[]{0}, false, Torch.noType()).mul(ce.mul(Torch.scalar(e))).sum().mul(Torch.scalar(alpha));
    }
}
