package minimind4j.train;

import minimind4j.engine.Precision;
import minimind4j.model.MiniMindLM;
import org.bytedeco.pytorch.Tensor;

import java.util.List;

/**
 * The loss the training loop backpropagates for one micro-batch: the seam where stages differ. SFT and pretraining
 * use the language-model loss ({@link #LANGUAGE_MODEL}); DPO ({@link DpoLoss}) compares a batch's chosen and rejected
 * rows against a frozen reference. Everything else in the loop (schedule, accumulation, clipping, saving, resume) is
 * shared.
 */
public interface StepLoss extends AutoCloseable {
    /** MiniMind's cross-entropy over supervised positions plus the MoE aux loss. */
    StepLoss LANGUAGE_MODEL = (model, ids, labels) -> model.loss(ids, labels);

    /** The loss parts for a [rows, cols] batch of ids and labels (-100 = not supervised). */
    MiniMindLM.Loss loss(MiniMindLM model, Tensor ids, Tensor labels);

    /** Called once the trained model is loaded and on its device, before the first step. */
    default void start(MiniMindLM model, Precision precision, boolean resumed) {}

    /** What the log line calls the loss part that is not the MoE aux loss. */
    default String lossName() { return "logits_loss"; }

    /** Extra per-step numbers this loss reports (log line and metrics CSV columns), in order. */
    default List<String> metricNames() { return List.of(); }

    /** The values of {@link #metricNames} for the last {@link #loss} call. */
    default double[] metrics() { return new double[0]; }

    /** {@link #metrics} averaged over the ranks (every rank calls this at the same steps: a collective). */
    default double[] globalMetrics(Distributed dist) {
        double[] m = metrics();
        if (m.length == 0 || dist.worldSize() == 1) return m;
        double[] s = dist.sum(m);
        for (int i = 0; i < s.length; i++) s[i] /= dist.worldSize();
        return s;
    }

    /** The log line's tail for values of {@link #metricNames} (", name: value, ..."), empty when there are none. */
    default String describeMetrics(double[] values) { return ""; }

    @Override
    default void close() {}
}
