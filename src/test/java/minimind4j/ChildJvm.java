package minimind4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code minimind} run as its own JVM, the way users run it, so a test can send it real signals ({@code kill -TERM}),
 * see its real exit status (a native abort is 134, not a Java exception), and give it real limits ({@code ulimit -f}).
 * Output (stdout and stderr together) goes to a log file the test polls.
 */
public final class ChildJvm {
    public final Process process;
    public final Path log;

    private ChildJvm(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    public static ChildJvm start(Path log, String... args) throws IOException {
        return start(log, null, args);
    }

    /** {@code shellPrefix}, when given, runs first in the same shell (e.g. "ulimit -f 1200"), then execs the JVM. */
    public static ChildJvm start(Path log, String shellPrefix, String... args) throws IOException {
        List<String> java = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), "minimind4j.cli.Minimind"));
        java.addAll(List.of(args));
        List<String> cmd;
        if (shellPrefix == null) {
            cmd = java;
        } else {
            cmd = new ArrayList<>(List.of("bash", "-c", shellPrefix + " && exec \"$@\"", "bash"));
            cmd.addAll(java);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("RANK");
        return new ChildJvm(pb.start(), log);
    }

    public String output() throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    /** Waits (polling every few ms) until the output contains {@code text}; false after {@code seconds}. */
    public boolean awaitOutput(String text, int seconds) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        while (System.currentTimeMillis() < deadline) {
            if (output().contains(text)) return true;
            if (!process.isAlive()) return output().contains(text);
            Thread.sleep(5);
        }
        return false;
    }

    /** Sends a real signal ("TERM", "HUP", "INT", "KILL") with kill(1). */
    public void signal(String name) throws IOException, InterruptedException {
        signal(process.pid(), name);
    }

    public static void signal(long pid, String name) throws IOException, InterruptedException {
        Process k = new ProcessBuilder("kill", "-" + name, String.valueOf(pid)).inheritIO().start();
        if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) throw new AssertionError("kill -" + name + " " + pid + " failed");
    }

    /** The exit status, waiting at most {@code seconds}; kills the process and fails when it does not end. */
    public int exitCode(int seconds) throws IOException, InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("did not exit within " + seconds + " s:\n" + output());
        }
        return process.exitValue();
    }
}
