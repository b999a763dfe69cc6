package minimind4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.TestPaths;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.Weights;
import minimind4j.data.PretrainDataset;
import minimind4j.data.Sample;
import minimind4j.data.SftDataset;
import minimind4j.data.TokenDataset;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.model.ReferenceForward;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code minimind eval}: the mean cross-entropy over every supervised token, against a plain-Java double-precision
 * forward (ReferenceForward) summed token by token, on samples of unequal length so that batching, padding and a
 * token-weighted (not batch-weighted) mean all show.
 */
class EvalCommandTest {
    @TempDir
    static Path dir;
    static Path weight;
    static ModelConfig config = ModelConfig.minimind2(32, 1, false);

    @BeforeAll
    static void saveWeight() {
        weight = dir.resolve("full_sft_32.pth");
        try (MiniMindLM m = MiniMindLM.init(config, 17)) {
            Weights.saveHalf(weight, m);
        }
    }

    /** Σ per-token losses / Σ supervised tokens, sample by sample, with the weights as the file holds them. */
    static double referenceLoss(TokenDataset ds) {
        Map<String, float[]> w = new HashMap<>();
        for (Map.Entry<String, HostTensor> e : Weights.read(weight).entrySet()) w.put(e.getKey(), e.getValue().toFloatArray());
        double sum = 0;
        long n = 0;
        for (int i = 0; i < ds.size(); i++) {
            Sample s = ds.get(i, 0);
            long[] ids = new long[s.ids().length], labels = new long[s.labels().length];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = s.ids()[t];
                labels[t] = s.labels()[t];
            }
            sum += ReferenceForward.loss(ReferenceForward.logits(config, w, ids), labels) * s.supervised();
            n += s.supervised();
        }
        return sum / n;
    }

    @Test
    void sftLossIsTheTokenMeanOverAssistantReplies() throws Exception {
        Path data = Files.write(dir.resolve("eval.jsonl"), List.of(
                "{\"conversations\":[{\"role\":\"user\",\"content\":\"你好\"},{\"role\":\"assistant\",\"content\":\"你好！我是一个很长很长的回答，有很多很多的字。\"}]}",
                "{\"conversations\":[{\"role\":\"user\",\"content\":\"1+1?\"},{\"role\":\"assistant\",\"content\":\"2\"}]}",
                "{\"conversations\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b c\"},{\"role\":\"user\",\"content\":\"d\"},{\"role\":\"assistant\",\"content\":\"e f g h\"}]}"));
        double expected;
        long tokens;
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(TestPaths.minimind2());
             SftDataset ds = new SftDataset(SftDataset.index(data, true), tok, 340, 0.0, 1.0, 42)) {
            expected = referenceLoss(ds);
            tokens = 0;
            for (int i = 0; i < ds.size(); i++) tokens += ds.get(i, 0).supervised();
        }
        CliRun r = CliRun.of("eval", "--weight", weight.toString(), "--data", data.toString(), "--tokenizer_path",
                TestPaths.minimind2().toString(), "--batch_size", "2", "--device", "cpu", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("sft", j.get("stage").asText());
        assertEquals(3, j.get("samples").asInt());
        assertEquals(tokens, j.get("supervised_tokens").asLong());
        assertEquals(expected, j.get("loss").asDouble(), 1e-4);
        assertEquals(Math.exp(expected), j.get("perplexity").asDouble(), 1e-3 * Math.exp(expected));
        // the plain form says the same
        CliRun plain = CliRun.of("eval", "--weight", weight.toString(), "--data", data.toString(), "--tokenizer_path",
                TestPaths.minimind2().toString(), "--batch_size", "3", "--device", "cpu");
        assertEquals(0, plain.code(), plain.err());
        // read back rather than compared as text: the 4-decimal rounding of a value 1e-6 away may fall either side
        java.util.regex.Matcher printed = java.util.regex.Pattern.compile("loss (\\d+\\.\\d{4})\\b").matcher(plain.out());
        assertTrue(printed.find(), plain.out());
        assertEquals(expected, Double.parseDouble(printed.group(1)), 1e-4, plain.out());
    }

    @Test
    void pretrainLossCoversAllTextAndTheStageIsDetected() throws Exception {
        Path data = Files.write(dir.resolve("pre.jsonl"), List.of("{\"text\":\"天空是蓝色的，因为瑞利散射。\"}", "{\"text\":\"ok\"}",
                "{\"text\":\"The quick brown fox jumps over the lazy dog.\"}"));
        double expected;
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(TestPaths.minimind2());
             PretrainDataset ds = new PretrainDataset(PretrainDataset.index(data, true), tok, 340)) {
            expected = referenceLoss(ds);
        }
        CliRun r = CliRun.of("eval", "--weight", weight.toString(), "--data", data.toString(), "--tokenizer_path",
                TestPaths.minimind2().toString(), "--batch_size", "2", "--device", "cpu", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("pretrain", j.get("stage").asText());
        assertEquals(expected, j.get("loss").asDouble(), 1e-4);
    }

    @Test
    void aMissingDataFileIsAOneLineError() {
        CliRun r = CliRun.of("eval", "--weight", weight.toString(), "--data", dir.resolve("none.jsonl").toString(),
                "--tokenizer_path", TestPaths.minimind2().toString());
        assertEquals(2, r.code());
        assertTrue(r.err().strip().startsWith("error: " + dir.resolve("none.jsonl") + ": no such file"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
    }
}
