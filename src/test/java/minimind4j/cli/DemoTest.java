package minimind4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The README's main command: `minimind sft` with no data flags runs the bundled demo end to end. */
class DemoTest {
    @TempDir
    Path dir;

    @Test
    void sftWithoutArgumentsRunsTheBundledDemo() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            // a few steps only: the full demo takes minutes; everything else is what the README command does
            code = Minimind.run("sft", "--save_dir", dir.toString(), "--max_steps", "3", "--num_threads", "1");
        } finally {
            System.setOut(old);
        }
        String s = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, s);
        assertTrue(s.contains("running the bundled demo"), s);
        assertTrue(Files.exists(dir.resolve("full_sft_128.pth")));
        assertTrue(s.contains("Held-out questions"), s);
        assertEquals(6, s.lines().filter(l -> l.startsWith("  sft:")).count(), s);
        assertEquals(6, s.lines().filter(l -> l.startsWith("  pretrain:")).count(), s);
    }
}
