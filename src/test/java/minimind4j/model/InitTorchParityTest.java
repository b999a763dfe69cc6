package minimind4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.TestPython;
import minimind4j.engine.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A fresh model is initialised as MiniMind initialises its family, compared per parameter with the PyTorch module
 * built the way MiniMind builds it: MiniMind2 has no post_init, so real PyTorch's nn.Linear default (kaiming-uniform,
 * |w| <= 1/sqrt(fan_in), std bound/sqrt(3)) and the tied embedding takes lm_head's; minimind-3 calls post_init, i.e.
 * transformers' _init_weights: N(0, 0.02) for every Linear and the embedding. Norms are ones in both.
 */
class InitTorchParityTest {
    static final Path SCRIPT = Path.of("src/test/python/torch_interop.py").toAbsolutePath();

    @ParameterizedTest
    @CsvSource({"minimind2, false", "minimind3, false", "minimind3, true", "minimind2, true"})
    void freshWeightsHavePyTorchsDistributionPerParameter(String family, boolean moe, @TempDir Path dir) throws Exception {
        String py = TestPython.require("torch");
        ModelConfig c = (family.equals("minimind3") ? ModelConfig.minimind3(256, 2, moe) : ModelConfig.minimind2(256, 2, moe));
        Files.writeString(dir.resolve("config.json"), new ObjectMapper().writeValueAsString(
                Map.of("family", family, "hidden_size", 256, "num_hidden_layers", 2, "use_moe", moe, "seed", 1)));
        Process p = new ProcessBuilder(py, SCRIPT.toString(), "init", dir.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        JsonNode torch = new ObjectMapper().readTree(out);
        try (PointerScope s = Torch.scope(); MiniMindLM m = MiniMindLM.init(c, 1)) {
            assertEquals(torch.size(), m.namedParameters().size());
            for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
                JsonNode ref = torch.get(e.getKey());
                assertTrue(ref != null, e.getKey() + " is not one of PyTorch's parameters");
                float[] w = Torch.toFloats(e.getValue());
                double sum = 0, sq = 0, max = 0;
                for (float x : w) {
                    sum += x;
                    max = Math.max(max, Math.abs(x));
                }
                double mean = sum / w.length;
                for (float x : w) sq += (x - mean) * (x - mean);
                double std = Math.sqrt(sq / (w.length - 1));
                String k = e.getKey();
                if (ref.get("std").asDouble() == 0) {
                    assertEquals(0.0, std, k);
                    assertEquals(ref.get("mean").asDouble(), mean, 0.0, k);  // ones
                    continue;
                }
                assertEquals(ref.get("std").asDouble(), std, 0.06 * ref.get("std").asDouble(), k + " std");
                assertEquals(0.0, mean, 0.2 * std, k + " mean");
                if (family.equals("minimind2")) assertTrue(max <= ref.get("max_abs").asDouble() * 1.01 && max > 0.97 * ref.get("max_abs").asDouble(), k + " bound " + max + " vs " + ref.get("max_abs"));
            }
        }
    }
}
