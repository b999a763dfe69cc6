package minimind4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.data.Sample;
import minimind4j.model.ModelConfig;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The bench's report has every figure the issue asks for; speed itself is never asserted here. */
class BenchCommandTest {
    @Test
    void jsonReportHasBothModesAndTheirRatio() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out, oldErr = System.err;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            assertEquals(0, Minimind.run("bench", "--hidden_size", "32", "--num_hidden_layers", "1", "--vocab_size", "256",
                    "--batch_size", "4", "--max_seq_len", "200", "--steps", "2", "--num_threads", "1", "--json"));
        } finally {
            System.setOut(old);
            System.setErr(oldErr);
        }
        JsonNode r = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        for (String mode : List.of("fast", "minimind")) {
            JsonNode m = r.get(mode);
            for (String k : List.of("seconds_per_step", "flops_per_step", "achieved_gflops", "ratio_to_gemm", "tokens_per_s", "supervised_tokens_per_s"))
                assertTrue(m.get(k).asDouble() > 0, mode + "." + k);
            assertEquals(4, m.get("time_split").size() + (m.get("time_split").has("allreduce") ? -1 : 0));
        }
        // MiniMind's layout pads every sample to max_seq_len; the default pads only within length-sorted batches
        assertTrue(r.get("minimind").get("padding_fraction").asDouble() > r.get("fast").get("padding_fraction").asDouble());
        // the same model and samples: MiniMind's layout computes more per step
        assertTrue(r.get("minimind").get("flops_per_step").asDouble() > r.get("fast").get("flops_per_step").asDouble());
        assertTrue(r.get("supervised_tokens_per_s_ratio").asDouble() > 0);
        assertTrue(r.get("peak_rss_mb").asDouble() > 0);
    }

    /** --data feeds real samples; --vs_torch runs MiniMind's step on real PyTorch on the same batches. */
    @Test
    void realDataAndTheSideBySideWithPyTorch() throws Exception {
        minimind4j.TestPython.require("torch");
        java.nio.file.Path demo = java.nio.file.Path.of("demo");
        CliRun run = CliRun.of("bench", "--dtype", "float32", "--data", demo.resolve("sft.jsonl").toString(), "--tokenizer_path", demo.resolve("tokenizer").toString(),
                "--hidden_size", "32", "--num_hidden_layers", "1", "--vocab_size", "2048", "--batch_size", "2", "--max_seq_len", "128",
                "--steps", "2", "--num_threads", "1", "--mode", "fast", "--vs_torch", "--breakdown", "--json");
        assertEquals(0, run.code(), run.err());
        JsonNode r = new ObjectMapper().readTree(run.out());
        assertEquals(demo.resolve("sft.jsonl").toString(), r.get("data").asText());
        JsonNode vs = r.get("vs_torch");
        int cores = Runtime.getRuntime().availableProcessors();
        // bf16 autocast is timed only where the CPU has native bf16 (emulated, it is nobody's way to train)
        int dtypes = minimind4j.engine.CpuFeatures.read().nativeBf16() ? 2 : 1;
        assertEquals((cores > 1 ? 2 : 1) * dtypes, vs.get("modes").size(), vs.toString());
        // this project's figure is the mean of its run before and its run after PyTorch's (the machine drifts)
        double before = r.get("fast").get("supervised_tokens_per_s").asDouble();
        double after = vs.get("this_project_after").get("supervised_tokens_per_s").asDouble();
        double mine = vs.get("this_project_supervised_tokens_per_s").asDouble();
        assertEquals((before + after) / 2, mine, 1e-9 * mine);
        // both sides are rated on the supervised tokens of the same timed batches
        double perStep = vs.get("supervised_tokens_per_step").asDouble();
        assertEquals(perStep, after * vs.get("this_project_after").get("seconds_per_step").asDouble(), 1e-6 * perStep);
        for (JsonNode m : vs.get("modes")) {
            double v = m.get("supervised_tokens_per_s").asDouble();
            assertTrue(v > 0, m.toString());
            assertEquals(perStep / m.get("s_per_step").asDouble(), v, 1e-9 * v);
            assertEquals(mine / v, m.get("this_project_ratio").asDouble(), 1e-9 * mine / v);
            assertTrue(m.get("gemm_gflops").asDouble() > 0, m.toString());
            // an untrained model on the real demo batches: the masked mean cross-entropy is near ln(vocab) (7.6), so the
            // batches arrived with their supervised labels (all -100 would give NaN)
            assertTrue(Math.abs(m.get("first_loss").asDouble() - Math.log(2048)) < 1.0, m.toString());
        }
        assertTrue(run.err().contains("side by side on "), run.err());
        // the batches are training's: epoch 0's order, length-grouped, so little padding
        assertTrue(r.get("batches").get("padding_fraction").asDouble() < 0.2, r.get("batches").toString());
        // --breakdown: every op family of the step, and what they do not cover, adding up to the measured step
        JsonNode bd = r.get("breakdown");
        double sum = 0;
        for (String f : minimind4j.bench.StepBreakdown.FAMILIES) {
            assertTrue(bd.has(f), f + " missing: " + bd);
            assertTrue(bd.get(f).asDouble() >= 0, f);
            sum += bd.get(f).asDouble();
        }
        assertTrue(bd.get("matmul: q/k/v, o, gate/up, down projections").asDouble() > 0);
        assertTrue(bd.get("attention (causal, GQA; fused SDPA, or the math path for bf16 on a CPU)").asDouble() > 0);
        assertTrue(bd.get("optimizer (clip + AdamW)").asDouble() > 0);
        sum += bd.get("optimizer (clip + AdamW)").asDouble();
        assertEquals(bd.get("step_seconds").asDouble(), sum + bd.get("rest").asDouble(), 1e-9);
        assertEquals(0.0, bd.get("casts of fp32 weights to the autocast type").asDouble(), "fp32: nothing is cast");
        assertTrue(run.err().contains("where a default step's"), run.err());
    }

    @Test
    void loraModeReportsStepTimeAndPeakRssAgainstFullSftOnTheSameBatches() throws Exception {
        CliRun run = CliRun.of("bench", "--mode", "lora", "--hidden_size", "32", "--num_hidden_layers", "1", "--vocab_size", "256",
                "--batch_size", "4", "--max_seq_len", "120", "--steps", "2", "--num_threads", "1", "--json");
        assertEquals(0, run.code(), run.err());
        JsonNode r = new ObjectMapper().readTree(run.out());
        JsonNode full = r.get("full_sft"), lora = r.get("lora");
        for (JsonNode m : List.of(full, lora)) {
            assertTrue(m.get("seconds_per_step").asDouble() > 0);
            assertTrue(m.get("peak_rss_mb").asDouble() > 0);
        }
        // q_proj and o_proj of one 32-hidden layer, rank 16: 2 * (16*32 + 32*16)
        assertEquals(2048, lora.get("trainable_parameters").asLong());
        assertEquals(full.get("steps").asInt(), lora.get("steps").asInt(), "the same batches");
        assertEquals(full.get("tokens_per_s").asDouble() * full.get("seconds_per_step").asDouble(),
                lora.get("tokens_per_s").asDouble() * lora.get("seconds_per_step").asDouble(), 1e-6, "the same tokens per step");
        assertEquals(lora.get("seconds_per_step").asDouble() / full.get("seconds_per_step").asDouble(), r.get("lora_vs_full_step_time").asDouble(), 1e-9);
        assertEquals(lora.get("peak_rss_mb").asDouble() / full.get("peak_rss_mb").asDouble(), r.get("lora_vs_full_peak_rss").asDouble(), 1e-9);
        assertTrue(run.err().contains("LoRA (rank 16, square"), run.err());
    }

    @Test
    void noTimedStepsIsOneLineNotATableOfNaN() {
        for (String[] bad : List.of(new String[]{"--steps", "0"}, new String[]{"--batch_size", "0"})) {
            CliRun run = CliRun.of("bench", "--hidden_size", "32", "--num_hidden_layers", "1", "--vocab_size", "256", bad[0], bad[1]);
            assertEquals(2, run.code(), run.err());
            assertEquals(1, run.err().strip().lines().count(), run.err());
            assertTrue(run.err().startsWith("error: " + bad[0] + " 0: at least 1"), run.err());
            assertFalse(run.out().contains("NaN"), run.out());
        }
    }

    @Test
    void syntheticLengthsFollowARealisticSftDistribution() {
        List<Sample> s = minimind4j.bench.BenchBatches.synthetic(ModelConfig.minimind2(), 2000, 340, 7);
        int[] lengths = s.stream().mapToInt(x -> x.ids().length).sorted().toArray();
        assertEquals(30, lengths[0]);
        assertTrue(lengths[lengths.length - 1] <= 340);
        int median = lengths[lengths.length / 2];
        assertTrue(median > 105 && median < 135, "median " + median);
    }
}
