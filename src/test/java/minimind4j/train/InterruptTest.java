package minimind4j.train;

import minimind4j.TestPaths;
import minimind4j.checkpoint.HostTensor;
import minimind4j.checkpoint.Pth;
import minimind4j.checkpoint.Weights;
import minimind4j.cli.Minimind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Ctrl-C (SIGINT) during training saves a resume checkpoint and exits with 130; --from_resume 1 then continues from
 * exactly there: interrupted after S steps and resumed for M more, the run ends bit-identical (weights and every logged
 * loss) to one uninterrupted run of S + M steps.
 */
class InterruptTest {
    @TempDir
    Path dir;

    @Test
    void sigintSavesAResumeCheckpointAndExitsCleanly() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 64; i++) lines.add("{\"text\":\"Sample number " + i + " is here.\"}");
        Path data = Files.write(dir.resolve("d.jsonl"), lines);
        Path save = dir.resolve("out"), log = dir.resolve("log.txt");
        List<String> train = List.of("pretrain", "--data_path", data.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                "--hidden_size", "32", "--num_hidden_layers", "1", "--max_seq_len", "32", "--device", "cpu",
                "--batch_size", "2", "--accumulation_steps", "1", "--epochs", "1000", "--log_interval", "1", "--num_threads", "1");
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-cp", System.getProperty("java.class.path"),
                "minimind4j.cli.Minimind"));
        cmd.addAll(train);
        cmd.addAll(List.of("--save_dir", save.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline && !Files.readString(log, StandardCharsets.UTF_8).contains("Epoch:[1/1000](3/32)")) Thread.sleep(100);
        assertTrue(Files.readString(log, StandardCharsets.UTF_8).contains("(3/32)"), Files.readString(log, StandardCharsets.UTF_8));
        new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "did not stop after SIGINT");
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(130, p.exitValue(), out);
        assertTrue(out.contains("interrupted: saved"), out);
        assertTrue(Files.exists(save.resolve("pretrain_32_resume.pth")));
        assertTrue(Files.exists(save.resolve("pretrain_32.pth")));
        assertFalse(out.contains("Exception"), out);

        // continue for 5 more steps, in-process, and compare with one uninterrupted run of stopped + 5 steps
        @SuppressWarnings("unchecked") Map<String, Object> root = (Map<String, Object>) Pth.read(save.resolve("pretrain_32_resume.pth"));
        assertEquals(0L, ((Number) root.get("epoch")).longValue());
        long stopped = ((Number) root.get("step")).longValue();
        assertTrue(stopped >= 3, "stopped at step " + stopped);
        assertEquals(0, Minimind.run(with(train, "--save_dir", save.toString(), "--from_resume", "1", "--max_steps", "5")));
        Path full = dir.resolve("full");
        assertEquals(0, Minimind.run(with(train, "--save_dir", full.toString(), "--max_steps", String.valueOf(stopped + 5))));
        for (String name : List.of("pretrain_32.pth", "pretrain_32_resume.pth")) {
            Map<String, HostTensor> a = Weights.read(full.resolve(name)), b = Weights.read(save.resolve(name));
            assertEquals(a.keySet(), b.keySet());
            for (String k : a.keySet()) assertEquals(a.get(k), b.get(k), name + " " + k + ": the resumed run differs from the uninterrupted one");
        }
        List<String> lossFull = losses(full.resolve("pretrain_32_metrics.csv")), lossResumed = losses(save.resolve("pretrain_32_metrics.csv"));
        assertEquals(stopped + 5, lossFull.size());
        assertEquals(lossFull, lossResumed, "every step's loss, before and after the interrupt");
    }

    private static String[] with(List<String> base, String... more) {
        List<String> a = new ArrayList<>(base);
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** global_step:loss per logged row. */
    private static List<String> losses(Path csv) throws Exception {
        List<String> rows = Files.readAllLines(csv), out = new ArrayList<>();
        for (String line : rows.subList(1, rows.size())) {
            String[] f = line.split(",", -1);
            out.add(f[2] + ":" + f[3]);
        }
        return out;
    }
}
