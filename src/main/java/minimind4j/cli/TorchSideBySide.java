package minimind4j.cli;

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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench --vs_torch}: MiniMind's own training step on real PyTorch (scripts/torch_step_bench.py, this repository's
 * PyTorch module of MiniMind's architecture), timed in the same run on the same samples as this project's default
 * mode, in MiniMind's CPU default (fp32) and forced to bf16 autocast, each at 1 thread and at every core. The table it
 * prints is the README's side-by-side comparison.
 */
final class TorchSideBySide {
    private TorchSideBySide() {}

    interface Say {
        void say(String fmt, Object... args);
    }

    static Map<String, Object> run(ModelConfig c, List<Sample> samples, int batchSize, int maxSeqLen, int steps,
                                   Map<String, Object> ours, Precision precision, Say out) throws IOException, InterruptedException {
        String python = python();
        Path script = home().resolve("scripts/torch_step_bench.py");
        if (!Files.isRegularFile(script)) throw new UserError(script + ": not found (--vs_torch needs the repository's scripts/)");
        Path batches = Files.createTempFile("minimind-vs-torch", ".json");
        try {
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("family", c.qkNorm() ? "minimind3" : "minimind2");
            spec.put("hidden_size", c.hiddenSize());
            spec.put("num_hidden_layers", c.numHiddenLayers());
            spec.put("vocab_size", c.vocabSize());
            spec.put("use_moe", c.useMoe());
            spec.put("max_seq_len", maxSeqLen);
            List<Map<String, Object>> list = new ArrayList<>();
            for (int i = 0; i + batchSize <= samples.size(); i += batchSize) {
                List<int[]> ids = new ArrayList<>(), labels = new ArrayList<>();
                for (Sample s : samples.subList(i, i + batchSize)) {
                    ids.add(s.ids());
                    labels.add(s.labels());
                }
                list.add(Map.of("ids", ids, "labels", labels));
            }
            spec.put("batches", list);
            new ObjectMapper().writeValue(batches.toFile(), spec);
            int cores = Math.max(1, Runtime.getRuntime().availableProcessors());
            String threads = cores > 1 ? "1," + cores : "1";
            CpuFeatures cpu = CpuFeatures.read();
            // without native bf16, MiniMind's step forced to bf16 autocast is emulated (~10x slower): nobody would train so
            String dtypes = cpu.nativeBf16() ? "fp32,bf16" : "fp32";
            if (!cpu.nativeBf16()) out.say("%s: %s, so MiniMind's step is timed in fp32 only (its CPU default)", cpu.model(), cpu.bf16Summary());
            out.say("MiniMind's step on PyTorch (%s, %s, %s thread(s)) on the same %d batches ...", python, dtypes, threads, list.size());
            Process p = new ProcessBuilder(python, script.toString(), batches.toString(), "--threads", threads,
                    "--dtypes", dtypes, "--steps", String.valueOf(steps)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(3600, TimeUnit.SECONDS) || p.exitValue() != 0)
                throw new UserError(script + " failed (exit " + (p.isAlive() ? "timeout" : p.exitValue()) + "); its error is printed above");
            JsonNode r = new ObjectMapper().readTree(json);
            double mine = (double) ours.get("supervised_tokens_per_s");
            out.say("side by side on %s (%s), %d cores, batch %d, max_seq_len %d, supervised tokens/s:", cpu.model(), cpu.bf16Summary(), cores, batchSize, maxSeqLen);
            out.say("  %-64s %10s %12s", "", "sup. tok/s", "this project");
            List<Map<String, Object>> rows = new ArrayList<>();
            for (JsonNode m : r.get("modes")) {
                double v = m.get("supervised_tokens_per_s").asDouble();
                String name = String.format(Locale.ROOT, "MiniMind's step, PyTorch %s, %s, %d thread(s)", r.get("torch").asText(),
                        m.get("dtype").asText().equals("bf16") ? "bf16 autocast" : "fp32", m.get("threads").asInt());
                out.say("  %-64s %10.0f %11.2fx", name, v, mine / v);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("mode", name);
                row.put("supervised_tokens_per_s", v);
                row.put("s_per_step", m.get("s_per_step").asDouble());
                row.put("this_project_ratio", mine / v);
                row.put("first_loss", m.get("first_loss").asDouble());
                rows.add(row);
            }
            out.say("  %-64s %10.0f %11s", "this project's default (" + precision.describe() + ", " + Torch.threads() + " thread(s))", mine, "1.00x");
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("cpu", cpu.model());
            report.put("cpu_bf16", cpu.bf16Summary());
            report.put("torch", r.get("torch").asText());
            report.put("modes", rows);
            report.put("this_project_supervised_tokens_per_s", mine);
            return report;
        } finally {
            Files.deleteIfExists(batches);
        }
    }

    /** Debian's python3 (where python3-torch installs) first, then python3 on PATH; the first that imports torch. */
    static String python() throws InterruptedException {
        for (String candidate : Arrays.asList("/usr/bin/python3", "python3")) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import torch").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0) return candidate;
            } catch (IOException notThere) {
                // try the next
            }
        }
        throw new UserError("--vs_torch needs Python with PyTorch (Debian: apt-get install -y python3-torch)");
    }

    private static Path home() {
        return Path.of(System.getProperty("minimind.home", System.getProperty("user.dir")));
    }
}
