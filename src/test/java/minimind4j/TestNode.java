package minimind4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real llama.cpp for the GGUF checks: node-llama-cpp 3.21.1 (its prebuilt CPU binary) installed in
 * {@code src/test/node} by {@code npm ci} ({@code .ci/run} does it). As {@link TestPython}: missing under CI fails the
 * test, elsewhere skips it naming the install command, so CI never passes a check it did not run.
 */
public final class TestNode {
    private TestNode() {}

    public static Path dir() {
        return TestPaths.resources().getParent().resolve("node");
    }

    public static void require() {
        Path pkg = dir().resolve("node_modules/node-llama-cpp/package.json");
        String problem = null;
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) problem = "node does not run";
        } catch (IOException e) {
            problem = "no node on PATH";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problem = "interrupted";
        }
        if (problem == null) {
            try {
                if (!Files.isRegularFile(pkg) || !new ObjectMapper().readTree(pkg.toFile()).path("version").asText().equals("3.21.1"))
                    problem = "node-llama-cpp 3.21.1 is not installed in " + dir();
            } catch (IOException e) {
                problem = pkg + ": " + e.getMessage();
            }
        }
        if (problem == null) return;
        String message = problem + " (cd src/test/node && npm ci; .ci/run does it)";
        if (TestPython.underCi()) throw new AssertionError(message + ": CI must run this llama.cpp check, not skip it");
        Assumptions.abort(message);
    }

    /** Runs {@code node script job.json} in {@link #dir()} (loopback only, nothing downloaded) and parses its JSON output. */
    public static JsonNode run(String script, JsonNode job) {
        require();
        try {
            Path in = Files.createTempFile("llama-job", ".json"), err = Files.createTempFile("llama-job", ".err");
            try {
                new ObjectMapper().writeValue(in.toFile(), job);
                List<String> command = List.of("node", script, in.toString());
                ProcessBuilder pb = new ProcessBuilder(command).directory(dir().toFile()).redirectError(err.toFile());
                pb.environment().put("NODE_LLAMA_CPP_SKIP_DOWNLOAD", "true");
                Process p = pb.start();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(600, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("node timed out: " + command);
                }
                if (p.exitValue() != 0)
                    throw new AssertionError("node failed (" + p.exitValue() + "): " + command + "\n" + Files.readString(err));
                return new ObjectMapper().readTree(out);
            } finally {
                Files.deleteIfExists(in);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run node: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
