package minimind4j.train;

import minimind4j.model.MiniMindLM;
import org.bytedeco.pytorch.TensorVector;

/**
 * What the training loop needs from data parallelism. The single-process run is the trivial case; a multi-process
 * run (see {@code minimind4j.train.ProcessGroupDistributed}) averages gradients across ranks over libtorch's c10d.
 */
public interface Distributed extends AutoCloseable {
    int rank();

    int worldSize();

    default boolean isMain() { return rank() == 0; }

    /** Makes every rank start from rank 0's weights. */
    void broadcastParameters(MiniMindLM model);

    /** Averages the gradients of the trained tensors (the model's parameters, or only its adapters) across ranks before the optimizer step. */
    void averageGradients(TensorVector trainable);

    void barrier();

    /** True on every rank if any rank passes true: ranks must agree to stop at the same step. */
    boolean any(boolean flag);

    @Override
    default void close() {}

    static Distributed single() {
        return new Distributed() {
            public int rank() { return 0; }
            public int worldSize() { return 1; }
            public void broadcastParameters(MiniMindLM model) {}
            public void averageGradients(TensorVector trainable) {}
            public void barrier() {}
            public boolean any(boolean flag) { return flag; }
        };
    }
}
