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
 * Go's text/template, the engine Ollama runs a Modelfile's TEMPLATE with: {@code go run} of the standard-library-only
 * program in {@code src/test/go/ollamatemplate} (Debian's golang-go, which {@code .ci/run} installs). As
 * {@link TestPython}: missing under CI fails the test, elsewhere skips it naming the package.
 */
public final class TestGo {
    private TestGo() {}

    public static JsonNode render(JsonNode job) {
        Path dir = TestPaths.resources().getParent().resolve("go/ollamatemplate");
        try {
            Path err = Files.createTempFile("go", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(List.of("go", "run", ".")).directory(dir.toFile()).redirectError(err.toFile());
                pb.environment().put("GOPROXY", "off");       // nothing to download: the standard library only
                pb.environment().put("GOFLAGS", "-mod=mod");
                pb.environment().put("GOTOOLCHAIN", "local");
                if (System.getenv("GOCACHE") == null && System.getenv("HOME") == null && System.getenv("XDG_CACHE_HOME") == null)
                    pb.environment().put("GOCACHE", Path.of(System.getProperty("java.io.tmpdir"), "minimind4j-gocache").toString());
                Process p;
                try {
                    p = pb.start();
                } catch (IOException e) {
                    String message = "no go on PATH (apt-get install -y golang-go; .ci/run installs it)";
                    if (TestPython.underCi()) throw new AssertionError(message + ": CI must run this Ollama template check, not skip it");
                    Assumptions.abort(message);
                    return null;
                }
                try (var in = p.getOutputStream()) {
                    new ObjectMapper().writeValue(in, job);
                }
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(300, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("go run timed out");
                }
                if (p.exitValue() != 0) throw new AssertionError("go run failed (" + p.exitValue() + "):\n" + Files.readString(err));
                return new ObjectMapper().readTree(out);
            } finally {
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run go: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
