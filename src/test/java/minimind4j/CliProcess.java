package minimind4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The CLI in a JVM of its own, as a user starts it (this test JVM's java and class path), both output streams going to
 * {@code <save>.log} beside the save directory. RANK is removed from its environment, so a launcher never mistakes
 * itself for a worker.
 */
public final class CliProcess {
    private CliProcess() {}

    public static Process start(Path save, List<String> jvmFlags, List<String> arguments) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path")));
        cmd.addAll(jvmFlags);
        cmd.add("minimind4j.cli.Minimind");
        cmd.addAll(arguments);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("RANK");
        pb.redirectOutput(logFile(save).toFile());
        Files.createDirectories(save);
        return pb.start();
    }

    /** What the process started for {@code save} printed so far. */
    public static String log(Path save) throws IOException {
        return Files.readString(logFile(save), StandardCharsets.UTF_8);
    }

    private static Path logFile(Path save) {
        return save.resolveSibling(save.getFileName() + ".log");
    }
}
