package minimind4j.train;

import minimind4j.data.Batch;
import minimind4j.data.TokenDataset;
import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;

/** Held-out loss: every supervised token of a dataset counted once (a token mean, not a mean of batch means). */
public final class Evaluation {
    private Evaluation() {}

    /** The summed loss and the number of supervised tokens it covers. */
    public record Total(double lossSum, long tokens) {
        public double mean() { return tokens == 0 ? Double.NaN : lossSum / tokens; }
    }

    public static Total run(MiniMindLM model, TokenDataset data, int batchSize, int padTo, Precision precision) {
        double sum = 0;
        long count = 0;
        boolean wasTraining = model.training();
        model.train(false);
        try (PointerScope scope = Torch.scope(); NoGradGuard g = new NoGradGuard();
             BatchLoader loader = new BatchLoader(new BatchPlan(data, batchSize, 0, false, 1, 0, 1), 0, data.padId(), padTo)) {
            for (Batch b; (b = loader.next()) != null; ) {
                if (b.supervised() == 0) continue;
                try (PointerScope step = Torch.scope(); Precision.Region autocast = precision.autocastRegion()) {
                    MiniMindLM.Loss l = model.loss(precision.longs(b.ids(), b.rows(), b.cols()), precision.longs(b.labels(), b.rows(), b.cols()));
                    sum += l.logitsLoss().item_double() * l.supervised();
                    count += l.supervised();
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return new Total(sum, count);
    }
}
