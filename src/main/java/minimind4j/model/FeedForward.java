package minimind4j.model;

import minimind4j.engine.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.Map;

/** MiniMind's FeedForward, SwiGLU: down(silu(gate(x)) * up(x)). Also each expert of the MoE layers. */
final class FeedForward {
    private final Linear gate, up, down;

    /** The three projections under {@code prefix} ({@code model.layers.0.mlp.}, {@code ...mlp.experts.1.}). */
    FeedForward(Map<String, Tensor> params, String prefix, Linear.Hook hook) {
        gate = new Linear(params, prefix + "gate_proj", hook);
        up = new Linear(params, prefix + "up_proj", hook);
        down = new Linear(params, prefix + "down_proj", hook);
    }

    Tensor forward(Tensor x) {
        Tensor[] gateUp = Linear.forward(x, gate, up);
        Tensor act = torch.silu(gateUp[0]).mul(gateUp[1]);
        return down.forward(act);
    }

    /**
     * 0 * sum(weights): MiniMind adds it for an expert no token chose, in training, so the expert still gets a (zero)
     * gradient and AdamW still decays its weights and moments, as PyTorch steps every parameter with a grad.
     */
    Tensor zeroContribution() {
        return gate.weight().sum().add(down.weight().sum()).add(up.weight().sum()).mul(Torch.scalar(0.0));
    }
}
