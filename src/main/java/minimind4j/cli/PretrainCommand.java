package minimind4j.cli;

import picocli.CommandLine.Command;

@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Pretraining on {\"text\": ...} lines, as MiniMind's trainer/train_pretrain.py.",
                "Saves {save_dir}/pretrain_{hidden}.pth, the weights `minimind sft` starts from."})
public final class PretrainCommand extends TrainCommand {
    @Override
    StageDefaults defaults() {
        return new StageDefaults("pretrain", "pretrain", 1, 32, 5e-4, 8, 340, "dataset/pretrain_hq.jsonl", "none");
    }
}
