package minimind4j.checkpoint;

import minimind4j.checkpoint.format.Pth;
import minimind4j.checkpoint.format.PyTuple;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.DType;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.TestPython;
import minimind4j.UserError;
import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.model.RandomBatch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run moves between MiniMind and minimind4j mid-training, checked on real PyTorch (src/test/python/torch_interop.py
 * over scripts/minimind_torch.py): a resume file written here loads into the PyTorch module (strict) and
 * torch.optim.AdamW, and torch's next step equals ours; a file in MiniMind's lm_checkpoint layout written by torch
 * continues here with its AdamW moments, our next update equal to torch's. Each check also shows that a fresh
 * optimizer (the moments dropped) would be far off, so the comparison can fail.
 */
class ResumeInteropTest {
    static final Path SCRIPT = Path.of("src/test/python/torch_interop.py").toAbsolutePath();
    static final ObjectMapper JSON = new ObjectMapper();
    static final int VOCAB = 128, ROWS = 2, COLS = 12;
    static final double LR = 1e-3;
    /** Rel. L2 of our update minus torch's over torch's: fp32 forward/backward differ in the last bits, nothing more. */
    static final double SAME_UPDATE = 1e-4;

    static ModelConfig config(String family, boolean moe) {
        ModelConfig c = family.equals("minimind3") ? ModelConfig.minimind3(64, 2, moe) : ModelConfig.minimind2(64, 2, moe);
        return c.withVocabSize(VOCAB);
    }

    static Map<String, Object> pyConfig(String family, boolean moe) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("family", family);
        m.put("hidden_size", 64);
        m.put("num_hidden_layers", 2);
        m.put("use_moe", moe);
        m.put("vocab_size", VOCAB);
        return m;
    }

    static Tensor ids(RandomBatch b) { return Torch.longs(b.ids(), ROWS, COLS); }

    static Tensor labels(RandomBatch b) { return Torch.longs(b.labels(), ROWS, COLS); }

    /** One step of the trainer with accumulation 1 in fp32: lr set, loss + aux backward, clip 1.0, AdamW, zero. */
    static void step(MiniMindLM m, AdamW opt, RandomBatch b, double lr) {
        try (PointerScope s = Torch.scope()) {
            opt.param_groups().get(0).options().set_lr(lr);
            m.loss(ids(b), labels(b)).total().backward();
            torch.clip_grad_norm_(m.parameters(), 1.0);
            opt.step();
            opt.zero_grad(true);
        }
    }

    /** The model and optimizer resumed from {@code f} take the next step on {@code b} exactly as the live ones do. */
    static void assertNextStepIdentical(Path f, ModelConfig c, MiniMindLM m, AdamW opt, RandomBatch b) {
        ResumeCheckpoint.State s = ResumeCheckpoint.load(f, c, 1);
        try (MiniMindLM r = s.model()) {
            AdamW o2 = adamW(r);
            s.loadOptimizer(o2, Precision.cpu());
            step(m, opt, b, LR);
            step(r, o2, b, LR);
            Map<String, float[]> x = weights(m), y = weights(r);
            for (String k : x.keySet()) assertArrayEquals(x.get(k), y.get(k), k);
        }
    }

    static AdamW adamW(MiniMindLM m) { return Torch.adamW(m.parameters(), LR, 0.9, 0.999, 1e-8, 0.01); }

    static LinkedHashMap<String, float[]> weights(MiniMindLM m) {
        LinkedHashMap<String, float[]> w = new LinkedHashMap<>();
        m.namedParameters().forEach((k, v) -> w.put(k, Torch.toFloats(v)));
        return w;
    }

    static LinkedHashMap<String, float[]> weights(Path pth) {
        LinkedHashMap<String, float[]> w = new LinkedHashMap<>();
        Weights.read(pth).forEach((k, h) -> {
            if (!k.equals(MiniMindLM.LM_HEAD)) w.put(k, Torch.toFloats(Weights.toTensor(h, torch.ScalarType.Float)));
        });
        return w;
    }

    /** ||(a - before) - (b - before)|| / ||b - before|| over every parameter. */
    static double updateDifference(Map<String, float[]> before, Map<String, float[]> a, Map<String, float[]> b) {
        double diff = 0, ref = 0;
        for (String k : before.keySet()) {
            float[] w0 = before.get(k), x = a.get(k), y = b.get(k);
            assertEquals(w0.length, y.length, k);
            for (int i = 0; i < w0.length; i++) {
                double ua = (double) x[i] - w0[i], ub = (double) y[i] - w0[i];
                diff += (ua - ub) * (ua - ub);
                ref += ub * ub;
            }
        }
        return Math.sqrt(diff / ref);
    }

    static String python(String command, Path dir) throws IOException, InterruptedException {
        String py = TestPython.require("torch");
        Path err = dir.resolve("python.err");
        Process p = new ProcessBuilder(py, SCRIPT.toString(), command, dir.toString()).redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("python timed out");
        }
        if (p.exitValue() != 0) throw new AssertionError("torch_interop.py " + command + " failed:\n" + Files.readString(err));
        return out;
    }

    static void writeBatches(Path file, List<RandomBatch> batches) throws IOException {
        LinkedHashMap<String, Object> root = new LinkedHashMap<>();
        long[] ids = new long[batches.size() * ROWS * COLS], labels = new long[ids.length];
        for (int i = 0; i < batches.size(); i++) {
            System.arraycopy(batches.get(i).ids(), 0, ids, i * ROWS * COLS, ROWS * COLS);
            System.arraycopy(batches.get(i).labels(), 0, labels, i * ROWS * COLS, ROWS * COLS);
        }
        long[] shape = batches.size() == 1 ? new long[]{ROWS, COLS} : new long[]{batches.size(), ROWS, COLS};
        root.put("ids", HostTensor.ofLongs(shape, ids));
        root.put("labels", HostTensor.ofLongs(shape, labels));
        Pth.write(file, root);
    }

    @ParameterizedTest
    @CsvSource({"minimind2, false", "minimind3, false", "minimind3, true"})
    void aResumeFileWrittenHereContinuesInPyTorchWithItsMoments(String family, boolean moe, @TempDir Path dir) throws Exception {
        TestPython.require("torch");
        ModelConfig c = config(family, moe);
        RandomBatch b1 = RandomBatch.of(VOCAB, ROWS, COLS, 4, 1), b2 = RandomBatch.of(VOCAB, ROWS, COLS, 3, 2), b3 = RandomBatch.of(VOCAB, ROWS, COLS, 5, 3);
        try (MiniMindLM m = MiniMindLM.init(c, 7)) {
            AdamW opt = adamW(m);
            step(m, opt, b1, LR);
            step(m, opt, b2, LR * 0.9);
            ResumeCheckpoint.save(dir.resolve("resume.pth"), m, opt, 0, 2, 1, 42, ROWS, Map.of());
            Map<String, Object> cfg = pyConfig(family, moe);
            cfg.put("lr", LR * 0.8);
            Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(cfg));
            writeBatches(dir.resolve("batch.pth"), List.of(b3));
            Map<String, float[]> before = weights(m);

            var report = JSON.readTree(python("continue", dir));
            assertEquals(m.namedParameters().size(), report.get("state_count").asInt(),
                    "torch's AdamW holds a state for every parameter");
            report.get("steps").fields().forEachRemaining(e -> assertEquals(2.0, e.getValue().asDouble(), e.getKey()));

            // the uninterrupted run's next step, here
            step(m, opt, b3, LR * 0.8);
            Map<String, float[]> torchAfter = weights(dir.resolve("torch_after.pth"));
            double d = updateDifference(before, weights(m), torchAfter);
            assertTrue(d < SAME_UPDATE, "torch's next update differs from ours by " + d);

            // what dropping the moments would give: far from torch's, so the comparison above can fail
            try (MiniMindLM fresh = MiniMindLM.fromTensors(c, tensors(before, c))) {
                step(fresh, adamW(fresh), b3, LR * 0.8);
                double far = updateDifference(before, weights(fresh), torchAfter);
                System.out.printf("%s moe=%s: update vs torch's %.3g; with a fresh optimizer %.3g%n", family, moe, d, far);
                assertTrue(far > 100 * SAME_UPDATE, "a fresh optimizer is only " + far + " away");
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"minimind2, false", "minimind3, false", "minimind2, true", "minimind3, true"})
    void aMiniMindResumeFileContinuesHereWithItsMoments(String family, boolean moe, @TempDir Path dir) throws Exception {
        TestPython.require("torch");
        ModelConfig c = config(family, moe);
        List<RandomBatch> batches = List.of(RandomBatch.of(VOCAB, ROWS, COLS, 4, 11), RandomBatch.of(VOCAB, ROWS, COLS, 2, 12),
                RandomBatch.of(VOCAB, ROWS, COLS, 6, 13));
        double[] lrs = {LR, LR * 0.7, LR * 0.5};
        Map<String, Object> cfg = pyConfig(family, moe);
        cfg.put("lrs", lrs);
        cfg.put("seed", 5);
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(cfg));
        writeBatches(dir.resolve("batches.pth"), batches);
        python("make", dir);

        ResumeCheckpoint.State s = ResumeCheckpoint.load(dir.resolve("resume.pth"), c, 1);
        assertEquals(0, s.epoch());
        assertEquals(2, s.step());
        Map<String, float[]> before = weights(dir.resolve("torch_before.pth"));
        try (MiniMindLM m = s.model()) {
            Map<String, float[]> loaded = weights(m);
            for (String k : before.keySet()) assertArrayEquals(before.get(k), loaded.get(k), k);
            AdamW opt = adamW(m);
            s.loadOptimizer(opt, Precision.cpu());
            step(m, opt, batches.get(2), lrs[2]);
            Map<String, float[]> torchAfter = weights(dir.resolve("torch_after.pth"));
            double d = updateDifference(before, weights(m), torchAfter);
            assertTrue(d < SAME_UPDATE, "our next update differs from torch's by " + d);
            try (MiniMindLM fresh = MiniMindLM.fromTensors(c, tensors(before, c))) {
                step(fresh, adamW(fresh), batches.get(2), lrs[2]);
                double far = updateDifference(before, weights(fresh), torchAfter);
                System.out.printf("%s moe=%s: update vs torch's %.3g; with a fresh optimizer %.3g%n", family, moe, d, far);
                assertTrue(far > 100 * SAME_UPDATE, "a fresh optimizer is only " + far + " away");
            }
        }
    }

    /** Flat float arrays back to tensors of the model's shapes. */
    static Map<String, Tensor> tensors(Map<String, float[]> w, ModelConfig c) {
        Map<String, long[]> shapes = MiniMindLM.expectedShapes(c);
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : w.entrySet()) t.put(e.getKey(), Torch.floats(e.getValue(), shapes.get(e.getKey())));
        return t;
    }

    /** This project's state round-trips: the next step from a reloaded file is bit-identical to the live run's. */
    @Test
    void aReloadedFileStepsBitIdenticallyAndKeepsPyTorchsKeys(@TempDir Path dir) {
        ModelConfig c = config("minimind3", false);
        RandomBatch b1 = RandomBatch.of(VOCAB, ROWS, COLS, 4, 21), b2 = RandomBatch.of(VOCAB, ROWS, COLS, 4, 22);
        try (MiniMindLM m = MiniMindLM.init(c, 3)) {
            AdamW opt = adamW(m);
            step(m, opt, b1, LR);
            Path f = dir.resolve("r.pth");
            ResumeCheckpoint.save(f, m, opt, 1, 5, 1, 42, ROWS, Map.of());
            Map<?, ?> root = (Map<?, ?>) read(f);
            Map<?, ?> optimizer = (Map<?, ?>) root.get("optimizer");
            Map<?, ?> group = (Map<?, ?>) ((List<?>) optimizer.get("param_groups")).get(0);
            assertEquals(List.of("lr", "betas", "eps", "weight_decay", "amsgrad", "foreach", "maximize", "capturable",
                    "differentiable", "fused", "decoupled_weight_decay", "params"), new ArrayList<>(((Map<?, ?>) group).keySet()));
            assertEquals(List.of(0.9, 0.999), group.get("betas"));
            assertTrue(group.get("betas") instanceof PyTuple);
            assertEquals(0.01, group.get("weight_decay"));
            assertTrue(root.containsKey("wandb_id") && root.get("wandb_id") == null);
            assertEquals(Map.of(), root.get("scaler"));
            Map<?, ?> st = (Map<?, ?>) ((Map<?, ?>) optimizer.get("state")).get(0L);
            assertEquals(List.of("step", "exp_avg", "exp_avg_sq"), new ArrayList<>(st.keySet()));

            assertNextStepIdentical(f, c, m, opt, b2);
        }
    }

    @Test
    void anOptimizerStateOfAnotherShapeOrCountIsRefusedByName(@TempDir Path dir) throws IOException {
        ModelConfig c = config("minimind2", false);
        try (MiniMindLM m = MiniMindLM.init(c, 3)) {
            AdamW opt = adamW(m);
            step(m, opt, RandomBatch.of(VOCAB, ROWS, COLS, 4, 1), LR);
            LinkedHashMap<String, Object> root = ResumeCheckpoint.contents(m, opt, 0, 1, 1, 42, ROWS, Map.of());
            @SuppressWarnings("unchecked")
            Map<Object, Object> state = (Map<Object, Object>) ((Map<?, ?>) root.get("optimizer")).get("state");
            int qIndex = MiniMindLM.pythonParameterOrder(c).indexOf("model.layers.1.self_attn.q_proj.weight");
            @SuppressWarnings("unchecked")
            Map<String, Object> q = (Map<String, Object>) state.get((long) qIndex);
            q.put("exp_avg", HostTensor.zeros(DType.F32, 64, 32));
            Path f = dir.resolve("bad_shape.pth");
            Pth.write(f, root);
            ResumeCheckpoint.State s = ResumeCheckpoint.load(f, c, 1);
            UserError e = assertThrows(UserError.class, () -> s.loadOptimizer(adamW(s.model()), Precision.cpu()));
            assertTrue(e.getMessage().contains("model.layers.1.self_attn.q_proj.weight") && e.getMessage().contains("[64, 32]"), e.getMessage());

            root = ResumeCheckpoint.contents(m, opt, 0, 1, 1, 42, ROWS, Map.of());
            @SuppressWarnings("unchecked")
            List<Object> params = (List<Object>) ((Map<?, ?>) ((List<?>) ((Map<?, ?>) root.get("optimizer")).get("param_groups")).get(0)).get("params");
            params.remove(params.size() - 1);
            Path g = dir.resolve("bad_count.pth");
            Pth.write(g, root);
            ResumeCheckpoint.State s2 = ResumeCheckpoint.load(g, c, 1);
            UserError e2 = assertThrows(UserError.class, () -> s2.loadOptimizer(adamW(s2.model()), Precision.cpu()));
            assertTrue(e2.getMessage().contains("covers " + (params.size()) + " parameters") && e2.getMessage().contains("model.norm.weight"), e2.getMessage());
        }
    }

    /** A file of the first format (libtorch's archive under optimizer.libtorch_adamw) still resumes exactly. */
    @Test
    void anOldLibtorchArchiveResumeFileStillLoads(@TempDir Path dir) throws IOException {
        ModelConfig c = config("minimind2", false);
        RandomBatch b1 = RandomBatch.of(VOCAB, ROWS, COLS, 4, 31), b2 = RandomBatch.of(VOCAB, ROWS, COLS, 4, 32);
        try (MiniMindLM m = MiniMindLM.init(c, 3)) {
            AdamW opt = adamW(m);
            step(m, opt, b1, LR);
            Path archive = dir.resolve("optim.pt");
            OutputArchive a = new OutputArchive();
            opt.save(a);
            a.save_to(archive.toString());
            byte[] bytes = Files.readAllBytes(archive);
            LinkedHashMap<String, Object> root = new LinkedHashMap<>();
            root.put("model", Weights.hostStateDict(m, DType.F32));
            root.put("optimizer", new LinkedHashMap<>(Map.of("libtorch_adamw", HostTensor.ofRawBytes(DType.U8, new long[]{bytes.length}, bytes))));
            root.put("epoch", 0L);
            root.put("step", 1L);
            root.put("world_size", 1L);
            root.put("seed", 42L);
            root.put("config", c.asMap());
            root.put("format", "minimind4j-resume-1");
            Path f = dir.resolve("old_resume.pth");
            Pth.write(f, root);
            assertNextStepIdentical(f, c, m, opt, b2);
        }
    }

    @Test
    void aFileWithoutOptimizerStateIsRefusedRatherThanResumedWithFreshMoments(@TempDir Path dir) throws IOException {
        ModelConfig c = config("minimind2", false);
        try (MiniMindLM m = MiniMindLM.init(c, 3)) {
            LinkedHashMap<String, Object> root = new LinkedHashMap<>();
            root.put("model", Weights.hostStateDict(m, DType.F16));
            root.put("epoch", 0L);
            root.put("step", 3L);
            Path f = dir.resolve("no_opt.pth");
            Pth.write(f, root);
            UserError e = assertThrows(UserError.class, () -> ResumeCheckpoint.load(f, c, 1));
            assertTrue(e.getMessage().contains("no 'optimizer' entry"), e.getMessage());
            assertFalse(e.getMessage().contains("Exception"));
        }
    }

    static Object read(Path f) {
        try {
            return Pth.read(f);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
