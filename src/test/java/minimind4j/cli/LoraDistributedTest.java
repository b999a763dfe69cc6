package minimind4j.cli;

import minimind4j.TestPaths;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Pth;
import minimind4j.checkpoint.Weights;
import minimind4j.data.SftDataset;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** {@code minimind lora --nproc_per_node 2}: two ranks of batch 2 train the adapters as one process of batch 4 does. */
class LoraDistributedTest {
    @TempDir
    static Path dir;
    static Path data, base;

    @BeforeAll
    static void setUp() throws IOException {
        // conversations of one token count each, so the mean over ranks of per-rank means is the global mean
        List<String> lines = new ArrayList<>();
        String letters = "abcdefghijklmnopqrstuvwxyz";
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(TestPaths.minimind2())) {
            int want = -1;
            for (int i = 0; i < 26 * 26 && lines.size() < 16; i++) {
                String q = letters.charAt(i % 26) + " " + letters.charAt((i * 7 + 3) % 26), a = letters.charAt((i * 5 + 1) % 26) + "";
                String line = "{\"conversations\":[{\"role\":\"user\",\"content\":\"" + q + "\"},{\"role\":\"assistant\",\"content\":\"" + a + "\"}]}";
                Path one = Files.writeString(dir.resolve("probe.jsonl"), line);
                try (SftDataset ds = new SftDataset(SftDataset.index(one, true), tok, 64, 0.0, 1.0, 42)) {
                    int n = ds.get(0, 0).ids().length * 1000 + ds.get(0, 0).supervised();
                    if (want < 0) want = n;
                    if (n == want) lines.add(line);
                }
            }
        }
        assertEquals(16, lines.size());
        data = Files.write(dir.resolve("same.jsonl"), lines);
        base = dir.resolve("base_32.pth");
        try (MiniMindLM m = MiniMindLM.init(ModelConfig.minimind2(32, 2, false), 3)) {
            Weights.saveHalf(base, m);
        }
    }

    static Process start(Path save, int port, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("lora", "--data_path", data.toString(),
                "--tokenizer_path", TestPaths.minimind2().toString(), "--save_dir", save.toString(), "--from_weight", base.toString(),
                "--max_seq_len", "64", "--learning_rate", "1e-2", "--group_by_length", "0", "--num_threads", "1", "--dtype", "float32", "--epochs", "1",
                "--add_system_ratio", "0", "--lora_target", "all-linear", "--lora_name", "lora_dp", "--master_port", String.valueOf(port)));
        args.addAll(List.of(extra));
        return minimind4j.CliProcess.start(save, List.of(), args);
    }

    static String log(Path save) throws IOException {
        return minimind4j.CliProcess.log(save);
    }

    @SuppressWarnings("unchecked")
    static Map<String, HostTensor> resumeModel(Path p) throws IOException {
        return (Map<String, HostTensor>) ((Map<String, Object>) Pth.read(p)).get("model");
    }

    @Test
    void twoRanksOfBatchTwoTrainTheAdaptersLikeOneProcessOfBatchFour() throws Exception {
        Path one = dir.resolve("one"), two = dir.resolve("two");
        Process a = start(one, 29751, "--batch_size", "4");
        assertTrue(a.waitFor(180, TimeUnit.SECONDS));
        assertEquals(0, a.exitValue(), log(one));
        Process b = start(two, 29753, "--batch_size", "2", "--nproc_per_node", "2");
        assertTrue(b.waitFor(240, TimeUnit.SECONDS));
        assertEquals(0, b.exitValue(), log(two));
        Map<String, HostTensor> w1 = resumeModel(one.resolve("lora_dp_32_resume.pth")), w2 = resumeModel(two.resolve("lora_dp_32_resume.pth"));
        Map<String, HostTensor> start = Weights.read(base);
        long total = 0, off = 0, moved = 0;
        double maxDiff = 0;
        for (String k : w1.keySet()) {
            float[] x = w1.get(k).toFloatArray(), y = w2.get(k).toFloatArray();
            if (!k.contains(".lora.")) {
                // frozen on every rank
                assertArrayEquals(start.get(k).toFloatArray(), y, k);
                continue;
            }
            for (int i = 0; i < x.length; i++) {
                double d = Math.abs(x[i] - y[i]);
                maxDiff = Math.max(maxDiff, d);
                if (d > 1e-5) off++;
                if (k.endsWith("B.weight") && x[i] != 0) moved++;
                total++;
            }
        }
        assertTrue(moved > 0, "B moved away from zero");
        // as in DistributedTest: a missing or wrong allreduce moves most adapter entries by ~lr = 1e-2
        assertTrue(off < total / 1000 + 1, off + " of " + total + " adapter entries differ by more than 1e-5 (max " + maxDiff + ")");
        assertTrue(maxDiff < 1e-4, "max difference " + maxDiff);
        assertEquals(2L, ((Number) ((Map<?, ?>) Pth.read(two.resolve("lora_dp_32_resume.pth"))).get("world_size")).longValue());
        assertTrue(Files.isRegularFile(two.resolve("lora_dp_32.pth")));
    }
}
