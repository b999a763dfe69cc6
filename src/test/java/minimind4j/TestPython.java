package minimind4j;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Python interpreter the cross-checks run on. Debian's {@code /usr/bin/python3} comes first (its python3-numpy,
 * python3-jinja2 and python3-torch are what {@code .ci/run} installs; a {@code python3} earlier on PATH may be another
 * interpreter without them), then {@code python3} on PATH. A test that needs modules calls {@link #require}: under CI
 * (the {@code CI} variable set) a missing module fails the test, elsewhere it is skipped with a message naming the
 * package to install, so CI never passes a cross-check it did not run.
 */
public final class TestPython {
    private TestPython() {}

    /** The interpreter that imports every module, or null (the rule is the product's: minimind4j.engine.Python). */
    private static String find(List<String> modules) {
        return minimind4j.engine.Python.find(modules);
    }

    /** True when running under CI ({@code CI} set and not "false"). */
    public static boolean underCi() {
        String ci = System.getenv("CI");
        return ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false");
    }

    /**
     * The interpreter that has all these modules (e.g. "numpy", "jinja2", "torch"). Without one: fails under CI,
     * skips elsewhere — either way with the Debian packages to install.
     */
    public static String require(String... modules) {
        List<String> mods = List.of(modules);
        String python = find(mods);
        if (python != null) return python;
        List<String> packages = new ArrayList<>();
        for (String m : mods) packages.add("python3-" + m);
        String message = "no python3 with " + String.join(", ", mods) + " (apt-get install -y " + String.join(" ", packages)
                + "; .ci/run installs them)";
        if (underCi()) throw new AssertionError(message + ": CI must run this cross-check, not skip it");
        Assumptions.abort(message);
        return null;
    }

    /**
     * Runs {@code python script args...} with the interpreter that has {@code modules} (see {@link #require}), feeding
     * {@code stdin}; returns standard output, failing the test with standard error when the script fails.
     */
    public static String run(String[] modules, String stdin, String script, String... args) {
        String python = require(modules);
        List<String> command = new ArrayList<>(List.of(python, script));
        command.addAll(List.of(args));
        try {
            Path err = Files.createTempFile("testpython", ".err");
            try {
                Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
                try (var in = p.getOutputStream()) {
                    in.write(stdin.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(300, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("python timed out: " + command);
                }
                if (p.exitValue() != 0)
                    throw new AssertionError("python failed (" + p.exitValue() + "): " + command + "\n" + Files.readString(err));
                return new String(out, java.nio.charset.StandardCharsets.UTF_8);
            } finally {
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted: " + command, e);
        }
    }

    /** True when an interpreter with these modules exists (no skip, no failure). */
    public static boolean has(String... modules) {
        return find(List.of(modules)) != null;
    }
}
