package minimind4j.cli;

import picocli.CommandLine.Command;

@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Pretraining on {\"text\": ...} lines, as MiniMind's trainer/train_pretrain.py.",
                "Saves {save_dir}/pretrain_{hidden}.pth, the weights `minimind sft` starts from.",
                "Defaults follow the --model_family's MiniMind version: minimind2 (default) = 1 epoch of dataset/pretrain_hq.jsonl,",
                "hidden 512; minimind3 = 2 epochs of dataset/pretrain_t2t_mini.jsonl, hidden 768 (both: batch 32, lr 5e-4, accumulation 8)."})
public final class PretrainCommand extends TrainCommand {
    /** train_pretrain.py's defaults: MiniMind2's (1 epoch, pretrain_hq.jsonl) and minimind-3's (2 epochs, pretrain_t2t_mini.jsonl). */
    @Override
    StageDefaults defaults(String family) {
        return family.equals("minimind3")
                ? new StageDefaults("pretrain", "pretrain", 2, 32, 5e-4, 8, 340, "dataset/pretrain_t2t_mini.jsonl", "none", 0.2)
                : new StageDefaults("pretrain", "pretrain", 1, 32, 5e-4, 8, 340, "dataset/pretrain_hq.jsonl", "none", 0.05);
    }
}
