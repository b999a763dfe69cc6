package minimind4j.train;

import minimind4j.UserError;
import minimind4j.checkpoint.Weights;
import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelFamily;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * MiniMind's train_dpo.py loss on a batch of 2B rows (B chosen, then B rejected; see {@link minimind4j.data.Batch}):
 * the log-probability of each target token under the policy and under a frozen reference model (computed without
 * autograd), per sequence summed over its supervised (reply) tokens and, for MiniMind2 ({@link Reduction#MEAN},
 * commit 83e52f6a after issue #298), divided by their count; then
 * {@code -logsigmoid(beta * ((pi_c - pi_r) - (ref_c - ref_r)))} averaged over the pairs, plus the policy's MoE aux loss.
 *
 * <p>As in {@link MiniMindLM#loss}, the vocabulary projection runs only on supervised positions: padding and prompts
 * cost no logits, and the numbers are those of MiniMind's full-logits computation (masked positions add 0 there).
 *
 * <p>Also reported per step, with TRL's names: rewards/chosen and rewards/rejected (beta times the policy-reference
 * log-ratio, mean over pairs), rewards/accuracies (share of pairs whose chosen reward is higher) and rewards/margins.
 */
public final class DpoLoss implements StepLoss {
    /** Per-sequence log-probability: MiniMind2's mean over the reply, minimind-3's sum. */
    public enum Reduction {
        MEAN, SUM;

        /** The reduction of the MiniMind version whose architecture {@code family} is. */
        public static Reduction of(ModelFamily family) { return family == ModelFamily.MINIMIND2 ? MEAN : SUM; }

        public static Reduction fromFlag(String flag, ModelFamily family) {
            if (flag == null || flag.equals("auto")) return of(family);
            return switch (flag) {
                case "mean" -> MEAN;
                case "sum" -> SUM;
                default -> throw new UserError("--dpo_reduction " + flag + ": expected auto, mean or sum");
            };
        }
    }

    public static final List<String> METRICS = List.of("rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins");

    private final double beta;
    private final Reduction reduction;
    /** The reference weights' file; null: the trained model's own starting weights (--from_weight none). */
    private final Path referenceFile;
    /** LoRA: the reference is the frozen base itself, the trained model with its adapters detached (as TRL with PEFT). */
    private final boolean referenceIsBase;
    private MiniMindLM reference;
    private final double[] last = {Double.NaN, Double.NaN, Double.NaN, Double.NaN};

    public DpoLoss(double beta, Reduction reduction, Path referenceFile) {
        this(beta, reduction, referenceFile, false);
    }

    /** With {@code referenceIsBase} (LoRA adapters trained on a frozen model) no reference copy is made. */
    public DpoLoss(double beta, Reduction reduction, Path referenceFile, boolean referenceIsBase) {
        if (!(beta > 0) || !Double.isFinite(beta)) throw new UserError("--beta " + beta + ": must be a positive number");
        this.beta = beta;
        this.reduction = reduction;
        this.referenceFile = referenceFile;
        this.referenceIsBase = referenceIsBase;
    }

    public double beta() { return beta; }

    public Reduction reduction() { return reduction; }

    /**
     * Loads the reference: the --from_weight file, as MiniMind's second init_model (a resumed run's reference is still
     * the starting weights, not the checkpoint's). Frozen: no gradients are kept for it.
     */
    @Override
    public void start(MiniMindLM model, Precision precision, boolean resumed) {
        if (referenceIsBase) {
            reference = model;
            return;
        }
        if (referenceFile != null) {
            reference = Weights.load(referenceFile, model.config(), false, null);
        } else {
            if (resumed) throw new UserError("--from_weight none with --from_resume 1: the reference model (the starting weights) is unknown");
            Map<String, Tensor> copy = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : model.namedParameters().entrySet()) copy.put(e.getKey(), e.getValue().detach().cpu());
            reference = MiniMindLM.fromTensors(model.config(), copy);
        }
        reference.to(precision);
        for (Tensor t : reference.namedParameters().values()) t.set_requires_grad(false);
        reference.train(false);
    }

    @Override
    public MiniMindLM.Loss loss(MiniMindLM model, Tensor ids, Tensor labels) {
        if (reference == null) throw new IllegalStateException("start() first");
        long rows = ids.size(0), t = ids.size(1);
        if (rows % 2 != 0) throw new IllegalStateException("a DPO batch has chosen and rejected rows: " + rows);
        long pairs = rows / 2;
        Tensor targets = labels.narrow(1, 1, t - 1).reshape(-1);
        Tensor sel = targets.ne(Torch.scalar(-100)).nonzero().squeeze(1);
        Tensor row = sel.floor_divide(new org.bytedeco.pytorch.Scalar(t - 1)).to(torch.ScalarType.Long);
        Tensor gathered = targets.index_select(0, sel).unsqueeze(1);
        // MiniMind's x = ids[:-1]: the last position predicts nothing, and the MoE aux loss averages over x's positions
        Tensor x = ids.narrow(1, 0, t - 1);
        Tensor refSeq;
        var adapters = referenceIsBase ? model.adapters() : null;
        try (NoGradGuard g = new NoGradGuard()) {
            if (referenceIsBase) model.adapt(null);
            MiniMindLM.Hidden rh = reference.forward(x, null, null, null);
            refSeq = perSequence(reference, rh.states(), sel, row, gathered, rows);
        } finally {
            if (referenceIsBase) model.adapt(adapters);
        }
        MiniMindLM.Hidden hs = model.forward(x, null, null, null);
        Tensor polSeq = perSequence(model, hs.states(), sel, row, gathered, rows);
        if (reduction == Reduction.MEAN) {
            // MiniMind2: mask.sum(dim=1).clamp_min(1e-8): a sequence with no reply token divides 0 by 1e-8
            Tensor counts = Torch.zerosLike(polSeq, torch.ScalarType.Float, rows)
                    .index_add(0, row, Torch.zerosLike(polSeq, torch.ScalarType.Float, sel.numel()).add(Torch.scalar(1.0)))
                    .clamp_min(Torch.scalar(1e-8));
            polSeq = polSeq.div(counts);
            refSeq = refSeq.div(counts);
        }
        Tensor piC = polSeq.narrow(0, 0, pairs), piR = polSeq.narrow(0, pairs, pairs);
        Tensor refC = refSeq.narrow(0, 0, pairs), refR = refSeq.narrow(0, pairs, pairs);
        Tensor logits = piC.sub(piR).sub(refC.sub(refR));
        Tensor dpo = torch.logsigmoid(logits.mul(Torch.scalar(beta))).neg().mean();
        Tensor chosenRewards = piC.detach().sub(refC).mul(Torch.scalar(beta));
        Tensor rejectedRewards = piR.detach().sub(refR).mul(Torch.scalar(beta));
        float[] r = Torch.toFloats(torch.stack(new TensorVector(chosenRewards.mean(), rejectedRewards.mean(),
                chosenRewards.gt(rejectedRewards).to(torch.ScalarType.Float).mean(), chosenRewards.sub(rejectedRewards).mean())));
        for (int i = 0; i < 4; i++) last[i] = r[i];
        Tensor aux = hs.auxLoss();
        return new MiniMindLM.Loss(dpo.add(aux), dpo, aux, sel.numel());
    }

    /** Summed log-probabilities of the supervised targets per row: [rows], fp32. */
    private static Tensor perSequence(MiniMindLM m, Tensor states, Tensor sel, Tensor row, Tensor gathered, long rows) {
        long hd = m.config().hiddenSize();
        Tensor h = states.reshape(-1, hd).index_select(0, sel);
        Tensor logp = m.logits(h).to(torch.ScalarType.Float).log_softmax(1);
        Tensor tok = torch.gather(logp, 1, gathered).squeeze(1);
        return Torch.zerosLike(tok, torch.ScalarType.Float, rows).index_add(0, row, tok);
    }

    @Override
    public String lossName() { return "dpo_loss"; }

    @Override
    public List<String> metricNames() { return METRICS; }

    @Override
    public double[] metrics() { return last.clone(); }

    /** The log line's tail: TRL's reward numbers of the last step. */
    @Override
    public String describeMetrics(double[] m) {
        return String.format(Locale.ROOT, ", rewards/chosen: %.4f, rewards/rejected: %.4f, rewards/accuracies: %.2f, rewards/margins: %.4f", m[0], m[1], m[2], m[3]);
    }

    @Override
    public void close() {
        if (reference != null && !referenceIsBase) reference.close();
        reference = null;
    }
}
