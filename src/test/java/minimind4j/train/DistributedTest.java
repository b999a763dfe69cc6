package minimind4j.train;

import minimind4j.TestPaths;
import minimind4j.checkpoint.HostTensor;
import minimind4j.checkpoint.Pth;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Two worker processes over Gloo on loopback, launched the way a user launches them (--nproc_per_node 2). */
class DistributedTest {
    @TempDir
    static Path dir;
    static Path data;

    @BeforeAll
    static void data() throws IOException {
        // every line the same token count, so the mean over ranks of per-rank means is the global mean
        data = Files.write(dir.resolve("same.jsonl"), sameLengthTexts(16));
    }

    /** {"text": "x y"} lines that all encode to the same number of tokens with the MiniMind2 tokenizer. */
    static List<String> sameLengthTexts(int n) {
        List<String> lines = new ArrayList<>();
        String letters = "abcdefghijklmnopqrstuvwxyz";
        try (minimind4j.tokenizer.MiniMindTokenizer tok = minimind4j.tokenizer.MiniMindTokenizer.load(TestPaths.minimind2())) {
            for (int i = 0; i < 26 * 26 && lines.size() < n; i++) {
                String text = letters.charAt(i % 26) + " " + letters.charAt((i * 7 + 3) % 26);
                if (tok.encode(text).length == 2) lines.add("{\"text\":\"" + text + "\"}");
            }
        }
        assertEquals(n, lines.size());
        return lines;
    }

    static Process start(Path save, int port, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), "minimind4j.cli.Minimind", "pretrain", "--data_path", data.toString(),
                "--tokenizer_path", TestPaths.minimind2().toString(), "--save_dir", save.toString(), "--hidden_size", "32",
                "--num_hidden_layers", "2", "--max_seq_len", "16", "--from_weight", "none", "--accumulation_steps", "1",
                "--learning_rate", "1e-3", "--group_by_length", "0", "--num_threads", "1", "--master_port", String.valueOf(port)));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("RANK");
        pb.redirectOutput(save.resolveSibling(save.getFileName() + ".log").toFile());
        Files.createDirectories(save);
        return pb.start();
    }

    static String log(Path save) throws IOException {
        return Files.readString(save.resolveSibling(save.getFileName() + ".log"), StandardCharsets.UTF_8);
    }

    @SuppressWarnings("unchecked")
    static Map<String, HostTensor> resumeModel(Path p) throws IOException {
        return (Map<String, HostTensor>) ((Map<String, Object>) Pth.read(p)).get("model");
    }

    @Test
    void twoRanksOfBatchTwoTrainLikeOneProcessOfBatchFour() throws Exception {
        Path one = dir.resolve("one"), two = dir.resolve("two");
        Process a = start(one, 29731, "--batch_size", "4", "--epochs", "1");
        assertTrue(a.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, a.exitValue(), log(one));
        Process b = start(two, 29733, "--batch_size", "2", "--epochs", "1", "--nproc_per_node", "2");
        assertTrue(b.waitFor(180, TimeUnit.SECONDS));
        assertEquals(0, b.exitValue(), log(two));
        Map<String, HostTensor> w1 = resumeModel(one.resolve("pretrain_32_resume.pth")), w2 = resumeModel(two.resolve("pretrain_32_resume.pth"));
        long total = 0, off = 0;
        double maxDiff = 0;
        for (String k : w1.keySet()) {
            float[] x = w1.get(k).toFloatArray(), y = w2.get(k).toFloatArray();
            for (int i = 0; i < x.length; i++) {
                double d = Math.abs(x[i] - y[i]);
                maxDiff = Math.max(maxDiff, d);
                if (d > 1e-5) off++;
                total++;
            }
        }
        // Adam normalises each update, so a gradient differing only in summation order can still move a parameter
        // whose gradient is ~1e-9 a little differently; a missing or wrong allreduce moves most of them
        assertTrue(off < total / 1000, off + " of " + total + " weights differ by more than 1e-5 (max " + maxDiff + ")");
        assertTrue(maxDiff < 1e-4, "max difference " + maxDiff); // seen: 2e-6; a missing average moves weights by ~lr = 1e-3
        // rank 0 alone writes the metrics: one header, one row per logged step (4 steps, the last logged)
        List<String> csv = Files.readAllLines(two.resolve("pretrain_32_metrics.csv"));
        assertEquals(1, csv.stream().filter(l -> l.startsWith("epoch")).count());
        assertEquals(2, csv.size(), String.join("\n", csv));
        assertEquals(2L, ((Number) ((Map<?, ?>) Pth.read(two.resolve("pretrain_32_resume.pth"))).get("world_size")).longValue());
    }

    @Test
    void aRankThatDiesEndsTheRunWithAClearMessage() throws Exception {
        Path save = dir.resolve("dies");
        Process p = start(save, 29735, "--batch_size", "2", "--epochs", "100000", "--nproc_per_node", "2", "--dist_timeout", "20");
        long deadline = System.currentTimeMillis() + 90_000;
        ProcessHandle victim = null;
        while (System.currentTimeMillis() < deadline && victim == null) {
            if (Files.exists(save.resolveSibling("dies.log")) && log(save).contains("model:")) {
                victim = p.descendants().filter(h -> h.info().commandLine().orElse("").contains("minimind4j.cli.Minimind")).reduce((x, y) -> y).orElse(null);
            }
            Thread.sleep(200);
        }
        assertNotNull(victim, "workers did not start: " + log(save));
        victim.destroyForcibly();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher did not end after a rank died");
        assertNotEquals(0, p.exitValue());
        assertTrue(log(save).contains("exited with code"), log(save));
    }
}
