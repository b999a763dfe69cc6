package minimind4j.cli;

import picocli.CommandLine.Command;

@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false, defaultValueProvider = StageDefaultValues.class,
        resourceBundle = "minimind4j.cli.StageHelp$Pretrain",
        description = {"Pretraining on {\"text\": ...} lines, as MiniMind's trainer/train_pretrain.py.",
                "Saves {save_dir}/pretrain_{hidden}.pth, the weights `minimind sft` starts from.",
                "Defaults follow the --model_family's MiniMind version: minimind2 (default) = ${bundle:m2.epochs} epoch of ${bundle:m2.data_path},",
                "hidden 512; minimind3 = ${bundle:m3.epochs} epochs of ${bundle:m3.data_path}, hidden 768 (both: batch ${bundle:m2.batch_size}, lr ${bundle:m2.learning_rate}, accumulation ${bundle:m2.accumulation_steps})."})
public final class PretrainCommand extends TrainCommand {
    /** train_pretrain.py's defaults ({@link minimind4j.train.StageDefaults}). */
    @Override
    minimind4j.train.Stage stage() { return minimind4j.train.Stage.PRETRAIN; }
}
