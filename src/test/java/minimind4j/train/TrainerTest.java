package minimind4j.train;

import minimind4j.TestPaths;
import minimind4j.checkpoint.SameWeights;
import minimind4j.checkpoint.format.HostTensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The training loop end to end through the CLI, on tiny models and MiniMind's real MiniMind2 tokenizer. */
class TrainerTest {
    @TempDir
    static Path dir;
    static Path sft, pretrain;

    @BeforeAll
    static void data() throws Exception {
        sft = Files.write(dir.resolve("sft.jsonl"), additions(24, 40, 1));
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 32; i++) texts.add("{\"text\":\"Number " + i + " comes after " + (i + 1000) + " and before " + (i + 2000) + ".\"}");
        pretrain = Files.write(dir.resolve("pre.jsonl"), texts);
    }

    /** n conversations "What is a plus b?" / "a plus b is c." with a, b below {@code below}. */
    static List<String> additions(int n, int below, long seed) {
        Random r = new Random(seed);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int a = r.nextInt(below), b = r.nextInt(below);
            lines.add("{\"conversations\":[{\"role\":\"user\",\"content\":\"What is " + a + " plus " + b + "?\"},"
                    + "{\"role\":\"assistant\",\"content\":\"" + a + " plus " + b + " is " + (a + b) + ".\"}]}");
        }
        return lines;
    }

    /**
     * An sft run of the 24 additions from random weights ({@link TinyRun}: --device cpu explicitly, so a CUDA machine
     * tests the CPU path here too (CudaTest has CUDA), and --dtype float32 with 1 thread: the exact numbers these tests
     * compare are those of fp32 on one thread, whatever CPU runs them).
     */
    static TinyRun sftFromScratch(Path save) {
        return TinyRun.sft(sft, save).fromScratch();
    }

    @Test
    void pretrainThenSftChainsCheckpointsAndLearns() throws Exception {
        Path save = dir.resolve("chain");
        TinyRun.pretrain(pretrain, save).epochs(2).batchSize(8).accumulation(1).learningRate("3e-3").ok();
        assertTrue(Files.exists(save.resolve("pretrain_32.pth")));
        assertTrue(Files.exists(save.resolve("pretrain_32_resume.pth")));
        assertTrue(Files.exists(save.resolve("pretrain_32_loss.png")));
        // sft starts from the pretrained weights (strict load) and learns the training set
        TinyRun.Result r = TinyRun.sft(sft, save).epochs(6).batchSize(4).learningRate("3e-3").evalData(sft, 6).ok();
        Map<String, HostTensor> w = r.weights();
        assertEquals(2 * 9 + 3, w.size());
        assertEquals(w.get("model.embed_tokens.weight"), w.get("lm_head.weight"));
        List<Double> eval = MetricsCsv.values(r.metrics(), "eval_loss");
        double first = eval.get(0), last = eval.get(eval.size() - 1);
        assertTrue(last < first - 0.5, "eval loss should fall while overfitting 24 samples: " + first + " -> " + last);
    }

    /** The first and the last eval_loss logged. */
    private static double[] firstAndLastEvalLoss(TinyRun.Result r) {
        List<Double> v = MetricsCsv.values(r.metrics(), "eval_loss");
        return new double[]{v.get(0), v.get(v.size() - 1)};
    }

    @Test
    void missingStartingWeightIsAClearError() {
        TinyRun.Result r = TinyRun.sft(sft, dir.resolve("nothing")).epochs(1).run();
        assertEquals(2, r.code());
        String msg = r.err();
        assertTrue(msg.contains("pretrain_32.pth: no such weight file"), msg);
        assertEquals(1, msg.strip().lines().count(), "one line, no stack trace: " + msg);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"float32", "bfloat16"})
    void resumedRunEqualsUninterruptedRun(String dtype) throws Exception {
        TinyRun common = sftFromScratch(dir.resolve(dtype + "-full")).dtype(dtype).epochs(2).batchSize(4).learningRate("2e-3").accumulation(2);
        TinyRun.Result full = common.ok();
        // 24 samples / 4 = 6 steps an epoch: stop after 4, then after 4 more (crossing the epoch), then finish
        TinyRun parts = common.in(dir.resolve(dtype + "-parts"));
        parts.copy().maxSteps(4).ok();
        parts.copy().maxSteps(4).fromResume().ok();
        TinyRun.Result resumed = parts.copy().fromResume().ok();
        SameWeights.assertBitIdentical(full.weights(), resumed.weights(), "the resumed run against the uninterrupted one");
        // the resume file holds fp32 weights, not fp16
        Map<String, Object> root = resumed.resume();
        @SuppressWarnings("unchecked") Map<String, HostTensor> model = (Map<String, HostTensor>) root.get("model");
        assertEquals("F32", model.get("model.norm.weight").dtype().name());
        // chat/eval/info take a resume checkpoint as --weight: its fp32 'model' dict
        assertEquals(model, resumed.resumeWeights());
        assertEquals(1L, ((Number) root.get("epoch")).longValue());
        assertEquals(6L, ((Number) root.get("step")).longValue());
    }

    /**
     * The mixed-precision path (autocast + loss scaler), exercised on a CPU (--dtype applies there as on CUDA): the
     * same trainer code runs on CUDA with --device cuda. A float16 run resumed twice ends
     * bit-identical to an uninterrupted one, the scaler's state travelling in the resume file under PyTorch's keys.
     */
    @Test
    void float16AutocastRunWithLossScalingResumesExactly() throws Exception {
        TinyRun common = sftFromScratch(dir.resolve("fp16full")).dtype("float16").epochs(1).batchSize(4).learningRate("2e-3");
        TinyRun.Result full = common.ok();
        common.in(dir.resolve("fp16parts")).maxSteps(3).ok();
        TinyRun.Result resumed = common.in(dir.resolve("fp16parts")).fromResume().ok();
        SameWeights.assertBitIdentical(full.weights(), resumed.weights(), "the resumed run against the uninterrupted one");
        Map<String, Object> root = resumed.resume();
        @SuppressWarnings("unchecked") Map<String, Object> scaler = (Map<String, Object>) root.get("scaler");
        assertNotNull(scaler, "a float16 run saves its loss scaler");
        double scale = ((Number) scaler.get("scale")).doubleValue();
        assertTrue(scale > 0 && scale <= 65536 && scale == Math.pow(2, Math.getExponent(scale)), "a power of two: " + scale);
    }

    @Test
    void bfloat16AutocastTrainingLearns() throws Exception {
        TinyRun.Result r = sftFromScratch(dir.resolve("bf16")).dtype("bfloat16").epochs(4).batchSize(4).learningRate("3e-3").evalData(sft, 6).ok();
        double[] eval = firstAndLastEvalLoss(r);
        double first = eval[0], last = eval[1];
        assertTrue(last < first - 0.5, "bf16 eval loss should fall: " + first + " -> " + last);
        for (HostTensor t : r.weights().values())
            for (float v : t.toFloatArray()) assertTrue(Float.isFinite(v));
        Map<String, Object> root = r.resume();
        // bf16 needs no loss scaler (MiniMind enables it for float16 only); the entry is there, empty, because MiniMind's
        // --from_resume reads ckp['scaler'] unconditionally
        assertEquals(Map.of(), root.get("scaler"), "bf16: an empty scaler state");
    }

    /**
     * A run's precision and threads are part of it: recorded in the resume checkpoint, reused by --from_resume 1 when
     * no flag says otherwise (the start line says so), and a different explicit choice is named in one line.
     */
    @Test
    void precisionAndThreadsAreRecordedAndAResumeKeepsThem() throws Exception {
        TinyRun common = sftFromScratch(dir.resolve("recorded")).epochs(1).batchSize(4);
        Map<String, Object> root = common.copy().dtype("bfloat16").maxSteps(2).ok().resume();
        assertEquals("bfloat16", root.get("dtype"));
        assertEquals(1L, ((Number) root.get("num_threads")).longValue());
        // neither flag given: both come from the checkpoint
        TinyRun.Result kept = common.copy().maxSteps(1).fromResume().without("--dtype").without("--num_threads").run();
        assertEquals(0, kept.code(), kept.err());
        String line = kept.out().lines().filter(l -> l.startsWith("precision: ")).findFirst().orElseThrow(() -> new AssertionError(kept.out()));
        assertEquals("precision: cpu, bf16 autocast, 1 thread(s) (as recorded in full_sft_32_resume.pth; threads: recorded)", line);
        // another explicit choice: trained so, and named in one line
        TinyRun.Result changed = common.copy().maxSteps(1).fromResume().run();
        assertEquals(0, changed.code(), changed.err());
        assertTrue(changed.out().contains("warning: full_sft_32_resume.pth was trained in bfloat16, this run computes in float32 (--dtype float32)"), changed.out());
        assertTrue(changed.out().contains("cpu, fp32"), changed.out());
        Map<String, Object> after = changed.resume();
        assertEquals("float32", after.get("dtype"), "the checkpoint records what the last run computed in");
    }

    @Test
    void cudaOnACpuBuildIsAOneLineError() {
        org.junit.jupiter.api.Assumptions.assumeFalse(minimind4j.engine.Torch.cudaAvailable(), "this machine has CUDA");
        TinyRun.Result r = sftFromScratch(dir.resolve("cuda")).device("cuda:0").run();
        assertEquals(2, r.code());
        String msg = r.err().strip();
        assertTrue(msg.startsWith("error: --device cuda:0: libtorch sees no CUDA device"), msg);
        assertEquals(1, msg.lines().count(), msg);
        assertFalse(Files.exists(dir.resolve("cuda")), "nothing written");
    }

    /**
     * --pad_to_max_seq_len pads every batch to max_seq_len (MiniMind's layout, which also means MiniMind's batch order:
     * no length grouping): every step's loss is that of the unpadded run in the same order.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"float32", "bfloat16"})
    void paddingToMaxSeqLenGivesTheSameLosses(String dtype) throws Exception {
        // max_seq_len 64 and no system prompts: every sample is shorter, so the padded batches really are wider
        TinyRun common = sftFromScratch(dir.resolve(dtype + "-pad-no")).epochs(1).batchSize(4).learningRate("2e-3").maxSteps(4)
                .flag("--add_system_ratio", 0).logInterval(1).maxSeqLen(64);
        List<Double> a = MetricsCsv.values(common.copy().dtype(dtype).flag("--group_by_length", 0).ok().metrics(), "loss"),
                b = MetricsCsv.values(common.in(dir.resolve(dtype + "-pad-yes")).dtype(dtype).flag("--pad_to_max_seq_len").ok().metrics(), "loss");
        assertEquals(4, a.size());
        if (dtype.equals("float32")) {
            for (int i = 0; i < a.size(); i++) assertEquals(a.get(i), b.get(i), 2e-5, "step " + (i + 1));
        } else {
            // bf16 rounds a wider batch's GEMMs differently, so equality cannot hold: padding must move the losses less
            // than bf16 itself moves them from fp32 on the same batches (measured on an AMD EPYC Zen 4, 1 thread: padding
            // 0 (bf16 attention on a CPU is two GEMMs whose rows do not depend on the width), bf16 vs fp32 6.3e-4)
            List<Double> f = MetricsCsv.values(common.in(dir.resolve(dtype + "-pad-fp32")).dtype("float32").flag("--group_by_length", 0).ok().metrics(), "loss");
            double padding = 0, precision = 0;
            for (int i = 0; i < a.size(); i++) {
                double x = a.get(i), y = b.get(i), z = f.get(i);
                padding += Math.abs(x - y) / 4;
                precision += Math.abs(x - z) / 4;
            }
            System.out.printf("bf16 losses, mean over 4 steps: padded vs tight %.2e, bf16 vs fp32 %.2e%n", padding, precision);
            assertTrue(precision > 0, "the bf16 run computed exactly what fp32 did");
            assertTrue(padding < precision / 4, "padding moved the bf16 losses by " + padding + ", bf16 vs fp32 differ by " + precision);
        }
        // the unpadded batches of those steps are narrower than 64 (else the equality above proves nothing)
        try (minimind4j.tokenizer.MiniMindTokenizer tok = minimind4j.tokenizer.MiniMindTokenizer.load(TestPaths.minimind2());
             minimind4j.data.SftDataset ds = new minimind4j.data.SftDataset(minimind4j.data.SftDataset.index(sft, true), tok, 64, 0.0, 1.0, 42);
             BatchLoader loader = new BatchLoader(new BatchPlan(ds, 4, 0, false, 32, 0, 1), 0, ds.padId(), 0)) {
            for (int step = 1; step <= 4; step++) assertTrue(loader.next().cols() < 64, "step " + step + " batch is shorter than max_seq_len");
        }
    }

    /** MiniMind2's MoE (4 routed + 1 shared experts, top-2) trains and learns; its aux loss is logged. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"float32", "bfloat16"})
    void moeTrainingLearns(String dtype) throws Exception {
        TinyRun.Result r = sftFromScratch(dir.resolve(dtype + "-moe")).dtype(dtype).epochs(4).batchSize(4).learningRate("3e-3").moe().evalData(sft, 6).ok();
        double[] eval = firstAndLastEvalLoss(r);
        double first = eval[0], last = eval[1];
        assertTrue(last < first - 0.5, "MoE eval loss should fall: " + first + " -> " + last);
        MetricsCsv.Row firstRow = r.metrics().get(0);
        assertTrue(firstRow.value("aux_loss") > 0, "the router's aux loss is part of the loss: " + firstRow);
        Map<String, HostTensor> w = r.weights();
        assertTrue(w.containsKey("model.layers.0.mlp.gate.weight"), w.keySet().toString());
        assertTrue(w.keySet().stream().anyMatch(k -> k.contains("shared_experts")), w.keySet().toString());
    }

    /** minimind-3 (q/k norm, its own tokenizer and template) trains and learns. */
    @Test
    void minimind3TrainingLearns() throws Exception {
        TinyRun.Result r = sftFromScratch(dir.resolve("mm3")).epochs(4).batchSize(4).learningRate("3e-3").flag("--model_family", "minimind3")
                .evalData(sft, 6).tokenizer(TestPaths.minimind3()).ok();
        double[] eval = firstAndLastEvalLoss(r);
        double first = eval[0], last = eval[1];
        assertTrue(last < first - 0.5, "minimind-3 eval loss should fall: " + first + " -> " + last);
        Map<String, HostTensor> w = r.weights();
        assertTrue(w.containsKey("model.layers.0.self_attn.q_norm.weight"), w.keySet().toString());
    }

    /** 8 heads / 2 KV heads and 4 / 1 give tensors of identical shapes at hidden 32: only the recorded config tells. */
    @Test
    void resumingWithAnotherHeadLayoutIsRefusedAndAnotherSeedIsFlagged() throws Exception {
        TinyRun common = sftFromScratch(dir.resolve("heads")).epochs(1).batchSize(4);
        common.copy().maxSteps(2).ok();
        TinyRun.Result refused = common.copy().fromResume().flags("--num_attention_heads", "4", "--num_key_value_heads", "1").run();
        TinyRun.Result flagged = common.copy().fromResume().flag("--seed", 7).maxSteps(1).run();
        assertEquals(2, refused.code());
        String msg = refused.err().strip();
        assertTrue(msg.contains("written for another model: num_attention_heads 8 (this run: 4), num_key_value_heads 2 (this run: 1)"), msg);
        assertEquals(1, msg.lines().count(), msg);
        assertEquals(0, flagged.code());
        assertTrue(flagged.out().contains("written with --seed 42, this run has 7"), flagged.out());
    }

    /**
     * A line whose chat template raises: sft renders every sample before the first step, so the line is dropped and
     * named (file:line and the template's message) in the start-of-training line, and the run trains on the rest.
     */
    @Test
    void aLineTheTemplateFailsOnIsDroppedAndNamedBeforeTraining() throws Exception {
        Path tok = TestPaths.tokenizerThatRejects(dir.resolve("boom-tokenizer"));
        List<String> lines = Files.readAllLines(sft);
        List<String> bad = new ArrayList<>(lines);
        int broken = 9;
        bad.set(broken, "{\"conversations\":[{\"role\":\"user\",\"content\":\"" + TestPaths.REJECTED + "\"},{\"role\":\"assistant\",\"content\":\"ok\"}]}");
        Path data = dir.resolve("boom.jsonl"), save = dir.resolve("boom");
        Files.write(data, bad);
        TinyRun.Result r = TinyRun.sft(data, save).epochs(1).batchSize(4).fromScratch().flags("--group_by_length", "0", "--add_system_ratio", "0")
                .tokenizer(tok).run();
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("1 dropped because the chat template fails on them (first: " + data + ":" + (broken + 1)
                + ": the chat template failed on this conversation (chat template line 1: no booms here)); training on "
                + (lines.size() - 1) + " samples"), r.out());
        assertTrue(Files.exists(r.files().weights()));
    }

    /**
     * The issue's own check: 2000 steps in one run against 1000 + resume + 1000, on a tiny model with accumulation.
     * Every logged loss (one per step) and every final weight must be identical, not merely close.
     */
    @Test
    void twoThousandStepsEqualOneThousandPlusResumePlusOneThousand() throws Exception {
        Path data = Files.write(dir.resolve("sft8k.jsonl"), additions(8000, 100, 3));
        TinyRun common = TinyRun.sft(data, dir.resolve("2k")).fromScratch().epochs(1).batchSize(4).learningRate("2e-3").accumulation(2).logInterval(1);
        TinyRun.Result full = common.ok();
        common.in(dir.resolve("1k1k")).maxSteps(1000).ok();
        TinyRun.Result parts = common.in(dir.resolve("1k1k")).fromResume().ok();
        List<String> lossFull = lossColumn(full), lossParts = lossColumn(parts);
        assertEquals(2000, lossFull.size());
        assertEquals(lossFull, lossParts, "the resumed run's loss sequence");
        SameWeights.assertBitIdentical(full.weights(), parts.weights());
    }

    /** global_step:loss of every logged step, as written. */
    static List<String> lossColumn(TinyRun.Result r) {
        return r.metrics().stream().map(row -> row.get("global_step") + ":" + row.get("loss")).toList();
    }

    /**
     * 6 steps an epoch, accumulation 4: an update after step 4 and the partial window (steps 5, 6) flushed at the
     * epoch's end, before the weights are saved. Stopped after step 5 (mid-window), the resume checkpoint says step 4,
     * so the resumed run redoes step 5 and ends exactly where the uninterrupted run ends.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"float32", "bfloat16"})
    void thePartialWindowIsFlushedBeforeSavingAndAStopMidWindowResumesExactly(String dtype) throws Exception {
        TinyRun common = sftFromScratch(dir.resolve(dtype + "-win-full")).dtype(dtype).epochs(1).batchSize(4).learningRate("2e-3").accumulation(4);
        Map<String, HostTensor> wFull = common.ok().weights(), wFour = common.in(dir.resolve(dtype + "-win-4")).maxSteps(4).ok().weights();
        assertNotEquals(wFour.get("model.norm.weight"), wFull.get("model.norm.weight"), "steps 5-6 must reach the saved weights");

        Path parts = dir.resolve(dtype + "-win-parts");
        Map<String, Object> root = common.in(parts).maxSteps(5).ok().resume();
        assertEquals(4L, ((Number) root.get("step")).longValue(), "step 5's gradient was never applied: it is redone");
        SameWeights.assertBitIdentical(wFull, common.in(parts).fromResume().ok().weights());
    }

    /**
     * Step 3's loss is NaN: its update is skipped (after step 3 the weights are exactly those after step 2, while a clean
     * step 3 does move them) and the run goes on (steps 4-6 are trained and logged with finite losses).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"float32", "bfloat16"})
    void aNonFiniteLossSkipsItsUpdateAndTheRunGoesOn(String dtype) throws Exception {
        TinyRun common = sftFromScratch(dir.resolve(dtype + "-nan-3")).dtype(dtype).epochs(1).batchSize(4).learningRate("2e-3")
                .flag("--save_interval", 100000);
        LossFault stepThree = step -> step == 3;
        TinyRun.Result poisonedThree = common.copy().lossFault(stepThree).maxSteps(3).ok();
        TinyRun.Result full = common.in(dir.resolve(dtype + "-nan-all")).lossFault(stepThree).logInterval(1).ok();
        TinyRun.Result cleanTwo = common.in(dir.resolve(dtype + "-nan-clean2")).maxSteps(2).ok();
        TinyRun.Result cleanThree = common.in(dir.resolve(dtype + "-nan-clean3")).maxSteps(3).ok();
        // the resume file's fp32 weights: a single small step can vanish in the fp16 weight file
        Map<String, HostTensor> p3 = poisonedThree.resumeWeights(), c2 = cleanTwo.resumeWeights(), c3 = cleanThree.resumeWeights();
        SameWeights.assertBitIdentical(c2, p3, "the NaN step changed the weights");
        assertNotEquals(c3.get("model.norm.weight"), c2.get("model.norm.weight"), "a clean step 3 moves the weights (else the check above is blind)");
        assertTrue(full.out().contains("epoch 1 step 3: loss is NaN; skipped this step's update"), full.out());
        List<String> steps = new ArrayList<>();
        for (MetricsCsv.Row row : full.metrics())
            steps.add(row.get("step") + (!row.has("loss") ? ":nan" : Double.isFinite(row.loss()) ? ":ok" : ":bad"));
        assertEquals(List.of("1:ok", "2:ok", "3:nan", "4:ok", "5:ok", "6:ok"), steps, "every step logged, only step 3 without a loss");
        Map<String, HostTensor> after = full.resumeWeights();
        assertNotEquals(p3.get("model.norm.weight"), after.get("model.norm.weight"), "steps 4-6 trained after the skipped step");
        for (HostTensor t : after.values())
            for (float v : t.toFloatArray()) assertTrue(Float.isFinite(v));
    }

    @Test
    void nonFiniteLossesInARowStopTheRunWithoutSavingThem() {
        TinyRun.Result r = sftFromScratch(dir.resolve("nan")).lossFault(step -> step >= 2).epochs(1).batchSize(2)
                .flags("--max_nan_steps", "3", "--save_interval", "100000").run();
        assertEquals(2, r.code());
        assertTrue(r.err().contains("3 steps in a row had a NaN/inf loss or gradient"), r.err());
        assertFalse(Files.exists(r.files().weights()), "the run stopped before any checkpoint");
    }

    /** {@code a} with the value of a flag it already sets replaced. */
    static String[] with(String[] a, String flag, String value) {
        String[] out = a.clone();
        for (int i = 0; i + 1 < out.length; i++) if (out[i].equals(flag)) out[i + 1] = value;
        return out;
    }

    /** The same command line in bf16 autocast (emulated, and slower, on a CPU without native bf16). */
    static String[] bf16(String[] a) {
        return with(a, "--dtype", "bfloat16");
    }

    /** The command line without {@code flag} and its value. */
    static String[] without(String[] a, String flag) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < a.length; i++) {
            if (a[i].equals(flag)) i++;
            else out.add(a[i]);
        }
        return out.toArray(String[]::new);
    }
}
