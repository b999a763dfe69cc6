package minimind4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one launcher: {@code minimind <command> [options]}. Each command is its own small class. */
@Command(name = "minimind", mixinStandardHelpOptions = true, version = "minimind4j 0.1.0",
        description = "MiniMind's pretrain and SFT stages, chat and serve, in Java on libtorch.",
        subcommands = {
                SftCommand.class, PretrainCommand.class, ChatCommand.class, ServeCommand.class, EvalCommand.class, InfoCommand.class,
                DataCommand.class, BenchCommand.class, TokenizeCommand.class, TemplateCommand.class, TokenizerCommand.class,
                CommandLine.HelpCommand.class})
public final class Minimind {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Minimind());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Throwable t = ex;
            while (t != null && !(t instanceof UserError)) t = t.getCause();
            if (t != null) {
                cmd.getErr().println("error: " + t.getMessage());
                return 2;
            }
            throw ex;
        });
        return cli.execute(args);
    }
}
