package minimind4j.cli;

import minimind4j.UserError;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one launcher: {@code minimind <command> [options]}. Each command is its own small class. */
@Command(name = "minimind", mixinStandardHelpOptions = true, version = "minimind4j 0.1.0",
        description = "MiniMind's pretrain and SFT stages, chat and serve, in Java on libtorch.",
        subcommands = {
                SftCommand.class, LoraCommand.class, PretrainCommand.class, DpoCommand.class, ChatCommand.class, ServeCommand.class, LoadTestCommand.class, EvalCommand.class, InfoCommand.class,
                DataCommand.class, ExportCommand.class, BenchCommand.class, TokenizeCommand.class, TemplateCommand.class, TokenizerCommand.class, DemoDataCommand.class,
                CommandLine.HelpCommand.class})
public final class Minimind {

    public static void main(String[] args) {
        // Chinese text must not turn into '?' where the locale is POSIX (Java 17 then defaults stdout to ASCII)
        System.setOut(new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, java.nio.charset.StandardCharsets.UTF_8));
        System.setErr(new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true, java.nio.charset.StandardCharsets.UTF_8));
        String wrongNatives = minimind4j.engine.NativePlatform.mismatch(minimind4j.engine.NativePlatform.built(),
                minimind4j.engine.NativePlatform.running());
        if (wrongNatives != null) {
            System.err.println("error: " + wrongNatives);
            System.exit(2);
        }
        // before anything touches libtorch: a system libtorch (Debian's libtorch-dev) must not be linked in on a cold cache
        minimind4j.engine.NativeLibraries.prepare();
        // The launchers pass -Xss4m (chat templates and pickles nest deeply); a plain `java -jar minimind4j.jar` gets
        // the same stack from this thread.
        int[] status = {1};
        Thread cli = new Thread(null, () -> status[0] = run(args), "main", 4L << 20);
        cli.start();
        try {
            cli.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.exit(status[0]);
    }

    public static int run(String... args) {
        return run(CommandLine.defaultFactory(), args);
    }

    /** {@link #run(String...)} with the commands made by {@code factory} (tests hand a training command its {@code LossFault}). */
    static int run(CommandLine.IFactory factory, String... args) {
        CommandLine cli = new CommandLine(new Minimind(), factory);
        cli.setOut(new java.io.PrintWriter(new java.io.OutputStreamWriter(System.out, java.nio.charset.StandardCharsets.UTF_8), true));
        cli.setErr(new java.io.PrintWriter(new java.io.OutputStreamWriter(System.err, java.nio.charset.StandardCharsets.UTF_8), true));
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Throwable t = ex;
            while (t != null && !(t instanceof UserError)) t = t.getCause();
            if (t != null) {
                cmd.getErr().println("error: " + t.getMessage());
                return 2;
            }
            // a file system failure no command anticipated (a full disk, an I/O error): still one line with the path
            for (t = ex; t != null; t = t.getCause()) {
                if (t instanceof java.io.IOException io) {
                    cmd.getErr().println("error: " + (io instanceof java.nio.file.FileSystemException fse
                            ? fse.getFile() + ": " + (fse.getReason() != null ? fse.getReason() : fse.getClass().getSimpleName())
                            : io.getMessage()));
                    return 2;
                }
            }
            throw ex;
        });
        return cli.execute(args);
    }
}
