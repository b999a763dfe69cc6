package minimind4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import minimind4j.TestPaths;

/**
 * The checked-in expected-*.jsonl must be what Python Jinja2 renders today from the checked-in inputs: reruns
 * {@code scripts/render_templates.py} into a temporary folder and compares. Needs python3 with jinja2 (TestPython: fails under CI,
 * skips elsewhere); the parity tests themselves never need Python.
 */
class ChatTemplateExpectationsTest {

    private static final Path ROOT = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    private static final Path FIXTURES = ROOT.resolve("src/test/resources/template-parity");

    @Test
    void checkedInExpectationsAreWhatJinjaRendersNow(@TempDir Path out) throws Exception {
        String python = minimind4j.TestPython.require("jinja2");
        Process p = new ProcessBuilder(python, ROOT.resolve("scripts/render_templates.py").toString(),
                "--fixtures", FIXTURES.toString(),
                "--minimind3", TestPaths.minimind3().toString(),
                "--minimind2", TestPaths.minimind2().toString(),
                "--out", out.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "render_templates.py did not finish");
        assertEquals(0, p.exitValue(), "render_templates.py failed:\n" + log);
        for (String name : List.of("expected-minimind3.jsonl", "expected-minimind2.jsonl", "expected-features.jsonl")) {
            assertEquals(Files.readString(out.resolve(name)), Files.readString(FIXTURES.resolve(name)),
                    name + " is stale: run python3 scripts/render_templates.py and commit the result");
        }
    }
}
