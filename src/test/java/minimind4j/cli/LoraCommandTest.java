package minimind4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.TestPython;
import minimind4j.checkpoint.SameWeights;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Pth;
import minimind4j.checkpoint.Weights;
import minimind4j.data.Sample;
import minimind4j.data.SftDataset;
import minimind4j.tokenizer.MiniMindTokenizer;
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
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code minimind lora} end to end on the bundled demo (its pretrained 128-hidden model, its conversations): the adapter
 * lowers held-out loss, leaves the base bit-identical, merges, resumes exactly, and real PyTorch reads it with
 * MiniMind's key names and gets the same loss.
 */
class LoraCommandTest {
    @TempDir
    static Path dir;
    static final Path DEMO = Path.of("demo").toAbsolutePath();
    static final Path BASE = DEMO.resolve("weights/pretrain_128.pth");
    static Path save, evalData, adapter;

    static String[] train(Path saveDir, Path data, String... extra) {
        List<String> a = new ArrayList<>(List.of("lora", "--data_path", data.toString(), "--tokenizer_path", DEMO.resolve("tokenizer").toString(),
                "--from_weight", BASE.toString(), "--save_dir", saveDir.toString(), "--lora_name", "lora_demo",
                "--batch_size", "8", "--learning_rate", "5e-3", "--num_threads", "1", "--dtype", "float32", "--log_interval", "1000", "--max_seq_len", "128"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    /** The command line in another --dtype. */
    static String[] in(String dtype, String[] a) {
        String[] out = a.clone();
        for (int i = 0; i + 1 < out.length; i++) if (out[i].equals("--dtype")) out[i + 1] = dtype;
        return out;
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @BeforeAll
    static void trainOnce() throws Exception {
        save = dir.resolve("run");
        evalData = Files.write(dir.resolve("eval.jsonl"), Files.readAllLines(DEMO.resolve("sft_eval.jsonl")).subList(0, 30));
        CliRun r = CliRun.of(train(save, DEMO.resolve("sft.jsonl"), "--max_steps", "16", "--peft_dir", save.resolve("peft").toString()));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("base weights frozen"), r.out());
        adapter = save.resolve("lora_demo_128.pth");
        assertTrue(Files.isRegularFile(adapter));
    }

    static double eval(String... extra) throws Exception {
        List<String> a = new ArrayList<>(List.of("eval", "--data", evalData.toString(), "--tokenizer_path", DEMO.resolve("tokenizer").toString(),
                "--max_seq_len", "128", "--json"));
        a.addAll(List.of(extra));
        CliRun r = CliRun.of(a.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        return new ObjectMapper().readTree(r.out()).get("loss").asDouble();
    }

    @Test
    void adapterLowersHeldOutLossOnTheDemo() throws Exception {
        double base = eval("--weight", BASE.toString());
        double tuned = eval("--weight", BASE.toString(), "--lora", adapter.toString());
        assertTrue(tuned < base - 0.5, "held-out loss " + base + " -> " + tuned);
    }

    @Test
    void frozenBaseIsBitIdenticalAfterTrainingAndTheOptimizerHoldsOnlyAdapters() throws Exception {
        Map<String, HostTensor> base = Weights.read(BASE);
        Object root = Pth.read(save.resolve("lora_demo_128_resume.pth"));
        Map<?, ?> model = (Map<?, ?>) ((Map<?, ?>) root).get("model");
        int adapters = 0;
        for (Map.Entry<?, ?> e : model.entrySet()) {
            String k = (String) e.getKey();
            if (k.contains(".lora.")) { adapters++; continue; }
            assertArrayEquals(base.get(k).toFloatArray(), ((HostTensor) e.getValue()).toFloatArray(), k + " changed during LoRA training");
        }
        assertEquals(2 * 2 * 4, adapters, "q_proj and o_proj of 4 layers, A and B");
        // PyTorch's AdamW state dict, as MiniMind's lm_checkpoint of a LoRA run holds it: one state per adapter tensor only
        Map<?, ?> optimizer = (Map<?, ?>) ((Map<?, ?>) root).get("optimizer");
        Map<?, ?> state = (Map<?, ?>) optimizer.get("state");
        List<?> params = (List<?>) ((Map<?, ?>) ((List<?>) optimizer.get("param_groups")).get(0)).get("params");
        assertEquals(adapters, params.size(), "the optimizer's parameters are the adapters, not the base's");
        assertEquals(adapters, state.size());
        long moments = 0;
        for (Object st : state.values()) moments += ((HostTensor) ((Map<?, ?>) st).get("exp_avg")).numel();
        assertEquals(4 * 2 * (16 * 128 + 128 * 16), moments, "exp_avg covers exactly the adapter elements");
    }

    @Test
    void mergeGivesTheAdaptersLossAndPeftDirectoryGivesItToo() throws Exception {
        Path merged32 = dir.resolve("merged32.pth"), merged16 = dir.resolve("merged16.pth");
        assertEquals(0, CliRun.of("lora", "merge", "--weight", BASE.toString(), "--lora", adapter.toString(), "--out", merged32.toString(), "--dtype", "float32").code());
        CliRun r = CliRun.of("lora", "merge", "--weight", BASE.toString(), "--lora", adapter.toString(), "--out", merged16.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        double withAdapter = eval("--weight", BASE.toString(), "--lora", adapter.toString());
        assertEquals(withAdapter, eval("--weight", merged32.toString()), 1e-5);
        assertEquals(withAdapter, eval("--weight", merged16.toString()), 5e-3, "fp16 rounding of the merged weights");
        // the merged file is a full MiniMind state dict, tied keys included
        assertEquals(Weights.read(BASE).keySet(), Weights.read(merged16).keySet());
        // PEFT's layout: fp32, unscaled B with alpha in the config; the MiniMind file is its fp16 rounding
        Path peft = save.resolve("peft");
        assertTrue(Files.isRegularFile(peft.resolve("adapter_model.safetensors")));
        JsonNode cfg = new ObjectMapper().readTree(peft.resolve("adapter_config.json").toFile());
        assertEquals(16, cfg.get("r").asInt());
        assertEquals(16, cfg.get("lora_alpha").asInt());
        assertEquals(BASE.toString(), cfg.get("base_model_name_or_path").asText());
        assertEquals(withAdapter, eval("--weight", BASE.toString(), "--lora", peft.toString()), 2e-3);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"float32", "bfloat16"})
    void resumedRunEndsWithTheSameAdapterAsAnUninterruptedOne(String dtype) throws Exception {
        Path data = Files.write(dir.resolve("small.jsonl"), Files.readAllLines(DEMO.resolve("sft.jsonl")).subList(0, 32));
        Path whole = dir.resolve(dtype + "-whole"), split = dir.resolve(dtype + "-split");
        String[] common = {"--epochs", "2", "--lora_target", "all-linear", "--lora_alpha", "32"};
        assertEquals(0, CliRun.of(in(dtype, train(whole, data, common))).code());
        assertEquals(0, CliRun.of(in(dtype, train(split, data, concat(common, "--max_steps", "3")))).code());
        CliRun r = CliRun.of(in(dtype, train(split, data, concat(common, "--from_resume", "1"))));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("resuming from"), r.out());
        assertTrue(r.out().contains(dtype.equals("bfloat16") ? "bf16 autocast" : "cpu, fp32"), r.out());
        Map<String, HostTensor> a = Pth.readStateDict(whole.resolve("lora_demo_128.pth")), b = Pth.readStateDict(split.resolve("lora_demo_128.pth"));
        assertEquals(4 * 7 * 2, a.size(), "all-linear: 7 projections in each of 4 layers");
        SameWeights.assertBitIdentical(a, b);
        if (dtype.equals("bfloat16")) return;
        // another target set cannot silently continue that checkpoint
        CliRun wrong = CliRun.of(train(split, data, "--epochs", "3", "--from_resume", "1"));
        assertEquals(2, wrong.code());
        assertTrue(wrong.err().contains("--lora_target"), wrong.err());
    }

    @Test
    void loraWithoutArgumentsRunsTheBundledDemo() {
        Path out = dir.resolve("demo-run");
        // a few steps only: everything else is what `./minimind lora` does
        CliRun r = CliRun.of("lora", "--save_dir", out.toString(), "--max_steps", "2", "--num_threads", "1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("no --data_path given and no dataset/lora_medical.jsonl: running the bundled demo"), r.out());
        assertTrue(Files.isRegularFile(out.resolve("lora_medical_128.pth")));
        assertEquals(6, r.out().lines().filter(l -> l.startsWith("  lora:")).count(), r.out());
        assertEquals(6, r.out().lines().filter(l -> l.startsWith("  base:")).count(), r.out());
    }

    @Test
    void sftAndLoraTakeAFilePathAsFromWeight() throws Exception {
        Path data = Files.write(dir.resolve("tiny.jsonl"), Files.readAllLines(DEMO.resolve("sft.jsonl")).subList(0, 8));
        Path out = dir.resolve("sft-from-path");
        CliRun sft = CliRun.of("sft", "--data_path", data.toString(), "--tokenizer_path", DEMO.resolve("tokenizer").toString(),
                "--from_weight", BASE.toString(), "--save_dir", out.toString(), "--hidden_size", "128", "--num_hidden_layers", "4",
                "--vocab_size", "2048", "--batch_size", "4", "--max_steps", "1", "--num_threads", "1");
        assertEquals(0, sft.code(), sft.out() + sft.err());
        assertTrue(Files.isRegularFile(out.resolve("full_sft_128.pth")));
        CliRun missing = CliRun.of("lora", "--data_path", data.toString(), "--tokenizer_path", DEMO.resolve("tokenizer").toString(),
                "--from_weight", dir.resolve("missing_128.pth").toString(), "--save_dir", dir.resolve("nope").toString(),
                "--hidden_size", "128", "--num_hidden_layers", "4", "--vocab_size", "2048");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("missing_128.pth: no such weight file"), missing.err());
    }

    /**
     * The "done when": MiniMind's load_lora semantics in real PyTorch (scripts/minimind_lora_torch.py, a
     * MiniMind-architecture module with model_lora.py's LoRA) accept the adapter and give `minimind eval --lora`'s loss;
     * the merged file gives it again.
     */
    @Test
    void pytorchLoadsTheAdapterWithMiniMindsKeyNamesAndGetsTheSameLoss() throws Exception {
        String python = TestPython.require("torch");
        Path samples = dir.resolve("samples.jsonl");
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(DEMO.resolve("tokenizer"));
             SftDataset ds = new SftDataset(SftDataset.index(evalData, false), tok, 128, 0.0, 1.0, 42)) {
            List<String> lines = new ArrayList<>();
            ObjectMapper json = new ObjectMapper();
            for (int i = 0; i < ds.size(); i++) {
                Sample s = ds.get(i, 0);
                lines.add(json.writeValueAsString(Map.of("ids", s.ids(), "labels", s.labels())));
            }
            Files.write(samples, lines);
        }
        double java = eval("--weight", BASE.toString(), "--lora", adapter.toString());
        double torchBase = torchLoss(python, "--weight", BASE.toString(), "--samples", samples.toString());
        double torchLora = torchLoss(python, "--weight", BASE.toString(), "--lora", adapter.toString(), "--samples", samples.toString());
        assertEquals(eval("--weight", BASE.toString()), torchBase, 1e-4, "the reference module is MiniMind's model");
        assertEquals(java, torchLora, 1e-4, "PyTorch with load_lora == minimind eval --lora");
        Path merged = dir.resolve("merged_for_torch.pth");
        assertEquals(0, CliRun.of("lora", "merge", "--weight", BASE.toString(), "--lora", adapter.toString(), "--out", merged.toString()).code());
        double torchMerged = torchLoss(python, "--weight", merged.toString(), "--samples", samples.toString());
        assertEquals(eval("--weight", merged.toString()), torchMerged, 1e-4, "the merged file in PyTorch == here");
        assertEquals(java, torchMerged, 5e-3, "merged (fp16) == adapter");
    }

    static double torchLoss(String python, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(python, Path.of("scripts/minimind_lora_torch.py").toAbsolutePath().toString()));
        cmd.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "python timed out");
        assertEquals(0, p.exitValue(), out);
        String last = out.strip().lines().reduce((x, y) -> y).orElse("");
        return new ObjectMapper().readTree(last).get("loss").asDouble();
    }
}
