package minimind4j.checkpoint;

import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.DType;
import minimind4j.cli.Minimind;
import minimind4j.UserError;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class WeightsTest {
    @TempDir
    Path dir;

    static final ModelConfig TINY = ModelConfig.minimind2(32, 2, false).withVocabSize(100).withHeads(4, 2);

    private static float[] logits(MiniMindLM m) {
        try (PointerScope s = Torch.scope()) {
            m.train(false);
            return Torch.toFloats(m.logits(m.forward(Torch.longs(new long[]{1, 5, 9, 42, 7}, 1, 5), null, null, null).states()));
        }
    }

    @Test
    void pthAndSafetensorsRoundTripGiveIdenticalLogits() {
        try (MiniMindLM m = MiniMindLM.init(TINY, 3)) {
            // fp32 files reproduce the logits exactly; the fp16 .pth MiniMind writes matches the fp16-rounded model
            for (String name : new String[]{"w.safetensors", "w32.pth"}) {
                Path p = dir.resolve(name);
                Weights.write(p, Weights.hostStateDict(m, DType.F32));
                try (MiniMindLM back = Weights.load(p, TINY, true, null)) {
                    assertArrayEquals(logits(m), logits(back), name);
                }
            }
            Path half = dir.resolve("half.pth");
            Weights.saveHalf(half, m);
            Map<String, HostTensor> sd = Weights.read(half);
            assertEquals(DType.F16, sd.get("model.norm.weight").dtype());
            Path again = dir.resolve("again.pth");
            try (MiniMindLM h = Weights.load(half, TINY, true, null)) {
                Weights.saveHalf(again, h);
                try (MiniMindLM h2 = Weights.load(again, TINY, true, null)) {
                    assertArrayEquals(logits(h), logits(h2), "fp16 save of fp16-exact weights is lossless");
                }
                float[] a = logits(m), b = logits(h);
                for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 2e-2, "fp16 rounding only");
            }
            assertEquals(Weights.read(half).keySet(), Weights.read(again).keySet());
        }
    }

    @Test
    void strictLoadListsEveryBadKeyWithBothShapes() {
        try (MiniMindLM m = MiniMindLM.init(TINY, 3)) {
            LinkedHashMap<String, HostTensor> sd = Weights.hostStateDict(m, DType.F16);
            sd.remove("model.layers.1.mlp.up_proj.weight");
            sd.put("model.layers.0.self_attn.q_proj.weight", HostTensor.zeros(DType.F16, 16, 32));
            sd.put("extra.bias", HostTensor.zeros(DType.F16, 3));
            Path p = dir.resolve("bad.pth");
            Weights.write(p, sd);
            UserError e = assertThrows(UserError.class, () -> Weights.load(p, TINY, true, null));
            String msg = e.getMessage();
            // FFN width for hidden 32: 64 * ceil(int(32*8/3)=85 / 64) = 128
            assertTrue(msg.contains("missing:    model.layers.1.mlp.up_proj.weight [128, 32]"), msg);
            assertTrue(msg.contains("unexpected: extra.bias [3]"), msg);
            assertTrue(msg.contains("model.layers.0.self_attn.q_proj.weight: model [32, 32], file [16, 32]"), msg);
            // non-strict loads what fits and reports the rest
            ByteArrayOutputStream report = new ByteArrayOutputStream();
            try (MiniMindLM partial = Weights.load(p, TINY, false, new PrintStream(report, true, StandardCharsets.UTF_8))) {
                assertTrue(report.toString(StandardCharsets.UTF_8).contains("1 missing, 1 unexpected, 1 mis-shaped"));
                float[] embA = Torch.toFloats(m.namedParameters().get(MiniMindLM.EMBED));
                float[] embB = Torch.toFloats(partial.namedParameters().get(MiniMindLM.EMBED));
                for (int i = 0; i < embA.length; i++) assertEquals(embA[i], embB[i], 1e-3);
            }
        }
    }

    @Test
    void infoPrintsMiniMindsDefaultModel() throws Exception {
        Path p = dir.resolve("full_sft_512.pth");
        try (MiniMindLM m = MiniMindLM.init(ModelConfig.minimind2(), 1)) {
            Weights.saveHalf(p, m);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            assertEquals(0, Minimind.run("info", "--weight", p.toString()));
        } finally {
            System.setOut(old);
        }
        String s = out.toString(StandardCharsets.UTF_8);
        assertTrue(s.contains("parameters: 25,829,888"), s);
        assertTrue(s.contains("keys: 75 (a complete MiniMind state dict)"), s);
        assertTrue(s.contains("hidden_size=512 num_hidden_layers=8 num_attention_heads=8 num_key_value_heads=2"), s);
        assertTrue(s.contains("lm_head.weight"), s);
    }
}
