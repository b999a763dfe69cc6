package minimind4j.cli;

import minimind4j.TestPaths;
import minimind4j.checkpoint.Weights;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real subprocesses: the {@code ./minimind} launcher script itself, and {@code minimind serve} stopped by SIGINT. */
class LauncherAndSignalsTest {
    @TempDir
    Path dir;

    static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    static String run(Process p, int seconds) throws Exception {
        boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly();
        assertTrue(done, "did not finish in " + seconds + " s");
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    /**
     * The launcher from the checkout, in a copy of its layout whose jar is this build's classes (target/lib: this
     * test's class path), so it runs without invoking Maven: --help reaches picocli, and a user error's exit code 2
     * and one-line message come through the script's exec.
     */
    @Test
    void theLauncherScriptRunsTheCli() throws Exception {
        Path home = dir.resolve("home"), lib = home.resolve("target/lib");
        Files.createDirectories(lib);
        Files.copy(Path.of("minimind"), home.resolve("minimind"));
        assertTrue(home.resolve("minimind").toFile().setExecutable(true));
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path e = Path.of(entry);
            if (Files.isRegularFile(e) && entry.endsWith(".jar")) Files.createSymbolicLink(lib.resolve(n++ + "-" + e.getFileName()), e.toAbsolutePath());
        }
        Path classes = Path.of("target/classes");
        try (OutputStream os = Files.newOutputStream(home.resolve("target/minimind4j.jar")); JarOutputStream jar = new JarOutputStream(os);
             Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                jar.putNextEntry(new ZipEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
                jar.write(Files.readAllBytes(f));
                jar.closeEntry();
            }
        }
        Files.writeString(home.resolve("target/.minimind-build-opts"), "opts:\n");
        Process help = new ProcessBuilder(home.resolve("minimind").toString(), "--help").redirectErrorStream(true).start();
        String out = run(help, 120);
        assertEquals(0, help.exitValue(), out);
        assertFalse(out.contains("building"), "no Maven build: " + out);
        for (String cmd : List.of("sft", "pretrain", "chat", "serve", "eval", "export", "bench")) assertTrue(out.contains(cmd), cmd + " in\n" + out);
        Process bad = new ProcessBuilder(home.resolve("minimind").toString(), "chat", "--weight", dir.resolve("none.pth").toString())
                .redirectErrorStream(true).start();
        String err = run(bad, 120);
        assertEquals(2, bad.exitValue(), err);
        assertEquals("error: " + dir.resolve("none.pth") + ": no such weight file", err.strip());
    }

    /** Ctrl-C on a running server: it says it stopped, frees the port and exits, with no stack trace. */
    @Test
    void serveStopsOnSigint() throws Exception {
        Path weight = dir.resolve("full_sft_32.pth");
        try (MiniMindLM m = MiniMindLM.init(ModelConfig.minimind2(32, 1, false), 2)) {
            Weights.saveHalf(weight, m);
        }
        Path log = dir.resolve("serve.log");
        List<String> cmd = new ArrayList<>(List.of(java(), "-cp", System.getProperty("java.class.path"), "minimind4j.cli.Minimind",
                "serve", "--weight", weight.toString(), "--tokenizer_path", TestPaths.minimind2().toString(), "--port", "0", "--max_new_tokens", "4"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        String url = null;
        Pattern listening = Pattern.compile("listening on (http://127\\.0\\.0\\.1:(\\d+))/v1");
        for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120); url == null && System.nanoTime() < end && p.isAlive(); ) {
            Matcher m = listening.matcher(Files.readString(log));
            if (m.find()) url = m.group(1);
            else Thread.sleep(100);
        }
        assertTrue(url != null, "no listening line: " + Files.readString(log));
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(url + "/health")).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "serve did not stop after SIGINT: " + Files.readString(log));
        String out = Files.readString(log);
        assertEquals(130, p.exitValue(), out);
        assertTrue(out.strip().endsWith("minimind serve: stopped"), out);
        assertFalse(out.contains("Exception"), out);
        // the port is free again
        int port = Integer.parseInt(url.substring(url.lastIndexOf(':') + 1));
        try (java.net.ServerSocket again = new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertEquals(port, again.getLocalPort());
        }
    }
}
