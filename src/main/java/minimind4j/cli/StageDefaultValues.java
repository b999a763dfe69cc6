package minimind4j.cli;

import minimind4j.UserError;
import minimind4j.train.StageDefaults;
import minimind4j.train.TrainConfig;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.Locale;

/**
 * The training flags' defaults as picocli sees them: the command's stage defaults for --model_family's family
 * ({@link StageDefaults}, minimind2 without the flag), so {@code --help} shows the values a run uses. A run takes a
 * flag's value only when it was given ({@link TrainCommand#given}): a flag not given follows the family the starting
 * weights turn out to have, which parsing cannot know yet.
 */
public final class StageDefaultValues implements IDefaultValueProvider {
    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option) || !(arg.command().userObject() instanceof TrainCommand command)) return null;
        TrainConfig d;
        try {
            d = command.defaults();
        } catch (UserError badFamily) {
            return null;  // the run reports it
        }
        // --save_dir and --save-dir are equally long: the snake_case spelling names the flag
        return switch ("--" + option.longestName().substring(2).replace('-', '_')) {
            case "--save_dir" -> d.saveDir().toString();
            case "--save_weight" -> d.saveWeight();
            case "--epochs" -> String.valueOf(d.epochs());
            case "--batch_size" -> String.valueOf(d.batchSize());
            case "--learning_rate" -> number(d.learningRate());
            case "--accumulation_steps" -> String.valueOf(d.accumulationSteps());
            case "--grad_clip" -> number(d.gradClip());
            case "--log_interval" -> String.valueOf(d.logInterval());
            case "--save_interval" -> String.valueOf(d.saveInterval());
            case "--max_seq_len" -> String.valueOf(d.maxSeqLen());
            case "--data_path" -> d.dataPath().toString();
            case "--from_weight" -> d.fromWeight();
            case "--from_resume" -> d.fromResume() ? "1" : "0";
            case "--tokenizer_path" -> d.tokenizerPath().toString();
            case "--add_system_ratio" -> number(d.addSystemRatio());
            case "--empty_think_ratio" -> number(d.emptyThinkRatio());
            case "--group_by_length" -> d.groupByLength() ? "1" : "0";
            case "--eval_interval" -> String.valueOf(d.evalInterval());
            case "--max_nan_steps" -> String.valueOf(d.maxNanSteps());
            case "--seed" -> String.valueOf(d.seed());
            case "--max_steps" -> String.valueOf(d.maxSteps());
            case "--loss_average" -> d.lossAverage().name().toLowerCase(Locale.ROOT);
            case "--beta" -> number(StageDefaults.dpoBeta(StageDefaults.family(command.m.family)));
            default -> null;
        };
    }

    /** 1e-6 rather than Java's 1.0E-6; 0.05 as it is. */
    static String number(double v) {
        String s = Double.toString(v);
        return s.contains("E") ? s.replace(".0E", "E").replace("E", "e") : s;
    }
}
