package minimind4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code minimind tokenizer <subcommand>}: MiniMind's trainer/train_tokenizer.py. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true, version = "minimind4j 0.1.0",
        description = {"Tokenizer tools (MiniMind's trainer/train_tokenizer.py).",
                "MiniMind ships a ready tokenizer (vocab 6400); train your own only for your own models: "
                        + "weights trained with one vocabulary do not work with another."},
        subcommands = {TrainTokenizerCommand.class, CommandLine.HelpCommand.class})
public final class TokenizerCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing subcommand: try 'minimind tokenizer train --help'");
    }
}
