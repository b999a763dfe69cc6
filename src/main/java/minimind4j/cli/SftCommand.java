package minimind4j.cli;

import picocli.CommandLine.Command;

@Command(name = "sft", mixinStandardHelpOptions = true, sortOptions = false, defaultValueProvider = StageDefaultValues.class,
        resourceBundle = "minimind4j.cli.StageHelp$Sft",
        description = {"Full-parameter supervised fine-tuning, as MiniMind's trainer/train_full_sft.py.",
                "Starts from {save_dir}/{from_weight}_{hidden}.pth (default out/pretrain_512.pth) and saves {save_dir}/full_sft_{hidden}.pth.",
                "Defaults follow the --model_family's MiniMind version: minimind2 (default) = MiniMind2's train_full_sft.py",
                "(hidden 512, lr ${bundle:m2.learning_rate}, max_seq_len ${bundle:m2.max_seq_len}, ${bundle:m2.data_path}, empty_think_ratio ${bundle:m2.empty_think_ratio}); minimind3 = the",
                "current one (hidden 768, lr ${bundle:m3.learning_rate}, max_seq_len ${bundle:m3.max_seq_len}, ${bundle:m3.data_path}, empty_think_ratio ${bundle:m3.empty_think_ratio}).",
                "With no --data_path and no default data file, runs the bundled demo (demo/README.md)."})
public final class SftCommand extends TrainCommand {
    /** train_full_sft.py's defaults ({@link minimind4j.train.StageDefaults}). */
    @Override
    minimind4j.train.Stage stage() { return minimind4j.train.Stage.SFT; }

    @Override
    Demo.Profile demoProfile() { return Demo.sft(); }
}
