package minimind4j.cli;

import minimind4j.UserError;
import minimind4j.bench.BenchBatches;
import minimind4j.bench.Rss;
import minimind4j.bench.StepBreakdown;
import minimind4j.bench.StepTiming;
import minimind4j.bench.TorchSideBySide;

import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.data.Batch;
import minimind4j.data.Sample;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import minimind4j.engine.Precision;
import minimind4j.train.Distributed;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measures, in one run: (a) the engine's GEMM rate for the model's main matrix shapes, (b) full SFT training",
                "steps (forward + backward + AdamW) in this project's default mode (length-grouped batches, no compute on padding,",
                "vocabulary projection on supervised positions only) and (c) the same data the MiniMind way (every sample padded",
                "to max_seq_len, logits on every position). Prints FLOP/s, (b)/(a), tokens/s, supervised tokens/s, the",
                "useful-token ratio of the two modes, where the time goes, and peak RSS. Data: synthetic SFT lengths 30-340",
                "(median ~120) unless --data is given. --vs_torch also times MiniMind's own step on real PyTorch",
                "(/usr/bin/python3 with torch: fp32 and bf16 autocast) on the same batches and prints the side-by-side table."})
public final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelFlags model = new ModelFlags();
    @Spec
    CommandSpec spec;
    @Option(names = {"--batch_size", "--batch-size"}, defaultValue = "16", description = "Batch size (default: 16)")
    int batchSize;
    @Option(names = {"--max_seq_len", "--max-seq-len"}, defaultValue = "340", description = "max_seq_len (default: 340)")
    int maxSeqLen;
    @Option(names = "--steps", defaultValue = "4", description = "Timed steps per mode, after one warm-up step (default: 4)")
    int steps;
    @Option(names = {"--num_threads", "--num-threads"}, description = "Intra-op threads (default: cores - 1, at least 1)")
    Integer threads;
    @Option(names = "--mode", defaultValue = "both", description = "both, fast (this project's default), minimind, or lora (full SFT vs LoRA on the same batches: step time, peak RSS)")
    String mode;
    @Option(names = {"--lora_rank", "--lora-rank"}, defaultValue = "16", description = "--mode lora: adapter rank (default: 16)")
    int loraRank;
    @Option(names = {"--lora_target", "--lora-target"}, defaultValue = "square", description = "--mode lora: square, all-linear or a comma list (default: square)")
    String loraTarget;
    @Option(names = "--json", description = "Print one JSON object")
    boolean json;
    @Mixin
    DistributedFlags d = new DistributedFlags();
    @Option(names = {"--leak_steps", "--leak-steps"}, defaultValue = "0", description = "Also run N extra fast-mode steps and report RSS growth (leak check)")
    int leakSteps;
    @Option(names = "--device", description = "cpu, cuda or cuda:N (default: cuda:0 when libtorch sees a GPU, else cpu; CUDA needs a build with -Pgpu)")
    String device;
    @Option(names = "--dtype", defaultValue = "auto", description = "As in training: auto (default: bf16 autocast on CUDA; on a CPU bf16 only where it is native and faster, else fp32), bfloat16, float16, float32")
    String dtype;
    @Option(names = {"--cpu_autocast", "--cpu-autocast"}, hidden = true, description = "No longer needed: --dtype applies on a CPU as on CUDA")
    boolean cpuAutocast;
    @Option(names = {"--data", "--data_path", "--data-path"}, description = "Real SFT samples (any format sft reads) instead of synthetic lengths; the first batch_size x (steps + 1)")
    Path data;
    @Option(names = {"--tokenizer_path", "--tokenizer-path"}, defaultValue = "model", description = "Tokenizer for --data (default: model)")
    Path tokenizerPath;
    @Option(names = {"--vs_torch", "--vs-torch"}, description = "Also time MiniMind's own step on real PyTorch (scripts/torch_step_bench.py) on the same batches")
    boolean vsTorch;
    @Option(names = "--breakdown", description = "Also time each op family of the default step (matmuls, attention, norms, elementwise, loss, embedding, casts, optimizer) at the step's shapes")
    boolean breakdown;

    /** The device and precision of every measurement, as a training run with the same flags would use. */
    private Precision precision = Precision.cpu();

    /** Where a distributed bench's rank 0 leaves its numbers for the launching process. */
    static final String RESULT_ENV = "MINIMIND_BENCH_RESULT";

    @Override
    public Integer call() throws Exception {
        ModelConfig c = model.resolve();
        if (steps < 1) throw new UserError("--steps " + steps + ": at least 1 timed step (one warm-up step runs before them)");
        if (batchSize < 1) throw new UserError("--batch_size " + batchSize + ": at least 1");
        // the same choice sft makes with these flags (auto: measured for this machine), printed as sft prints it
        minimind4j.train.RunSettings run = minimind4j.train.RunSettings.choose(device, dtype, threads, DistributedFlags.localRank(), c, maxSeqLen, null, null);
        precision = run.precision();
        if (d.launches()) return scaling(c);
        if (System.getenv("RANK") != null && !"1".equals(System.getenv("WORLD_SIZE"))) return worker(c);
        for (String line : run.lines()) say("%s", line);
        Torch.setThreads(run.threads());
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("config", Map.of("hidden_size", c.hiddenSize(), "num_hidden_layers", c.numHiddenLayers(), "vocab_size", c.vocabSize(),
                "batch_size", batchSize, "max_seq_len", maxSeqLen, "threads", Torch.threads(), "parameters", MiniMindLM.parameterCount(c),
                "device", precision.describe()));
        say("device: %s", precision.describe());
        List<List<Sample>> batches = data == null ? firstBatches(BenchBatches.synthetic(c, batchSize * minimind4j.train.BatchPlan.GROUP_WINDOW, maxSeqLen, 7)) : realBatches(c);
        report.put("data", data == null ? "synthetic" : data.toString());
        report.put("batches", BenchBatches.stats(batches));
        double gemm = StepTiming.gemmRate(c, batchSize * 120L, precision);
        report.put("gemm_gflops", gemm / 1e9);
        say("(a) engine GEMM on the model's shapes (%d rows): %.1f GFLOP/s", batchSize * 120, gemm / 1e9);
        Map<String, Object> fast = null, mm = null;
        if (mode.equals("lora")) {
            loraComparison(c, batches, gemm, report);
        } else if (!List.of("both", "fast", "minimind").contains(mode)) {
            throw new UserError("--mode " + mode + ": expected both, fast, minimind or lora");
        }
        if (!mode.equals("minimind") && !mode.equals("lora")) {
            fast = timing().run(c, batches, true, gemm, Distributed.single());
            report.put("fast", fast);
        }
        if (!mode.equals("fast") && !mode.equals("lora")) {
            mm = timing().run(c, batches, false, gemm, Distributed.single());
            report.put("minimind", mm);
        }
        if (fast != null && mm != null) {
            double ratio = (double) fast.get("supervised_tokens_per_s") / (double) mm.get("supervised_tokens_per_s");
            report.put("supervised_tokens_per_s_ratio", ratio);
            say("useful (supervised) tokens/s, this project vs MiniMind's layout: %.2fx", ratio);
        }
        if (vsTorch && fast != null) {
            Map<String, Object> vs = TorchSideBySide.run(c, batches, maxSeqLen, gemm, precision, this::say,
                    () -> timing().run(c, batches, true, gemm, Distributed.single()), fast);
            report.put("vs_torch", vs);
            @SuppressWarnings("unchecked")
            Map<String, Object> after = (Map<String, Object>) vs.get("this_project_after");
            fast = after;  // the breakdown compares with the step measured nearest to it
        }
        if (breakdown && fast != null) report.put("breakdown", StepBreakdown.run(c, batches, precision, (double) fast.get("seconds_per_step"),
                (Map<?, ?>) fast.get("time_split"), this::say));
        if (leakSteps > 0) report.put("leak", timing().leakCheck(c, leakSteps, batchSize));
        report.put("peak_rss_mb", Rss.peakRssMb());
        say("peak RSS: %.0f MB", Rss.peakRssMb());
        if (json) {
            try {
                System.out.println(new ObjectMapper().writeValueAsString(report));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return 0;
    }

    /** The step as sft runs it, timed with this run's precision and max_seq_len. */
    private StepTiming timing() {
        return new StepTiming(precision, maxSeqLen, this::say);
    }

    private void say(String fmt, Object... args) {
        (json ? System.err : System.out).println(String.format(Locale.ROOT, fmt, args));
    }

    /**
     * The first steps + 1 full batches training would run on --data: epoch 0's shuffled order, grouped by length in
     * windows of 32 batches (the default --group_by_length 1), without system-prompt augmentation so every mode and
     * PyTorch see the same tokens.
     */
    private List<List<Sample>> realBatches(ModelConfig c) {
        if (!Files.exists(data)) throw new UserError(data + ": no such file (--data)");
        try (minimind4j.tokenizer.MiniMindTokenizer tok = minimind4j.tokenizer.MiniMindTokenizer.load(tokenizerPath);
             minimind4j.data.SftDataset ds = minimind4j.data.SftDataset.open(List.of(data), false, tok,
                     minimind4j.data.SftDataset.Options.of(maxSeqLen).withAugmentation(0, 1, 42), m -> {})) {
            if (tok.vocabSize() > c.vocabSize())
                throw new UserError(tokenizerPath + ": the tokenizer has " + tok.vocabSize() + " tokens but the model's vocab_size is " + c.vocabSize() + " (pass --vocab_size)");
            if (ds.size() < batchSize * (steps + 1))
                throw new UserError(data + ": " + ds.size() + " usable samples, the bench needs batch_size x (steps + 1) = " + batchSize * (steps + 1) + " (lower --steps or --batch_size)");
            minimind4j.train.BatchPlan plan = new minimind4j.train.BatchPlan(ds, batchSize, 0, true, minimind4j.train.BatchPlan.GROUP_WINDOW, 0, 1);
            List<List<Sample>> out = new ArrayList<>();
            for (int w = 0; out.size() < steps + 1 && w * minimind4j.train.BatchPlan.GROUP_WINDOW < plan.iters(); w++)
                for (List<Sample> b : plan.window(w))
                    if (b.size() == batchSize && out.size() < steps + 1) out.add(List.copyOf(b));
            if (out.size() < steps + 1) throw new UserError(data + ": only " + out.size() + " full batches of " + batchSize + " (lower --steps or --batch_size)");
            return out;
        }
    }

    /** The first steps + 1 full batches of one length-grouped window of these samples. */
    private List<List<Sample>> firstBatches(List<Sample> window) {
        List<List<Sample>> out = new ArrayList<>();
        for (List<Sample> b : minimind4j.train.BatchPlan.grouped(window, batchSize, 0, 0))
            if (b.size() == batchSize && out.size() < steps + 1) out.add(b);
        return out;
    }

    /**
     * --nproc_per_node N: the same fast-mode steps in one process with every core, then in N processes (each with
     * cores/N threads and batch_size samples) averaging gradients over Gloo; prints the throughput ratio and the
     * communication time per step.
     */
    private int scaling(ModelConfig c) throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        Torch.setThreads(threads != null ? threads : Torch.defaultThreads());
        List<List<Sample>> batches = firstBatches(BenchBatches.synthetic(c, batchSize * (steps + 1), maxSeqLen, 7));
        say("one process, %d threads, batch %d:", Torch.threads(), batchSize);
        Map<String, Object> one = timing().run(c, batches, true, Double.NaN, Distributed.single());
        Path result = Files.createTempFile("minimind-bench", ".json");
        say("%d processes, %d threads each, batch %d each:", d.nprocPerNode, Math.max(1, cores / d.nprocPerNode), batchSize);
        // the workers compute in this process's choice (as sft's do), not each in its own timing of --dtype auto
        int code = d.launch(spec, Math.max(1, cores / d.nprocPerNode), Map.of(RESULT_ENV, result.toString(),
                minimind4j.train.RunSettings.WORKER_DTYPE, precision.dtypeName()));
        if (code != 0) return code;
        @SuppressWarnings("unchecked")
        Map<String, Object> many = new ObjectMapper().readValue(result.toFile(), Map.class);
        Files.deleteIfExists(result);
        double scale = ((Number) many.get("tokens_per_s")).doubleValue() / (double) one.get("tokens_per_s");
        say("scaling: %d processes give %.2fx the tokens/s of one (%.0f vs %.0f); gradient allreduce %.3f s per step (%.0f%% of a step)",
                d.nprocPerNode, scale, ((Number) many.get("tokens_per_s")).doubleValue(), (double) one.get("tokens_per_s"),
                ((Number) many.get("comm_seconds_per_step")).doubleValue(),
                100 * ((Number) many.get("comm_seconds_per_step")).doubleValue() / ((Number) many.get("seconds_per_step")).doubleValue());
        if (json) {
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("one_process", one);
            report.put("processes", d.nprocPerNode);
            report.put("distributed", many);
            report.put("scaling", scale);
            System.out.println(new ObjectMapper().writeValueAsString(report));
        }
        return 0;
    }

    /** One rank of a distributed bench: its shard of the samples, gradients averaged every step. */
    private int worker(ModelConfig c) throws Exception {
        Torch.setThreads(threads != null ? threads : Torch.defaultThreads());
        try (Distributed dist = d.join(precision)) {
            int world = dist.worldSize();
            List<Sample> all = BenchBatches.synthetic(c, batchSize * world * (steps + 1), maxSeqLen, 7);
            List<Sample> mine = new ArrayList<>();
            for (int i = dist.rank(); i < all.size(); i += world) mine.add(all.get(i));
            Map<String, Object> r = timing().run(c, firstBatches(mine), true, Double.NaN, dist);
            String out = System.getenv(RESULT_ENV);
            if (dist.isMain()) {
                // throughput of the whole group: every rank processed about as many tokens in the same steps
                r.put("tokens_per_s", (double) r.get("tokens_per_s") * world);
                r.put("supervised_tokens_per_s", (double) r.get("supervised_tokens_per_s") * world);
                if (out != null) Files.writeString(Path.of(out), new ObjectMapper().writeValueAsString(r));
            }
            dist.barrier();
        }
        return 0;
    }

    /**
     * LoRA and full SFT in this project's default mode on the same batches, one after the other in this process; the
     * peak-RSS high-water mark is reset (Linux /proc/self/clear_refs) before each, so each peak is its own.
     */
    private void loraComparison(ModelConfig c, List<List<Sample>> samples, double gemm, Map<String, Object> report) {
        minimind4j.lora.LoraConfig lc = new minimind4j.lora.LoraConfig(loraRank, loraRank, 0.0, minimind4j.lora.LoraTargets.parse(loraTarget));
        // LoRA first: what it frees stays in the allocator and is reused by the larger full run, so neither peak is inflated by the other
        double rss1 = Rss.resetPeakRss();
        Map<String, Object> lora = timing().run(c, samples, true, gemm, Distributed.single(), lc);
        lora.put("peak_rss_mb", Rss.peakRssMb());
        lora.put("rss_mb_at_start", rss1);
        double rss0 = Rss.resetPeakRss();
        Map<String, Object> full = timing().run(c, samples, true, gemm, Distributed.single(), null);
        full.put("peak_rss_mb", Rss.peakRssMb());
        full.put("rss_mb_at_start", rss0);
        report.put("full_sft", full);
        report.put("lora", lora);
        double time = (double) lora.get("seconds_per_step") / (double) full.get("seconds_per_step");
        double peak = (double) lora.get("peak_rss_mb") / (double) full.get("peak_rss_mb");
        report.put("lora_vs_full_step_time", time);
        report.put("lora_vs_full_peak_rss", peak);
        say("LoRA (rank %d, %s, %d trainable parameters) vs full SFT on the same batches: step time %.2fx (%.2f vs %.2f s), peak RSS %.2fx (%.0f vs %.0f MB; LoRA ran first, %.0f vs %.0f MB above the start of each)",
                loraRank, lc.targets().spec(), ((Number) lora.get("trainable_parameters")).longValue(), time, (double) lora.get("seconds_per_step"),
                (double) full.get("seconds_per_step"), peak, (double) lora.get("peak_rss_mb"), (double) full.get("peak_rss_mb"),
                (double) lora.get("peak_rss_mb") - rss1, (double) full.get("peak_rss_mb") - rss0);
    }
}
