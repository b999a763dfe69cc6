package minimind4j.train;

import minimind4j.TestPaths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Ctrl-C (SIGINT) during training saves a resume checkpoint, exits with 130, and --from_resume 1 continues. */
class InterruptTest {
    @TempDir
    Path dir;

    @Test
    void sigintSavesAResumeCheckpointAndExitsCleanly() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 64; i++) lines.add("{\"text\":\"Sample number " + i + " is here.\"}");
        Path data = Files.write(dir.resolve("d.jsonl"), lines);
        Path save = dir.resolve("out"), log = dir.resolve("log.txt");
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElse("java"), "-cp", System.getProperty("java.class.path"),
                "minimind4j.cli.Minimind", "pretrain", "--data_path", data.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                "--save_dir", save.toString(), "--hidden_size", "32", "--num_hidden_layers", "1", "--max_seq_len", "32",
                "--batch_size", "2", "--accumulation_steps", "1", "--epochs", "1000", "--log_interval", "1", "--num_threads", "1");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline && !Files.readString(log, StandardCharsets.UTF_8).contains("Epoch:[1/1000](3/32)")) Thread.sleep(100);
        assertTrue(Files.readString(log, StandardCharsets.UTF_8).contains("(3/32)"), Files.readString(log, StandardCharsets.UTF_8));
        new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "did not stop after SIGINT");
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(130, p.exitValue(), out);
        assertTrue(out.contains("interrupted (SIGINT): saved"), out);
        assertTrue(Files.exists(save.resolve("pretrain_32_resume.pth")));
        assertTrue(Files.exists(save.resolve("pretrain_32.pth")));
        assertFalse(out.contains("Exception"), out);
    }
}
