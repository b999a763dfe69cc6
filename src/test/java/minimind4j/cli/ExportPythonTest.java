package minimind4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.TestPaths;
import minimind4j.TestPython;
import minimind4j.checkpoint.Weights;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code minimind export} read by real Python, not by this project: src/test/python/hf_export_forward.py parses
 * model.safetensors with numpy, builds a PyTorch Llama / Qwen3 module from config.json alone (transformers is not
 * installed here, so this stands in for AutoModelForCausalLM), loads the tensors strictly under transformers' names, and
 * its logits must equal MiniMindLM's on the exported weights.
 */
class ExportPythonTest {
    @TempDir
    Path dir;

    void exportedLogitsMatch(ModelConfig c, String architecture) throws Exception {
        Path pth = dir.resolve(architecture + ".pth"), out = dir.resolve(architecture);
        try (MiniMindLM m = MiniMindLM.init(c, 21)) {
            Weights.saveHalf(pth, m);
        }
        CliRun r = CliRun.of("export", "--weight", pth.toString(), "--tokenizer_path",
                (c.qkNorm() ? TestPaths.minimind3() : TestPaths.minimind2()).toString(), "--out_dir", out.toString(), "--dtype", "float32",
                "--num_attention_heads", String.valueOf(c.numAttentionHeads()), "--num_key_value_heads", String.valueOf(c.numKeyValueHeads()));
        assertEquals(0, r.code(), r.err());
        long[] ids = {1, 320, 4000, 17, 99, 2, 1, 6399};
        ObjectMapper json = new ObjectMapper();
        JsonNode py = json.readTree(TestPython.run(new String[]{"numpy", "torch"}, "{\"ids\": " + Arrays.toString(ids) + "}",
                "src/test/python/hf_export_forward.py", out.toString()));
        assertEquals(architecture, py.get("architecture").asText());
        float[] ours;
        try (PointerScope s = Torch.scope(); NoGradGuard g = new NoGradGuard();
             MiniMindLM m = Weights.load(pth, c, true, null)) {
            m.train(false);
            ours = Torch.toFloats(m.logits(m.forward(Torch.longs(ids, 1, ids.length), null, null, null).states()));
        }
        int v = c.vocabSize();
        assertEquals(ids.length, py.get("logits").size());
        for (int t = 0; t < ids.length; t++)
            for (int k = 0; k < v; k++)
                assertEquals(ours[t * v + k], py.get("logits").get(t).get(k).asDouble(), 1e-4, architecture + " position " + t + " token " + k);
    }

    /** 4 heads / 1 KV head has the same tensor shapes as MiniMind2's 8 / 2 at hidden 64: only config.json can say. */
    @Test
    void miniMind2ExportIsALlamaThatPythonRunsToTheSameLogits() throws Exception {
        exportedLogitsMatch(ModelConfig.minimind2(64, 2, false).withHeads(4, 1), "LlamaForCausalLM");
    }

    @Test
    void miniMind3ExportIsAQwen3ThatPythonRunsToTheSameLogits() throws Exception {
        exportedLogitsMatch(ModelConfig.minimind3(64, 2), "Qwen3ForCausalLM");
    }
}
