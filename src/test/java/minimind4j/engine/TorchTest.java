package minimind4j.engine;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TorchTest {
    /** torch.optim.AdamW's update written out by hand (decoupled weight decay, bias-corrected moments). */
    static double[] adamw(double p, double[] grads, double lr, double b1, double b2, double eps, double wd) {
        double m = 0, v = 0;
        double[] out = new double[grads.length];
        for (int t = 1; t <= grads.length; t++) {
            double g = grads[t - 1];
            p *= 1 - lr * wd;
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            double mHat = m / (1 - Math.pow(b1, t)), vHat = v / (1 - Math.pow(b2, t));
            p -= lr * mHat / (Math.sqrt(vHat) + eps);
            out[t - 1] = p;
        }
        return out;
    }

    @Test
    void adamWUsesPyTorchsBetaOrderAndDefaults() {
        double[] grads = {0.5, -2.0, 0.25};
        double[] expected = adamw(1.0, grads, 0.1, 0.9, 0.999, 1e-8, 0.01);
        try (PointerScope s = Torch.scope()) {
            Tensor p = Torch.floats(new float[]{1f}, 1);
            p.set_requires_grad(true);
            AdamW opt = Torch.adamW(new TensorVector(p), 0.1, 0.9, 0.999, 1e-8, 0.01);
            for (int t = 0; t < grads.length; t++) {
                p.mul(Torch.scalar(grads[t])).sum().backward();
                opt.step();
                opt.zero_grad(true);
                // with the betas swapped the second step would land at 0.94844 instead of 0.95405
                assertEquals(expected[t], Torch.toFloats(p)[0], 1e-6, "step " + (t + 1));
            }
        }
    }

    @Test
    void settingTheLearningRateBetweenStepsTakesEffect() {
        try (PointerScope s = Torch.scope()) {
            Tensor p = Torch.floats(new float[]{1f}, 1);
            p.set_requires_grad(true);
            AdamW opt = Torch.adamW(new TensorVector(p), 0.1, 0.9, 0.999, 1e-8, 0.01);
            opt.param_groups().get(0).options().set_lr(0.0);
            p.mul(Torch.scalar(3.0)).sum().backward();
            opt.step();
            assertEquals(1.0f, Torch.toFloats(p)[0], 0f);
        }
    }
}
