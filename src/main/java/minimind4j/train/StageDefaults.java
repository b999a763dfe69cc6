package minimind4j.train;

import minimind4j.UserError;
import minimind4j.data.Truncation;
import minimind4j.data.formats.DataFormat;
import minimind4j.model.ModelFamily;

import java.nio.file.Path;
import java.util.List;

/**
 * Every stage's defaults, per model family: those of MiniMind's trainer/train_*.py of the family's own MiniMind
 * version, the one place they are written. {@code minimind2} = MiniMind2's scripts (the last commit before
 * minimind-3; DPO at 83e52f6a), {@code minimind3} = the current ones. The flags' help shows these values and a run
 * applies them to every flag it was not given.
 */
public final class StageDefaults {
    private StageDefaults() {}

    /** The save_weight of DPO with --lora_rank (adapters instead of the whole model). */
    public static final String DPO_LORA_SAVE_WEIGHT = "lora_dpo";

    /** The model family a run without --model_family (and without weights that say otherwise) trains. */
    public static ModelFamily family(String given) {
        if (given == null) return ModelFamily.MINIMIND2;
        try {
            return ModelFamily.parse(given);
        } catch (IllegalArgumentException e) {
            throw new UserError("--model_family " + given + ": expected minimind2 or minimind3");
        }
    }

    /** {@code stage}'s defaults for {@code family}. */
    public static TrainConfig of(Stage stage, ModelFamily family) {
        boolean m3 = family == ModelFamily.MINIMIND3;
        // what every stage shares; empty_think_ratio is the family's lm_dataset.py's
        TrainConfig.Builder b = TrainConfig.builder().stage(stage)
                .saveDir(Path.of("out")).tokenizerPath(Path.of("model"))
                .accumulationSteps(1).gradClip(1.0).logInterval(100).saveInterval(1000).maxSeqLen(340)
                .addSystemRatio(0.2).emptyThinkRatio(m3 ? 0.2 : 0.05)
                .groupByLength(true).evalInterval(500).maxNanSteps(10).seed(42).maxSteps(0)
                .lossAverage(LossAverage.BATCHES).dtype("auto")
                .dataFormat(DataFormat.fromFlag(null)).truncation(Truncation.fromFlag(null));
        return switch (stage) {
            // train_pretrain.py: MiniMind2 1 epoch of pretrain_hq.jsonl, minimind-3 2 epochs of pretrain_t2t_mini.jsonl
            case PRETRAIN -> b.saveWeight("pretrain").epochs(m3 ? 2 : 1).batchSize(32).learningRate(5e-4).accumulationSteps(8)
                    .dataPaths(data(m3 ? "dataset/pretrain_t2t_mini.jsonl" : "dataset/pretrain_hq.jsonl")).fromWeight("none").build();
            // train_full_sft.py: MiniMind2 lr 1e-6, max_seq_len 340, sft_mini_512.jsonl; minimind-3 lr 1e-5, 768, sft_t2t_mini.jsonl
            case SFT -> b.saveWeight("full_sft").epochs(2).batchSize(16).learningRate(m3 ? 1e-5 : 1e-6).maxSeqLen(m3 ? 768 : 340)
                    .dataPaths(data(m3 ? "dataset/sft_t2t_mini.jsonl" : "dataset/sft_mini_512.jsonl")).fromWeight("pretrain").build();
            // train_lora.py: epochs 10, batch 32, lr 1e-4, SFT data, from full_sft, a log line every 10 steps
            case LORA -> b.saveWeight("lora_medical").epochs(10).batchSize(32).learningRate(1e-4).logInterval(10)
                    .dataPaths(data("dataset/lora_medical.jsonl")).fromWeight("full_sft").build();
            // train_dpo.py: 1 epoch, batch 4, lr 4e-8, max_seq_len 1024, log and save every 100 steps
            case DPO -> b.saveWeight("dpo").epochs(1).batchSize(4).learningRate(4e-8).maxSeqLen(1024).saveInterval(100)
                    .dataPaths(data("dataset/dpo.jsonl")).fromWeight("full_sft").build();
        };
    }

    /** DPO's beta: train_dpo.py's 0.1 (MiniMind2) or 0.15 (minimind-3). */
    public static double dpoBeta(ModelFamily family) {
        return family == ModelFamily.MINIMIND3 ? 0.15 : 0.1;
    }

    private static List<Path> data(String path) { return List.of(Path.of(path)); }
}
