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

    /** The element-wise sum over ranks (counts, logged statistics), on every rank. */
    double[] sum(double[] values);

    /** Ranks of this run on this machine (this one included), and this rank's index among them. */
    record HostShare(int ranks, int index) {}

    default HostShare hostShare() { return new HostShare(1, 0); }
    /** The largest of the ranks' values, on every rank (which stop signal, if any, reached one of them). */
    default int max(int value) { return any(value > 0) ? Math.max(value, 1) : 0; }

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
            public double[] sum(double[] values) { return values.clone(); }
            public int max(int value) { return value; }
        };
    }
}
