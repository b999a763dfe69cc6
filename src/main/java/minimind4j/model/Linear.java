package minimind4j.model;

import minimind4j.engine.Autocast;
import minimind4j.engine.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.util.Map;

/**
 * A bias-free {@code nn.Linear} under its PyTorch module name ({@code model.layers.0.self_attn.q_proj}): y = x W^T,
 * plus the model's {@link MiniMindLM.LinearAdapters} output for that module when adapters are attached. Every adapted
 * projection of the model goes through here.
 */
final class Linear {
    /** The model's adapter slot and train/eval mode, shared by all its layers; MiniMindLM.adapt and train set them. */
    static final class Hook {
        MiniMindLM.LinearAdapters adapters;
        boolean training = true;
    }

    private final String module;
    private final Tensor weight;
    private final Hook hook;

    Linear(Map<String, Tensor> params, String module, Hook hook) {
        this.module = module;
        this.weight = MiniMindLM.required(params, module + ".weight");
        this.hook = hook;
    }

    Tensor weight() { return weight; }

    Tensor forward(Tensor x) { return adapted(x, Torch.linear(x, weight)); }

    /** Several Linears over the same input, computed as one projection and split; outputs in argument order. */
    static Tensor[] forward(Tensor x, Linear... linears) {
        Tensor y = project(x, linears);
        Tensor[] out = new Tensor[linears.length];
        long at = 0;
        for (int i = 0; i < linears.length; i++) {
            long n = linears[i].weight.size(0);
            out[i] = linears[i].adapted(x, y.narrow(-1, at, n));
            at += n;
        }
        return out;
    }

    /** {@code y} plus this module's adapter output, if it has one. */
    private Tensor adapted(Tensor x, Tensor y) {
        if (hook.adapters == null) return y;
        Tensor d = hook.adapters.delta(module, x, hook.training);
        return d == null ? y : y.add(d);
    }

    /**
     * x times several weights side by side. For training-sized inputs the weights are stacked into one GEMM (a better
     * shape for the kernel); for a few rows, as in token-by-token decoding, stacking would copy more than it saves.
     */
    private static Tensor project(Tensor x, Linear... linears) {
        long rows = x.numel() / x.size(-1);
        if (rows >= 64) {
            // under autocast: the cached bf16 copies, concatenated (not the fp32 weights concatenated, then cast)
            TensorVector w = new TensorVector();
            for (Linear l : linears) w.push_back(Autocast.castWeight(l.weight));
            return Torch.linear(x, torch.cat(w, 0));
        }
        TensorVector outs = new TensorVector();
        for (Linear l : linears) outs.push_back(Torch.linear(x, l.weight));
        return torch.cat(outs, -1);
    }
}
