package minimind4j.bench;

import minimind4j.UserError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.data.Sample;
import minimind4j.engine.CpuFeatures;
import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import minimind4j.model.ModelConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@code bench --vs_torch}: MiniMind's own training step on real PyTorch (scripts/torch_step_bench.py, this repository's
 * PyTorch module of MiniMind's architecture), timed in the same run on the same samples as this project's default
 * mode, in MiniMind's CPU default (fp32) and forced to bf16 autocast, each at 1 thread and at every core. The table it
 * prints is the README's side-by-side comparison.
 */
public final class TorchSideBySide {
    private TorchSideBySide() {}

    /**
     * Times MiniMind's step on PyTorch over {@code batches}, then this project's default step again ({@code ours}
     * runs it): the machine is shared and its speed drifts, so this project's figure is the mean of a run before and
     * a run after PyTorch's, both printed, and each side's GEMM rate at its time is in the table.
     */
    public static Map<String, Object> run(ModelConfig c, List<List<Sample>> batches, int maxSeqLen, double ourGemm,
                                   Precision precision, Say out, Supplier<Map<String, Object>> ours,
                                   Map<String, Object> oursBefore) throws IOException, InterruptedException {
        String python = python();
        Path script = home().resolve("scripts/torch_step_bench.py");
        if (!Files.isRegularFile(script)) throw new UserError(script + ": not found (--vs_torch needs the repository's scripts/)");
        Path file = Files.createTempFile("minimind-vs-torch", ".json");
        try {
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("family", c.family());
            spec.put("hidden_size", c.hiddenSize());
            spec.put("intermediate_size", c.intermediateSize());
            spec.put("num_hidden_layers", c.numHiddenLayers());
            spec.put("vocab_size", c.vocabSize());
            spec.put("use_moe", c.useMoe());
            spec.put("max_seq_len", maxSeqLen);
            List<Map<String, Object>> list = new ArrayList<>();
            long supervised = 0;
            for (int i = 0; i < batches.size(); i++) {
                List<int[]> ids = new ArrayList<>(), labels = new ArrayList<>();
                for (Sample s : batches.get(i)) {
                    ids.add(s.ids());
                    labels.add(s.labels());
                }
                // the timed batches (the first is the warm-up on both sides), counted as the step counts them
                if (i > 0) supervised += minimind4j.data.Batch.of(batches.get(i), 0, 0).supervised();
                list.add(Map.of("ids", ids, "labels", labels));
            }
            double supervisedPerStep = (double) supervised / Math.max(1, batches.size() - 1);
            spec.put("batches", list);
            new ObjectMapper().writeValue(file.toFile(), spec);
            int cores = Math.max(1, Runtime.getRuntime().availableProcessors());
            String threads = cores > 1 ? "1," + cores : "1";
            CpuFeatures cpu = CpuFeatures.read();
            // without native bf16, MiniMind's step forced to bf16 autocast is emulated (~10x slower): nobody would train so
            String dtypes = cpu.nativeBf16() ? "fp32,bf16" : "fp32";
            if (!cpu.nativeBf16()) out.say("%s: %s, so MiniMind's step is timed in fp32 only (its CPU default)", cpu.model(), cpu.bf16Summary());
            // every MiniMind step costs the same (each batch is padded to max_seq_len), so two timed steps per mode suffice
            int torchSteps = Math.min(2, batches.size() - 1);
            out.say("MiniMind's step on PyTorch (%s, %s, %s thread(s), %d timed step(s) each after a warm-up) ...", python, dtypes, threads, torchSteps);
            Process p = new ProcessBuilder(python, script.toString(), file.toString(), "--threads", threads,
                    "--dtypes", dtypes, "--steps", String.valueOf(Math.max(1, torchSteps))).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(3600, TimeUnit.SECONDS) || p.exitValue() != 0)
                throw new UserError(script + " failed (exit " + (p.isAlive() ? "timeout" : p.exitValue()) + "); its error is printed above");
            JsonNode r = new ObjectMapper().readTree(json);
            out.say("this project's default step again, after PyTorch's (the machine's speed drifts):");
            Map<String, Object> oursAfter = ours.get();
            double before = (double) oursBefore.get("supervised_tokens_per_s"), after = (double) oursAfter.get("supervised_tokens_per_s");
            double mine = (before + after) / 2;
            out.say("side by side on %s (%s), %d cores, batch %d, max_seq_len %d, %d batches as training's first steps; PyTorch's BLAS: %s",
                    cpu.model(), cpu.bf16Summary(), cores, batches.get(0).size(), maxSeqLen, batches.size(), r.path("blas").asText("?"));
            out.say("  %-62s %10s %10s %12s", "", "sup. tok/s", "GEMM GF/s", "this project");
            List<Map<String, Object>> rows = new ArrayList<>();
            for (JsonNode m : r.get("modes")) {
                double v = supervisedPerStep / m.get("s_per_step").asDouble();
                String name = String.format(Locale.ROOT, "MiniMind's step, PyTorch %s, %s, %d thread(s)", r.get("torch").asText(),
                        m.get("dtype").asText().equals("bf16") ? "bf16 autocast" : "fp32", m.get("threads").asInt());
                double gemm = m.path("gemm_gflops").asDouble(Double.NaN);
                out.say("  %-62s %10.0f %10.0f %11.2fx", name, v, gemm, mine / v);
                if (gemm < 10)
                    out.say("  ^ PyTorch's GEMM runs at %.1f GFLOP/s: its BLAS is the reference one (Debian's libblas3); install libopenblas0-pthread for a fair comparison", gemm);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("mode", name);
                row.put("supervised_tokens_per_s", v);
                row.put("s_per_step", m.get("s_per_step").asDouble());
                row.put("gemm_gflops", gemm);
                row.put("this_project_ratio", mine / v);
                row.put("first_loss", m.get("first_loss").asDouble());
                rows.add(row);
            }
            out.say("  %-62s %10.0f %10.0f %11s", "this project's default (" + precision.describe() + ", " + Torch.threads() + " thread(s))", mine, ourGemm / 1e9, "1.00x");
            out.say("  (this project: %.0f before and %.0f after PyTorch's run)", before, after);
            double torchRss = r.path("peak_rss_mb").asDouble(Double.NaN);
            if (!Double.isNaN(torchRss))
                out.say("  peak RSS: MiniMind's PyTorch process %.0f MB (its largest mode); this project's, below, for its own run", torchRss);
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("cpu", cpu.model());
            report.put("cpu_bf16", cpu.bf16Summary());
            report.put("torch", r.get("torch").asText());
            report.put("torch_blas", r.path("blas").asText("?"));
            report.put("torch_peak_rss_mb", r.path("peak_rss_mb").asDouble(Double.NaN));
            report.put("supervised_tokens_per_step", supervisedPerStep);
            report.put("modes", rows);
            report.put("this_project_supervised_tokens_per_s", mine);
            report.put("this_project_before_after", List.of(before, after));
            report.put("this_project_after", oursAfter);
            return report;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Debian's python3 (where python3-torch installs) first, then python3 on PATH; the first that imports torch. */
    static String python() {
        String python = minimind4j.engine.Python.find(List.of("torch"));
        if (python == null) throw new UserError("--vs_torch needs Python with PyTorch (Debian: apt-get install -y python3-torch libopenblas0-pthread)");
        return python;
    }

    private static Path home() {
        return Path.of(System.getProperty("minimind.home", System.getProperty("user.dir")));
    }
}
