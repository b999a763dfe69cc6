package minimind4j.train;

import minimind4j.TestPaths;
import minimind4j.checkpoint.SameWeights;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Pth;
import minimind4j.cli.CliRun;
import minimind4j.cli.Minimind;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
     * A stage's command line; --device cpu explicitly, so a CUDA machine tests the CPU path here too (CudaTest has
     * CUDA), and --dtype float32 with 1 thread: the exact numbers these tests compare are those of fp32 on one thread,
     * whatever CPU runs them (--dtype auto would pick bf16 on one with AVX512-BF16/AMX). Replace the dtype with
     * {@link #with} for the other precisions.
     */
    static String[] args(Path save, String stage, Path data, String... extra) {
        List<String> a = new ArrayList<>(List.of(stage, "--data_path", data.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                "--save_dir", save.toString(), "--hidden_size", "32", "--num_hidden_layers", "2", "--max_seq_len", "48",
                "--log_interval", "1000", "--num_threads", "1", "--device", "cpu", "--dtype", "float32"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    static int run(String... a) {
        return Minimind.run(a);
    }

    static Map<String, HostTensor> weights(Path p) throws Exception {
        return Pth.readStateDict(p);
    }

    @Test
    void pretrainThenSftChainsCheckpointsAndLearns() throws Exception {
        Path save = dir.resolve("chain");
        assertEquals(0, run(args(save, "pretrain", pretrain, "--epochs", "2", "--batch_size", "8", "--accumulation_steps", "1", "--learning_rate", "3e-3")));
        assertTrue(Files.exists(save.resolve("pretrain_32.pth")));
        assertTrue(Files.exists(save.resolve("pretrain_32_resume.pth")));
        assertTrue(Files.exists(save.resolve("pretrain_32_loss.png")));
        // sft starts from the pretrained weights (strict load) and learns the training set
        assertEquals(0, run(args(save, "sft", sft, "--epochs", "6", "--batch_size", "4", "--learning_rate", "3e-3",
                "--eval_data", sft.toString(), "--eval_interval", "6")));
        Map<String, HostTensor> w = weights(save.resolve("full_sft_32.pth"));
        assertEquals(2 * 9 + 3, w.size());
        assertEquals(w.get("model.embed_tokens.weight"), w.get("lm_head.weight"));
        List<String> csv = Files.readAllLines(save.resolve("full_sft_32_metrics.csv"));
        double first = evalLoss(csv, true), last = evalLoss(csv, false);
        assertTrue(last < first - 0.5, "eval loss should fall while overfitting 24 samples: " + first + " -> " + last);
    }

    private static double evalLoss(List<String> csv, boolean first) {
        List<Double> v = new ArrayList<>();
        for (String line : csv.subList(1, csv.size())) {
            String[] f = line.split(",", -1);
            if (!f[10].isEmpty()) v.add(Double.parseDouble(f[10]));
        }
        return first ? v.get(0) : v.get(v.size() - 1);
    }

    @Test
    void missingStartingWeightIsAClearError() {
        CliRun r = CliRun.of(args(dir.resolve("nothing"), "sft", sft, "--epochs", "1"));
        assertEquals(2, r.code());
        String msg = r.err();
        assertTrue(msg.contains("pretrain_32.pth: no such weight file"), msg);
        assertEquals(1, msg.strip().lines().count(), "one line, no stack trace: " + msg);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"float32", "bfloat16"})
    void resumedRunEqualsUninterruptedRun(String dtype) throws Exception {
        Path full = dir.resolve(dtype + "-full"), parts = dir.resolve(dtype + "-parts");
        String[] common = {"--epochs", "2", "--batch_size", "4", "--from_weight", "none", "--learning_rate", "2e-3", "--accumulation_steps", "2"};
        assertEquals(0, run(concat(argsIn(dtype, full, "sft", sft), common)));
        // 24 samples / 4 = 6 steps an epoch: stop after 4, then after 4 more (crossing the epoch), then finish
        assertEquals(0, run(concat(argsIn(dtype, parts, "sft", sft, "--max_steps", "4"), common)));
        assertEquals(0, run(concat(argsIn(dtype, parts, "sft", sft, "--max_steps", "4", "--from_resume", "1"), common)));
        assertEquals(0, run(concat(argsIn(dtype, parts, "sft", sft, "--from_resume", "1"), common)));
        Map<String, HostTensor> wf = weights(full.resolve("full_sft_32.pth")), wp = weights(parts.resolve("full_sft_32.pth"));
        SameWeights.assertBitIdentical(wf, wp, "the resumed run against the uninterrupted one");
        // the resume file holds fp32 weights, not fp16
        Object resume = Pth.read(parts.resolve("full_sft_32_resume.pth"));
        @SuppressWarnings("unchecked") Map<String, Object> root = (Map<String, Object>) resume;
        @SuppressWarnings("unchecked") Map<String, HostTensor> model = (Map<String, HostTensor>) root.get("model");
        assertEquals("F32", model.get("model.norm.weight").dtype().name());
        // chat/eval/info take a resume checkpoint as --weight: its fp32 'model' dict
        assertEquals(model, minimind4j.checkpoint.Weights.read(parts.resolve("full_sft_32_resume.pth")));
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
        Path full = dir.resolve("fp16full"), parts = dir.resolve("fp16parts");
        String[] common = {"--epochs", "1", "--batch_size", "4", "--from_weight", "none", "--learning_rate", "2e-3"};
        assertEquals(0, run(concat(fp16(args(full, "sft", sft)), common)));
        assertEquals(0, run(concat(fp16(args(parts, "sft", sft, "--max_steps", "3")), common)));
        assertEquals(0, run(concat(fp16(args(parts, "sft", sft, "--from_resume", "1")), common)));
        Map<String, HostTensor> wf = weights(full.resolve("full_sft_32.pth")), wp = weights(parts.resolve("full_sft_32.pth"));
        SameWeights.assertBitIdentical(wf, wp, "the resumed run against the uninterrupted one");
        @SuppressWarnings("unchecked") Map<String, Object> root = (Map<String, Object>) Pth.read(parts.resolve("full_sft_32_resume.pth"));
        @SuppressWarnings("unchecked") Map<String, Object> scaler = (Map<String, Object>) root.get("scaler");
        assertNotNull(scaler, "a float16 run saves its loss scaler");
        double scale = ((Number) scaler.get("scale")).doubleValue();
        assertTrue(scale > 0 && scale <= 65536 && scale == Math.pow(2, Math.getExponent(scale)), "a power of two: " + scale);
    }

    @Test
    void bfloat16AutocastTrainingLearns() throws Exception {
        Path save = dir.resolve("bf16");
        assertEquals(0, run(bf16(args(save, "sft", sft, "--epochs", "4", "--batch_size", "4", "--from_weight", "none", "--learning_rate", "3e-3",
                "--eval_data", sft.toString(), "--eval_interval", "6"))));
        List<String> csv = Files.readAllLines(save.resolve("full_sft_32_metrics.csv"));
        double first = evalLoss(csv, true), last = evalLoss(csv, false);
        assertTrue(last < first - 0.5, "bf16 eval loss should fall: " + first + " -> " + last);
        for (HostTensor t : weights(save.resolve("full_sft_32.pth")).values())
            for (float v : t.toFloatArray()) assertTrue(Float.isFinite(v));
        @SuppressWarnings("unchecked") Map<String, Object> root = (Map<String, Object>) Pth.read(save.resolve("full_sft_32_resume.pth"));
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
        Path save = dir.resolve("recorded");
        String[] common = {"--epochs", "1", "--batch_size", "4", "--from_weight", "none"};
        assertEquals(0, run(concat(bf16(args(save, "sft", sft, "--max_steps", "2")), common)));
        @SuppressWarnings("unchecked") Map<String, Object> root = (Map<String, Object>) Pth.read(save.resolve("full_sft_32_resume.pth"));
        assertEquals("bfloat16", root.get("dtype"));
        assertEquals(1L, ((Number) root.get("num_threads")).longValue());
        // neither flag given: both come from the checkpoint
        CliRun kept = CliRun.of(concat(without(without(args(save, "sft", sft, "--max_steps", "1", "--from_resume", "1"), "--dtype"), "--num_threads"), common));
        assertEquals(0, kept.code(), kept.err());
        String line = kept.out().lines().filter(l -> l.startsWith("precision: ")).findFirst().orElseThrow(() -> new AssertionError(kept.out()));
        assertEquals("precision: cpu, bf16 autocast, 1 thread(s) (as recorded in full_sft_32_resume.pth; threads: recorded)", line);
        // another explicit choice: trained so, and named in one line
        CliRun changed = CliRun.of(concat(args(save, "sft", sft, "--max_steps", "1", "--from_resume", "1"), common));
        assertEquals(0, changed.code(), changed.err());
        assertTrue(changed.out().contains("warning: full_sft_32_resume.pth was trained in bfloat16, this run computes in float32 (--dtype float32)"), changed.out());
        assertTrue(changed.out().contains("cpu, fp32"), changed.out());
        @SuppressWarnings("unchecked") Map<String, Object> after = (Map<String, Object>) Pth.read(save.resolve("full_sft_32_resume.pth"));
        assertEquals("float32", after.get("dtype"), "the checkpoint records what the last run computed in");
    }

    @Test
    void cudaOnACpuBuildIsAOneLineError() {
        org.junit.jupiter.api.Assumptions.assumeFalse(minimind4j.engine.Torch.cudaAvailable(), "this machine has CUDA");
        CliRun r = CliRun.of(with(args(dir.resolve("cuda"), "sft", sft, "--from_weight", "none"), "--device", "cuda:0"));
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
        Path tight = dir.resolve(dtype + "-pad-no"), padded = dir.resolve(dtype + "-pad-yes");
        // max_seq_len 64 and no system prompts: every sample is shorter, so the padded batches really are wider
        String[] common = {"--epochs", "1", "--batch_size", "4", "--from_weight", "none", "--learning_rate", "2e-3", "--max_steps", "4",
                "--add_system_ratio", "0"};
        assertEquals(0, run(concat(with(with(argsIn(dtype, tight, "sft", sft, "--group_by_length", "0"), "--log_interval", "1"), "--max_seq_len", "64"), common)));
        assertEquals(0, run(concat(with(with(argsIn(dtype, padded, "sft", sft, "--pad_to_max_seq_len"), "--log_interval", "1"), "--max_seq_len", "64"), common)));
        List<String> a = Files.readAllLines(tight.resolve("full_sft_32_metrics.csv")), b = Files.readAllLines(padded.resolve("full_sft_32_metrics.csv"));
        assertEquals(5, a.size());
        if (dtype.equals("float32")) {
            for (int i = 1; i < a.size(); i++) {
                double x = Double.parseDouble(a.get(i).split(",", -1)[3]), y = Double.parseDouble(b.get(i).split(",", -1)[3]);
                assertEquals(x, y, 2e-5, "step " + i);
            }
        } else {
            // bf16 rounds a wider batch's GEMMs differently, so equality cannot hold: padding must move the losses less
            // than bf16 itself moves them from fp32 on the same batches (measured on an AMD EPYC Zen 4, 1 thread: padding
            // 0 (bf16 attention on a CPU is two GEMMs whose rows do not depend on the width), bf16 vs fp32 6.3e-4)
            Path fp32 = dir.resolve(dtype + "-pad-fp32");
            assertEquals(0, run(concat(with(with(args(fp32, "sft", sft, "--group_by_length", "0"), "--log_interval", "1"), "--max_seq_len", "64"), common)));
            List<String> f = Files.readAllLines(fp32.resolve("full_sft_32_metrics.csv"));
            double padding = 0, precision = 0;
            for (int i = 1; i < a.size(); i++) {
                double x = Double.parseDouble(a.get(i).split(",", -1)[3]), y = Double.parseDouble(b.get(i).split(",", -1)[3]),
                        z = Double.parseDouble(f.get(i).split(",", -1)[3]);
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
        Path save = dir.resolve(dtype + "-moe");
        assertEquals(0, run(argsIn(dtype, save, "sft", sft, "--epochs", "4", "--batch_size", "4", "--from_weight", "none", "--learning_rate", "3e-3",
                "--use_moe", "1", "--eval_data", sft.toString(), "--eval_interval", "6")));
        List<String> csv = Files.readAllLines(save.resolve("full_sft_32_moe_metrics.csv"));
        double first = evalLoss(csv, true), last = evalLoss(csv, false);
        assertTrue(last < first - 0.5, "MoE eval loss should fall: " + first + " -> " + last);
        assertTrue(Double.parseDouble(csv.get(1).split(",", -1)[5]) > 0, "the router's aux loss is part of the loss: " + csv.get(1));
        Map<String, HostTensor> w = weights(save.resolve("full_sft_32_moe.pth"));
        assertTrue(w.containsKey("model.layers.0.mlp.gate.weight"), w.keySet().toString());
        assertTrue(w.keySet().stream().anyMatch(k -> k.contains("shared_experts")), w.keySet().toString());
    }

    /** minimind-3 (q/k norm, its own tokenizer and template) trains and learns. */
    @Test
    void minimind3TrainingLearns() throws Exception {
        Path save = dir.resolve("mm3");
        assertEquals(0, run(with(args(save, "sft", sft, "--epochs", "4", "--batch_size", "4", "--from_weight", "none", "--learning_rate", "3e-3",
                "--model_family", "minimind3", "--eval_data", sft.toString(), "--eval_interval", "6"), "--tokenizer_path", TestPaths.minimind3().toString())));
        List<String> csv = Files.readAllLines(save.resolve("full_sft_32_metrics.csv"));
        double first = evalLoss(csv, true), last = evalLoss(csv, false);
        assertTrue(last < first - 0.5, "minimind-3 eval loss should fall: " + first + " -> " + last);
        Map<String, HostTensor> w = weights(save.resolve("full_sft_32.pth"));
        assertTrue(w.containsKey("model.layers.0.self_attn.q_norm.weight"), w.keySet().toString());
    }

    /** 8 heads / 2 KV heads and 4 / 1 give tensors of identical shapes at hidden 32: only the recorded config tells. */
    @Test
    void resumingWithAnotherHeadLayoutIsRefusedAndAnotherSeedIsFlagged() throws Exception {
        Path save = dir.resolve("heads");
        String[] common = {"--epochs", "1", "--batch_size", "4", "--from_weight", "none"};
        assertEquals(0, run(concat(args(save, "sft", sft, "--max_steps", "2"), common)));
        CliRun refused = CliRun.of(concat(args(save, "sft", sft, "--from_resume", "1", "--num_attention_heads", "4", "--num_key_value_heads", "1"), common));
        CliRun flagged = CliRun.of(concat(args(save, "sft", sft, "--from_resume", "1", "--seed", "7", "--max_steps", "1"), common));
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
        String[] common = {"--epochs", "1", "--batch_size", "4", "--from_weight", "none", "--group_by_length", "0", "--add_system_ratio", "0"};
        CliRun r = CliRun.of(with(concat(args(save, "sft", data), common), "--tokenizer_path", tok.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("1 dropped because the chat template fails on them (first: " + data + ":" + (broken + 1)
                + ": the chat template failed on this conversation (chat template line 1: no booms here)); training on "
                + (lines.size() - 1) + " samples"), r.out());
        assertTrue(Files.exists(save.resolve("full_sft_32.pth")));
    }

    /**
     * The issue's own check: 2000 steps in one run against 1000 + resume + 1000, on a tiny model with accumulation.
     * Every logged loss (one per step) and every final weight must be identical, not merely close.
     */
    @Test
    void twoThousandStepsEqualOneThousandPlusResumePlusOneThousand() throws Exception {
        Path data = Files.write(dir.resolve("sft8k.jsonl"), additions(8000, 100, 3));
        Path full = dir.resolve("2k"), parts = dir.resolve("1k1k");
        String[] common = {"--epochs", "1", "--batch_size", "4", "--from_weight", "none", "--learning_rate", "2e-3",
                "--accumulation_steps", "2"};
        assertEquals(0, run(with(concat(args(full, "sft", data), common), "--log_interval", "1")));
        assertEquals(0, run(with(concat(args(parts, "sft", data, "--max_steps", "1000"), common), "--log_interval", "1")));
        assertEquals(0, run(with(concat(args(parts, "sft", data, "--from_resume", "1"), common), "--log_interval", "1")));
        List<String> lossFull = lossColumn(full.resolve("full_sft_32_metrics.csv")), lossParts = lossColumn(parts.resolve("full_sft_32_metrics.csv"));
        assertEquals(2000, lossFull.size());
        assertEquals(lossFull, lossParts, "the resumed run's loss sequence");
        Map<String, HostTensor> wf = weights(full.resolve("full_sft_32.pth")), wp = weights(parts.resolve("full_sft_32.pth"));
        SameWeights.assertBitIdentical(wf, wp);
    }

    /** global_step:loss of every logged step. */
    private static List<String> lossColumn(Path csv) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(csv).subList(1, Files.readAllLines(csv).size())) {
            String[] f = line.split(",", -1);
            out.add(f[2] + ":" + f[3]);
        }
        return out;
    }

    /**
     * 6 steps an epoch, accumulation 4: an update after step 4 and the partial window (steps 5, 6) flushed at the
     * epoch's end, before the weights are saved. Stopped after step 5 (mid-window), the resume checkpoint says step 4,
     * so the resumed run redoes step 5 and ends exactly where the uninterrupted run ends.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"float32", "bfloat16"})
    void thePartialWindowIsFlushedBeforeSavingAndAStopMidWindowResumesExactly(String dtype) throws Exception {
        Path full = dir.resolve(dtype + "-win-full"), four = dir.resolve(dtype + "-win-4"), parts = dir.resolve(dtype + "-win-parts");
        String[] common = {"--epochs", "1", "--batch_size", "4", "--from_weight", "none", "--learning_rate", "2e-3", "--accumulation_steps", "4"};
        assertEquals(0, run(concat(argsIn(dtype, full, "sft", sft), common)));
        assertEquals(0, run(concat(argsIn(dtype, four, "sft", sft, "--max_steps", "4"), common)));
        Map<String, HostTensor> wFull = weights(full.resolve("full_sft_32.pth")), wFour = weights(four.resolve("full_sft_32.pth"));
        assertNotEquals(wFour.get("model.norm.weight"), wFull.get("model.norm.weight"), "steps 5-6 must reach the saved weights");

        assertEquals(0, run(concat(argsIn(dtype, parts, "sft", sft, "--max_steps", "5"), common)));
        @SuppressWarnings("unchecked") Map<String, Object> root = (Map<String, Object>) Pth.read(parts.resolve("full_sft_32_resume.pth"));
        assertEquals(4L, ((Number) root.get("step")).longValue(), "step 5's gradient was never applied: it is redone");
        assertEquals(0, run(concat(argsIn(dtype, parts, "sft", sft, "--from_resume", "1"), common)));
        Map<String, HostTensor> wParts = weights(parts.resolve("full_sft_32.pth"));
        SameWeights.assertBitIdentical(wFull, wParts);
    }

    /**
     * Step 3's loss is NaN: its update is skipped (after step 3 the weights are exactly those after step 2, while a clean
     * step 3 does move them) and the run goes on (steps 4-6 are trained and logged with finite losses).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"float32", "bfloat16"})
    void aNonFiniteLossSkipsItsUpdateAndTheRunGoesOn(String dtype) throws Exception {
        String[] common = {"--epochs", "1", "--batch_size", "4", "--from_weight", "none", "--learning_rate", "2e-3",
                "--save_interval", "100000"};
        Path poisonedThree = dir.resolve(dtype + "-nan-3"), poisoned = dir.resolve(dtype + "-nan-all"), cleanTwo = dir.resolve(dtype + "-nan-clean2"), cleanThree = dir.resolve(dtype + "-nan-clean3");
        LossFault stepThree = step -> step == 3;
        assertEquals(0, CliRun.of(stepThree, concat(argsIn(dtype, poisonedThree, "sft", sft, "--max_steps", "3"), common)).code());
        CliRun full = CliRun.of(stepThree, concat(with(argsIn(dtype, poisoned, "sft", sft), "--log_interval", "1"), common));
        assertEquals(0, full.code(), full.err());
        assertEquals(0, run(concat(argsIn(dtype, cleanTwo, "sft", sft, "--max_steps", "2"), common)));
        assertEquals(0, run(concat(argsIn(dtype, cleanThree, "sft", sft, "--max_steps", "3"), common)));
        // the resume file's fp32 weights: a single small step can vanish in the fp16 weight file
        Map<String, HostTensor> p3 = resumeWeights(poisonedThree), c2 = resumeWeights(cleanTwo), c3 = resumeWeights(cleanThree);
        SameWeights.assertBitIdentical(c2, p3, "the NaN step changed the weights");
        assertNotEquals(c3.get("model.norm.weight"), c2.get("model.norm.weight"), "a clean step 3 moves the weights (else the check above is blind)");
        assertTrue(full.out().contains("epoch 1 step 3: loss is NaN; skipped this step's update"), full.out());
        List<String> rows = Files.readAllLines(poisoned.resolve("full_sft_32_metrics.csv"));
        List<String> steps = new ArrayList<>();
        for (String line : rows.subList(1, rows.size())) {
            String[] f = line.split(",", -1);
            steps.add(f[1] + (f[3].isEmpty() ? ":nan" : Double.isFinite(Double.parseDouble(f[3])) ? ":ok" : ":bad"));
        }
        assertEquals(List.of("1:ok", "2:ok", "3:nan", "4:ok", "5:ok", "6:ok"), steps, "every step logged, only step 3 without a loss");
        Map<String, HostTensor> after = resumeWeights(poisoned);
        assertNotEquals(p3.get("model.norm.weight"), after.get("model.norm.weight"), "steps 4-6 trained after the skipped step");
        for (HostTensor t : after.values())
            for (float v : t.toFloatArray()) assertTrue(Float.isFinite(v));
    }

    private static Map<String, HostTensor> resumeWeights(Path saveDir) {
        return minimind4j.checkpoint.Weights.read(saveDir.resolve("full_sft_32_resume.pth"));
    }

    @Test
    void nonFiniteLossesInARowStopTheRunWithoutSavingThem() {
        Path save = dir.resolve("nan");
        CliRun r = CliRun.of(step -> step >= 2, args(save, "sft", sft, "--epochs", "1", "--batch_size", "2", "--from_weight", "none",
                "--max_nan_steps", "3", "--save_interval", "100000"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("3 steps in a row had a NaN/inf loss or gradient"), r.err());
        assertFalse(Files.exists(save.resolve("full_sft_32.pth")), "the run stopped before any checkpoint");
    }

    /** {@code a} with the value of a flag that {@link #args} already sets replaced. */
    static String[] with(String[] a, String flag, String value) {
        String[] out = a.clone();
        for (int i = 0; i + 1 < out.length; i++) if (out[i].equals(flag)) out[i + 1] = value;
        return out;
    }

    /** {@link #args} in the given --dtype. */
    static String[] argsIn(String dtype, Path save, String stage, Path data, String... extra) {
        return with(args(save, stage, data, extra), "--dtype", dtype);
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

    static String[] fp16(String[] a) {
        return with(a, "--dtype", "float16");
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
