package minimind4j.lora;

import minimind4j.checkpoint.SameWeights;
import minimind4j.checkpoint.format.DType;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Pth;
import minimind4j.checkpoint.Weights;
import minimind4j.UserError;
import minimind4j.engine.Torch;
import minimind4j.generate.Generator;
import minimind4j.generate.Sampling;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.model.RandomBatch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The adapters on tiny random models: identity at init, adapter-on == merged, frozen base, MiniMind / PEFT names. */
class LoraAdaptersTest {
    static final ModelConfig DENSE = ModelConfig.minimind2(32, 2, false).withVocabSize(96);
    static final ModelConfig MOE = ModelConfig.minimind2(32, 2, true).withVocabSize(96);

    @TempDir
    Path dir;

    static LoraConfig cfg(int rank, double alpha, String target) {
        return new LoraConfig(rank, alpha, 0.0, LoraTargets.parse(target));
    }

    static double loss(MiniMindLM m, RandomBatch b, int rows, int cols) {
        try (PointerScope s = Torch.scope()) {
            return m.loss(Torch.longs(b.ids(), rows, cols), Torch.longs(b.labels(), rows, cols)).total().item_double();
        }
    }

    static float[] logits(MiniMindLM m, RandomBatch b, int rows, int cols) {
        try (PointerScope s = Torch.scope()) {
            return Torch.toFloats(m.logits(m.forward(Torch.longs(b.ids(), rows, cols), null, null, null).states()).contiguous());
        }
    }

    /** Adapters with every B random too (a trained adapter), from host tensors under MiniMind's names. */
    static LoraAdapters trained(ModelConfig c, LoraConfig cfg, long seed) {
        Random r = new Random(seed);
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>();
        for (LoraTargets.Module m : cfg.targets().select(c)) {
            sd.put(LoraAdapters.keyA(m.name()), random(r, cfg.rank(), m.inFeatures()));
            sd.put(LoraAdapters.keyB(m.name()), random(r, m.outFeatures(), cfg.rank()));
        }
        return LoraAdapters.fromStateDict(sd, c, cfg, "test", null);
    }

    static HostTensor random(Random r, long rows, long cols) {
        float[] v = new float[(int) (rows * cols)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 0.1);
        return HostTensor.ofFloats(new long[]{rows, cols}, v);
    }

    @Test
    void freshAdaptersLeaveTheBaseModelExactlyAsItWas() {
        for (ModelConfig c : List.of(DENSE, MOE)) {
            RandomBatch b = RandomBatch.of(c.vocabSize(), 2, 12, 4, 7);
            try (MiniMindLM m = MiniMindLM.init(c, 1); LoraAdapters a = LoraAdapters.init(c, cfg(4, 8, "all-linear"), 3, null)) {
                float[] before = logits(m, b, 2, 12);
                double lossBefore = loss(m, b, 2, 12);
                a.attach(m);
                assertArrayEquals(before, logits(m, b, 2, 12), "B = 0: the adapted model's logits are the base's, bit for bit");
                assertEquals(lossBefore, loss(m, b, 2, 12));
                // and A was initialised as MiniMind's: normal(0, 0.02), not zeros
                Map<String, HostTensor> sd = a.stateDict(false, DType.F32);
                HostTensor a0 = sd.get(LoraAdapters.keyA("model.layers.0.self_attn.q_proj"));
                double sq = 0;
                for (float x : a0.toFloatArray()) sq += x * x;
                double std = Math.sqrt(sq / a0.numel());
                assertTrue(std > 0.015 && std < 0.025, "A's std should be ~0.02, was " + std);
            }
        }
    }

    @Test
    void adaptedModelEqualsMergedWeightsInLossAndGreedyText() {
        for (ModelConfig c : List.of(DENSE, MOE)) {
            // alpha != rank: the scale must be applied the same way on both sides
            LoraConfig lc = cfg(4, 12, "all-linear");
            RandomBatch b = RandomBatch.of(c.vocabSize(), 2, 16, 5, 11);
            try (MiniMindLM base = MiniMindLM.init(c, 5); LoraAdapters a = trained(c, lc, 9)) {
                LinkedHashMap<String, HostTensor> baseSd = Weights.hostStateDict(base, DType.F32);
                double plain = loss(base, b, 2, 16);
                a.attach(base);
                base.train(false);
                double adapted = loss(base, b, 2, 16);
                int[] prompt = {3, 17, 42, 5, 8};
                int[] adaptedText = new Generator(base).generate(prompt, 20, Sampling.GREEDY, -1, 0, null).tokens();
                Path merged = dir.resolve("merged_" + c.useMoe() + ".pth");
                Weights.write(merged, a.merge(baseSd, DType.F32));
                try (MiniMindLM m = Weights.load(merged, c, true, null)) {
                    m.train(false);
                    double mergedLoss = loss(m, b, 2, 16);
                    assertNotEquals(plain, adapted, 1e-3, "the adapter changes the model");
                    assertEquals(adapted, mergedLoss, 1e-5, "adapter on == merged weights");
                    int[] mergedText = new Generator(m).generate(prompt, 20, Sampling.GREEDY, -1, 0, null).tokens();
                    assertArrayEquals(adaptedText, mergedText, "greedy continuation with the adapter == with merged weights");
                }
            }
        }
    }

    @Test
    void onlyAdaptersGetGradientsAndTheBaseIsUntouched() {
        try (MiniMindLM m = MiniMindLM.init(DENSE, 2); LoraAdapters a = LoraAdapters.init(DENSE, cfg(4, 4, "square"), 3, null)) {
            a.attach(m);
            RandomBatch b = RandomBatch.of(DENSE.vocabSize(), 2, 12, 4, 1);
            try (PointerScope s = Torch.scope()) {
                m.loss(Torch.longs(b.ids(), 2, 12), Torch.longs(b.labels(), 2, 12)).total().backward();
            }
            for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
                assertFalse(e.getValue().requires_grad(), e.getKey() + " is frozen");
                assertFalse(e.getValue().grad().defined(), e.getKey() + " has no gradient buffer");
            }
            TensorVector p = a.parameters();
            assertEquals(2 * 2 * 2, p.size(), "square layers of a 32-hidden MiniMind2: q_proj and o_proj per layer, A and B each");
            for (long i = 0; i < p.size(); i++) assertTrue(p.get(i).grad().defined(), "adapter tensor " + i + " has a gradient");
            // B = 0 means A's gradient is zero at the first step and B's is not (the usual LoRA start)
            assertEquals(0.0, p.get(0).grad().abs().sum().item_double());
            assertTrue(p.get(1).grad().abs().sum().item_double() > 0);
        }
    }

    @Test
    void defaultTargetsAreMiniMindsSquareLayers() {
        List<String> names = new ArrayList<>();
        for (LoraTargets.Module m : LoraTargets.parse(null).select(DENSE)) names.add(m.name());
        assertEquals(List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.o_proj",
                "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.o_proj"), names);
        assertEquals(2 * 7, LoraTargets.parse("all-linear").select(DENSE).size());
        // MoE: every expert's projections too (4 routed + 1 shared), never the router
        assertEquals(2 * (4 + 3 * 5), LoraTargets.parse("all-linear").select(MOE).size());
        assertEquals(4, LoraTargets.parse("k_proj, v_proj").select(DENSE).size());
        UserError e = assertThrows(UserError.class, () -> LoraTargets.parse("q_proj,lm_head"));
        assertTrue(e.getMessage().contains("lm_head"), e.getMessage());
    }

    @Test
    void miniMindFileRoundTripsWithModelLoraKeyNamesAndFoldsAlpha() throws Exception {
        LoraConfig lc = cfg(4, 8, "square");  // scale 2: folded into B in MiniMind's file
        RandomBatch b = RandomBatch.of(DENSE.vocabSize(), 2, 12, 4, 3);
        Path file = dir.resolve("lora_test_32.pth");
        double adapted;
        try (MiniMindLM m = MiniMindLM.init(DENSE, 4); LoraAdapters a = trained(DENSE, lc, 2)) {
            a.attach(m);
            adapted = loss(m, b, 2, 12);
            LoraFiles.writeMiniMind(file, a);
        }
        LinkedHashMap<String, HostTensor> raw = Pth.readStateDict(file);
        assertEquals(List.of("model.layers.0.self_attn.q_proj.lora.A.weight", "model.layers.0.self_attn.q_proj.lora.B.weight",
                "model.layers.0.self_attn.o_proj.lora.A.weight", "model.layers.0.self_attn.o_proj.lora.B.weight",
                "model.layers.1.self_attn.q_proj.lora.A.weight", "model.layers.1.self_attn.q_proj.lora.B.weight",
                "model.layers.1.self_attn.o_proj.lora.A.weight", "model.layers.1.self_attn.o_proj.lora.B.weight"), new ArrayList<>(raw.keySet()));
        for (HostTensor t : raw.values()) assertEquals(DType.F16, t.dtype(), "save_lora writes fp16");
        assertArrayEquals(new long[]{4, 32}, raw.get("model.layers.0.self_attn.q_proj.lora.A.weight").shape());
        assertArrayEquals(new long[]{32, 4}, raw.get("model.layers.0.self_attn.q_proj.lora.B.weight").shape());
        try (MiniMindLM m = MiniMindLM.init(DENSE, 4); LoraAdapters back = LoraFiles.read(file, DENSE, null)) {
            assertEquals(1.0, back.config().scale(), "MiniMind's files carry no alpha: scale 1, B already scaled");
            back.attach(m);
            assertEquals(adapted, loss(m, b, 2, 12), 2e-3, "fp16 round trip of a scale-2 adapter");
            // written again, the same bytes come back: names and values survive the round trip
            Path again = dir.resolve("again.pth");
            LoraFiles.writeMiniMind(again, back);
            LinkedHashMap<String, HostTensor> raw2 = Pth.readStateDict(again);
            SameWeights.assertBitIdentical(raw, raw2);
        }
        // DistributedDataParallel's "module." prefix is accepted, as load_lora strips it
        LinkedHashMap<String, HostTensor> ddp = new LinkedHashMap<>();
        raw.forEach((k, v) -> ddp.put("module." + k, v));
        try (LoraAdapters a = LoraAdapters.fromStateDict(ddp, DENSE, null, "ddp", null)) {
            assertEquals(4, a.moduleNames().size());
        }
    }

    @Test
    void peftLayoutHasPeftNamesUnscaledBAndAlphaInTheConfig() throws Exception {
        LoraConfig lc = cfg(4, 8, "q_proj,v_proj");
        RandomBatch b = RandomBatch.of(DENSE.vocabSize(), 2, 12, 4, 3);
        Path peft = dir.resolve("peft");
        double adapted;
        try (MiniMindLM m = MiniMindLM.init(DENSE, 4); LoraAdapters a = trained(DENSE, lc, 2)) {
            a.attach(m);
            adapted = loss(m, b, 2, 12);
            LoraFiles.writePeft(peft, a, "out/minimind-hf");
            HostTensor bRaw = a.stateDict(false, DType.F32).get(LoraAdapters.keyB("model.layers.1.self_attn.v_proj"));
            var st = minimind4j.checkpoint.format.Safetensors.read(peft.resolve("adapter_model.safetensors"));
            assertTrue(st.containsKey("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"), st.keySet().toString());
            assertArrayEquals(bRaw.toByteArray(), st.get("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight").toByteArray(), "PEFT's B is unscaled");
            assertEquals(8, st.size());
        }
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(peft.resolve("adapter_config.json").toFile());
        assertEquals("LORA", json.get("peft_type").asText());
        assertEquals("CAUSAL_LM", json.get("task_type").asText());
        assertEquals(4, json.get("r").asInt());
        assertEquals(8, json.get("lora_alpha").asInt());
        assertEquals("out/minimind-hf", json.get("base_model_name_or_path").asText());
        assertEquals("[\"q_proj\",\"v_proj\"]", json.get("target_modules").toString());
        try (MiniMindLM m = MiniMindLM.init(DENSE, 4); LoraAdapters back = LoraFiles.read(peft, DENSE, null)) {
            assertEquals(2.0, back.config().scale());
            back.attach(m);
            assertEquals(adapted, loss(m, b, 2, 12), 1e-6, "PEFT's fp32 files round trip exactly");
        }
    }

    @Test
    void anAdapterForAnotherModelIsRefusedInOneLine() throws Exception {
        Path file = dir.resolve("other.pth");
        ModelConfig wider = ModelConfig.minimind2(64, 2, false).withVocabSize(96);
        try (LoraAdapters a = trained(wider, cfg(4, 4, "square"), 1)) {
            LoraFiles.writeMiniMind(file, a);
        }
        UserError e = assertThrows(UserError.class, () -> LoraFiles.read(file, DENSE, null));
        assertTrue(e.getMessage().startsWith(file + ": not a LoRA adapter for this model"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        Files.writeString(dir.resolve("x.txt"), "");
        assertThrows(UserError.class, () -> LoraFiles.read(dir.resolve("missing.pth"), DENSE, null));
        // a full weight file is not an adapter
        try (MiniMindLM m = MiniMindLM.init(DENSE, 1)) {
            Weights.saveHalf(dir.resolve("full.pth"), m);
        }
        UserError full = assertThrows(UserError.class, () -> LoraFiles.read(dir.resolve("full.pth"), DENSE, null));
        assertTrue(full.getMessage().contains("unexpected key model.embed_tokens.weight"), full.getMessage());
        assertTrue(Arrays.asList(full.getMessage().split(";")).size() <= 7);
    }
}
