package minimind4j.cli;

import picocli.CommandLine.Command;

@Command(name = "sft", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Full-parameter supervised fine-tuning, as MiniMind's trainer/train_full_sft.py.",
                "Starts from {save_dir}/{from_weight}_{hidden}.pth (default out/pretrain_512.pth) and saves {save_dir}/full_sft_{hidden}.pth.",
                "With no --data_path and no dataset/sft_mini_512.jsonl, runs the bundled demo (demo/README.md)."})
public final class SftCommand extends TrainCommand {
    @Override
    StageDefaults defaults() {
        return new StageDefaults("sft", "full_sft", 2, 16, 1e-6, 1, 340, "dataset/sft_mini_512.jsonl", "pretrain");
    }

    @Override
    Demo.Profile demoProfile() { return Demo.sft(); }
}
