package minimind4j.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.TestPython;
import minimind4j.checkpoint.format.DType;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Pth;
import minimind4j.checkpoint.Weights;
import minimind4j.engine.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MoE feed-forward of both families against real PyTorch (scripts/minimind_torch.py mirroring MiniMind's
 * MOEFeedForward: minimind-3's router Linear, top-1, renormalised weights, batch-level aux loss 5e-4, no shared
 * expert; MiniMind2's MoEGate, top-2, shared expert, per-sequence aux loss 0.01): loss, aux loss, every gradient and the
 * eval-mode logits. The 1x3 batch has fewer tokens than experts, so some expert is chosen by none: its gradient must be
 * there and zero, as MiniMind's 0 * sum(expert params) makes it (PyTorch's AdamW then still steps it).
 */
class MoeTorchParityTest {
    static final Path SCRIPT = Path.of("src/test/python/torch_interop.py").toAbsolutePath();

    @ParameterizedTest
    @CsvSource({"minimind3, 2, 12", "minimind3, 1, 3", "minimind2, 2, 12", "minimind2, 1, 3"})
    void moeForwardAndGradientsEqualPyTorchs(String family, int rows, int cols, @TempDir Path dir) throws Exception {
        String py = TestPython.require("torch");
        int vocab = 96;
        ModelConfig c = (family.equals("minimind3") ? ModelConfig.minimind3(64, 2, true) : ModelConfig.minimind2(64, 2, true)).withVocabSize(vocab);
        RandomBatch b = RandomBatch.of(vocab, rows, cols, 1, 17);
        try (PointerScope s = Torch.scope(); MiniMindLM m = MiniMindLM.init(c, 4)) {
            Weights.write(dir.resolve("weights.pth"), Weights.hostStateDict(m, DType.F32));
            LinkedHashMap<String, Object> batch = new LinkedHashMap<>();
            batch.put("ids", HostTensor.ofLongs(new long[]{rows, cols}, b.ids()));
            batch.put("labels", HostTensor.ofLongs(new long[]{rows, cols}, b.labels()));
            Pth.write(dir.resolve("batch.pth"), batch);
            Map<String, Object> cfg = Map.of("family", family, "hidden_size", 64, "num_hidden_layers", 2, "use_moe", true, "vocab_size", vocab);
            Files.writeString(dir.resolve("config.json"), new ObjectMapper().writeValueAsString(cfg));
            Process p = new ProcessBuilder(py, SCRIPT.toString(), "grads", dir.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(300, TimeUnit.SECONDS) && p.exitValue() == 0, out);
            Map<String, HostTensor> ref = Weights.read(dir.resolve("torch_grads.pth"));

            m.train(true);
            MiniMindLM.Loss l = m.loss(Torch.longs(b.ids(), rows, cols), Torch.longs(b.labels(), rows, cols));
            l.total().backward();
            double loss = l.logitsLoss().item_double(), aux = l.auxLoss().item_double();
            double refLoss = value(ref.get("loss")), refAux = value(ref.get("aux_loss"));
            assertEquals(refLoss, loss, 2e-6 * refLoss, "logits loss");
            assertTrue(refAux > 0, "aux loss in training");
            assertEquals(refAux, aux, 1e-5 * refAux, "aux loss");
            int zeroExperts = 0;
            for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
                Tensor g = e.getValue().grad();
                assertTrue(g.defined(), e.getKey() + " has no gradient (PyTorch's AdamW would step it, libtorch's would skip it)");
                float[] ours = Torch.toFloats(g), theirs = Torch.toFloats(Weights.toTensor(ref.get(e.getKey()), torch.ScalarType.Float));
                double diff = 0, norm = 0, mine = 0;
                for (int i = 0; i < ours.length; i++) {
                    diff += Math.pow(ours[i] - theirs[i], 2);
                    norm += Math.pow(theirs[i], 2);
                    mine += Math.pow(ours[i], 2);
                }
                if (norm == 0) {
                    assertEquals(0.0, mine, e.getKey() + ": torch's gradient is zero");
                    if (e.getKey().contains("experts.")) zeroExperts++;
                } else {
                    assertTrue(Math.sqrt(diff / norm) < 1e-4, e.getKey() + ": gradient rel. diff " + Math.sqrt(diff / norm));
                }
            }
            if (rows * cols < c.nRoutedExperts()) assertTrue(zeroExperts > 0, "some expert had no token");

            m.train(false);
            try (PointerScope s2 = Torch.scope()) {
                MiniMindLM.Hidden h = m.forward(Torch.longs(b.ids(), rows, cols), null, null, null);
                float[] logits = Torch.toFloats(m.logits(h.states()));
                float[] theirs = Torch.toFloats(Weights.toTensor(ref.get("eval_logits"), torch.ScalarType.Float));
                double worst = 0;
                for (int i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i] - theirs[i]));
                assertTrue(worst < 1e-4, "eval logits differ by " + worst);
                assertEquals(0.0, h.auxLoss().sum().item_double(), "no aux loss in eval mode");
            }
            System.out.printf("%s %dx%d: loss %.7f vs %.7f, aux %.7g vs %.7g%n", family, rows, cols, loss, refLoss, aux, refAux);
        }
    }

    static double value(HostTensor h) {
        return Weights.toTensor(h, torch.ScalarType.Double).item_double();
    }
}
