package minimind4j.checkpoint;

import minimind4j.checkpoint.format.Pth;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.DType;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import minimind4j.TestPaths;
import minimind4j.TestPython;
import minimind4j.cli.Minimind;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * .pth files against real PyTorch (Debian's python3-torch, src/test/python/real_torch_pth.py): a file torch.save wrote
 * is read here value for value, torch.load(weights_only=True) reads the weight files written here, and torch.load
 * reads the resume file of a real run (weights_only=False there: torch 1.13 cannot unpickle its Python floats).
 */
class RealTorchPthTest {
    static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
    static final String SCRIPT = "src/test/python/real_torch_pth.py";

    @TempDir
    Path dir;

    static JsonNode torch(String mode, Path file) throws Exception {
        return JSON.readTree(TestPython.run(new String[]{"torch"}, "", SCRIPT, mode, file.toString()));
    }

    static void assertSame(String key, JsonNode expected, HostTensor actual) {
        assertEquals(Map.of("float16", "F16", "bfloat16", "BF16", "float32", "F32").get(expected.get("dtype").asText()),
                actual.dtype().name(), key);
        long[] shape = new long[expected.get("shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = expected.get("shape").get(i).asLong();
        assertArrayEquals(shape, actual.shape(), key);
        float[] v = actual.toFloatArray();
        JsonNode values = expected.get("values");
        assertEquals(values.size(), v.length, key);
        for (int i = 0; i < v.length; i++) {
            // bit-exact, so -0.0 and 0.0 differ
            assertEquals(Float.floatToIntBits((float) values.get(i).asDouble()), Float.floatToIntBits(v[i]), key + "[" + i + "]: " + values.get(i) + " vs " + v[i]);
        }
    }

    @Test
    void readsAStateDictThatTorchSaveWrote() throws Exception {
        Path file = dir.resolve("torch_written.pth");
        JsonNode expected = torch("save", file);
        Map<String, HostTensor> sd = Pth.readStateDict(file);
        List<String> keys = new ArrayList<>();
        expected.fieldNames().forEachRemaining(keys::add);
        assertEquals(keys, new ArrayList<>(sd.keySet()), "keys in torch's order");
        for (String k : keys) assertSame(k, expected.get(k), sd.get(k));
        assertEquals(sd.get("model.embed_tokens.weight"), sd.get("lm_head.weight"), "the tied view");
    }

    @Test
    void torchLoadsOurWeightFilesWithWeightsOnlyAndOurResumeFiles() throws Exception {
        ModelConfig c = ModelConfig.minimind2(32, 1, false).withVocabSize(64).withHeads(4, 2);
        Path weights = dir.resolve("full_sft_32.pth");
        Map<String, HostTensor> ours;
        try (MiniMindLM m = MiniMindLM.init(c, 3)) {
            Weights.saveHalf(weights, m);
            ours = Weights.hostStateDict(m, DType.F16);
        }
        JsonNode loaded = torch("load", weights);
        List<String> keys = new ArrayList<>();
        loaded.fieldNames().forEachRemaining(keys::add);
        assertEquals(new ArrayList<>(ours.keySet()), keys);
        for (String k : keys) assertSame(k, loaded.get(k), ours.get(k));

        // a resume file from a real (two-step) training run
        Path data = Files.write(dir.resolve("sft.jsonl"), List.of(
                "{\"conversations\":[{\"role\":\"user\",\"content\":\"1+1?\"},{\"role\":\"assistant\",\"content\":\"2\"}]}",
                "{\"conversations\":[{\"role\":\"user\",\"content\":\"2+2?\"},{\"role\":\"assistant\",\"content\":\"4\"}]}"));
        Path save = dir.resolve("run");
        assertEquals(0, Minimind.run("sft", "--data_path", data.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                "--save_dir", save.toString(), "--hidden_size", "32", "--num_hidden_layers", "1", "--max_seq_len", "128",
                "--epochs", "2", "--batch_size", "1", "--from_weight", "none", "--device", "cpu", "--num_threads", "1"));
        // weights_only=False: torch 1.13's restricted unpickler refuses the Python floats of the optimizer settings
        JsonNode resume = torch("load-full", save.resolve("full_sft_32_resume.pth"));
        Map<String, HostTensor> model = Weights.read(save.resolve("full_sft_32_resume.pth"));
        for (Iterator<String> it = resume.get("model").fieldNames(); it.hasNext(); ) {
            String k = it.next();
            assertSame("resume model " + k, resume.get("model").get(k), model.get(k));
        }
        assertEquals(model.size(), resume.get("model").size());
        assertEquals(1, resume.get("epoch").asInt());
        assertEquals(2, resume.get("step").asInt());
        assertTrue(resume.has("optimizer"), resume.toString().substring(0, 200));
    }
}
