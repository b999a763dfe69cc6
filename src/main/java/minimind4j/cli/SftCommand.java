package minimind4j.cli;

import picocli.CommandLine.Command;

@Command(name = "sft", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Full-parameter supervised fine-tuning, as MiniMind's trainer/train_full_sft.py.",
                "Starts from {save_dir}/{from_weight}_{hidden}.pth (default out/pretrain_512.pth) and saves {save_dir}/full_sft_{hidden}.pth.",
                "Defaults follow the --model_family's MiniMind version: minimind2 (default) = MiniMind2's train_full_sft.py",
                "(hidden 512, lr 1e-6, max_seq_len 340, dataset/sft_mini_512.jsonl, empty_think_ratio 0.05); minimind3 = the",
                "current one (hidden 768, lr 1e-5, max_seq_len 768, dataset/sft_t2t_mini.jsonl, empty_think_ratio 0.2).",
                "With no --data_path and no default data file, runs the bundled demo (demo/README.md)."})
public final class SftCommand extends TrainCommand {
    /**
     * train_full_sft.py's defaults: MiniMind2's (the last commit before minimind-3: lr 1e-6, max_seq_len 340,
     * sft_mini_512.jsonl, lm_dataset.py's empty_think_ratio 0.05) and minimind-3's (current: lr 1e-5, max_seq_len 768,
     * sft_t2t_mini.jsonl, empty_think_ratio 0.2). Both: 2 epochs, batch 16, no accumulation, add_system_ratio 0.2.
     */
    @Override
    StageDefaults defaults(String family) {
        return family.equals("minimind3")
                ? new StageDefaults("sft", "full_sft", 2, 16, 1e-5, 1, 768, "dataset/sft_t2t_mini.jsonl", "pretrain", 0.2)
                : new StageDefaults("sft", "full_sft", 2, 16, 1e-6, 1, 340, "dataset/sft_mini_512.jsonl", "pretrain", 0.05);
    }

    @Override
    Demo.Profile demoProfile() { return Demo.sft(); }
}
