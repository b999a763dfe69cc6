package minimind4j.bench;

import minimind4j.data.Batch;
import minimind4j.data.Sample;
import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.train.Distributed;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Times the training step sft runs ({@link minimind4j.train.TrainStep}: forward with its one loss read, backward,
 * gradient averaging, update) on given batches, in this project's layout (each batch padded to its longest sample,
 * logits on supervised positions) or MiniMind's (every sample padded to max_seq_len, logits everywhere), and reports
 * seconds, FLOP/s against the GEMM rate, tokens/s and where the time went.
 */
public final class StepTiming {
    private final Precision precision;
    private final int maxSeqLen;
    private final Say out;

    public StepTiming(Precision precision, int maxSeqLen, Say out) {
        this.precision = precision;
        this.maxSeqLen = maxSeqLen;
        this.out = out;
    }

    public Map<String, Object> run(ModelConfig c, List<List<Sample>> samples, boolean fast, double gemm, Distributed dist) {
        return run(c, samples, fast, gemm, dist, null);
    }

    /** {@code lora} null: full training; else adapters of that config on the frozen model, only they optimised. */
    public Map<String, Object> run(ModelConfig c, List<List<Sample>> planned, boolean fast, double gemm, Distributed dist, minimind4j.lora.LoraConfig lora) {
        // this project pads each batch to its longest sample; MiniMind's layout pads every sample to max_seq_len
        List<Batch> batches = new ArrayList<>();
        for (List<Sample> b : planned) batches.add(Batch.of(b, 0, fast ? 0 : maxSeqLen));
        double fwd = 0, bwd = 0, optim = 0, data = 0, comm = 0, flops = 0;
        long tokens = 0, supervised = 0, positions = 0;
        long trainable;
        try (MiniMindLM m = MiniMindLM.init(c, 1).to(precision);
             minimind4j.lora.LoraAdapters adapters = lora == null ? null : minimind4j.lora.LoraAdapters.init(c, lora, 2, m.anyParameter().device())) {
            if (adapters != null) adapters.attach(m);
            org.bytedeco.pytorch.TensorVector params = adapters != null ? adapters.parameters() : m.parameters();
            trainable = adapters != null ? adapters.parameterCount() : m.parameterCount();
            AdamW opt = minimind4j.train.TrainStep.optimizer(params, 1e-4);
            minimind4j.train.GradScaler scaler = new minimind4j.train.GradScaler(precision.gradScaler());
            for (int s = 0; s < batches.size(); s++) {
                Batch b = batches.get(s);
                boolean timed = s > 0;
                try (PointerScope scope = Torch.scope()) {
                    long t0 = System.nanoTime();
                    Tensor ids = precision.longs(b.ids(), b.rows(), b.cols()), labels = precision.longs(b.labels(), b.rows(), b.cols());
                    long t1 = System.nanoTime();
                    // the step sft runs (TrainStep), timed in its parts
                    MiniMindLM.Loss l = minimind4j.train.TrainStep.forward(m, precision, ids, labels, !fast).loss();
                    long t2 = System.nanoTime();
                    scaler.scale(l.total()).backward();
                    sync();
                    long t3 = System.nanoTime();
                    dist.averageGradients(params);
                    sync();
                    long t3b = System.nanoTime();
                    minimind4j.train.TrainStep.update(opt, params, scaler, 1.0);
                    sync();
                    long t4 = System.nanoTime();
                    if (timed) {
                        data += (t1 - t0) / 1e9;
                        fwd += (t2 - t1) / 1e9;
                        bwd += (t3 - t2) / 1e9;
                        comm += (t3b - t3) / 1e9;
                        optim += (t4 - t3b) / 1e9;
                        tokens += b.tokens();
                        supervised += b.supervised();
                        positions += (long) b.rows() * b.cols();
                        long logitRows = fast ? b.supervised() : (long) b.rows() * (b.cols() - 1);
                        // LoRA's backward skips the frozen weights' gradients: about 2 of full training's 3 passes (adapters' own FLOPs ignored)
                        flops += matmulFlops(c, (long) b.rows() * b.cols(), logitRows, b.rows() * (double) b.cols() * (b.cols() + 1) / 2) * (lora == null ? 1 : 2.0 / 3);
                    }
                }
            }
            opt.close();
        }
        double total = fwd + bwd + optim + data + comm;
        Map<String, Object> r = new LinkedHashMap<>();
        String name = dist.worldSize() > 1 ? "rank 0 of " + dist.worldSize() : lora != null ? "LoRA" : fast ? "(b) this project's default" : "(c) MiniMind layout";
        if (!dist.isMain()) return r;
        r.put("trainable_parameters", trainable);
        r.put("steps", batches.size() - 1);
        r.put("seconds_per_step", total / (batches.size() - 1));
        r.put("flops_per_step", flops / (batches.size() - 1));
        r.put("achieved_gflops", flops / total / 1e9);
        r.put("ratio_to_gemm", flops / total / gemm);
        r.put("tokens_per_s", tokens / total);
        r.put("supervised_tokens_per_s", supervised / total);
        r.put("padding_fraction", 1 - (double) tokens / positions);
        r.put("comm_seconds_per_step", comm / (batches.size() - 1));
        r.put("time_split", Map.of("data", data / total, "forward", fwd / total, "backward", bwd / total, "optimizer", optim / total, "allreduce", comm / total));
        out.say("%s: %.2f s/step, %.1f GFLOP/s%s, %.0f tokens/s, %.0f supervised tokens/s, padding %.0f%%; time: forward %.0f%%, backward %.0f%%, optimizer %.0f%%, data %.0f%%%s",
                name, total / (batches.size() - 1), flops / total / 1e9,
                Double.isNaN(gemm) ? "" : String.format(Locale.ROOT, " = %.0f%% of (a)", 100 * flops / total / gemm), tokens / total, supervised / total,
                100 * (1 - (double) tokens / positions), 100 * fwd / total, 100 * bwd / total, 100 * optim / total, 100 * data / total,
                comm > 0 ? String.format(Locale.ROOT, ", allreduce %.0f%%", 100 * comm / total) : "");
        return r;
    }

    /** Waits for queued CUDA work, so a timer read after it measures the work and not its launch. */
    private void sync() {
        if (precision.cuda()) torch.cuda_synchronize();
    }

    /** N extra default-mode steps on a few batches, with RSS read at step 10, halfway and at the end. */
    public Map<String, Object> leakCheck(ModelConfig c, int n, int batchSize) {
        List<Sample> samples = BenchBatches.synthetic(c, batchSize * 4, maxSeqLen, 11);
        List<Batch> batches = new ArrayList<>();
        for (int i = 0; i + batchSize <= samples.size(); i += batchSize) batches.add(Batch.of(samples.subList(i, i + batchSize), 0, 0));
        double rssStart = 0, rssMid = 0, rssEnd;
        try (MiniMindLM m = MiniMindLM.init(c, 1).to(precision)) {
            org.bytedeco.pytorch.TensorVector params = m.parameters();
            AdamW opt = minimind4j.train.TrainStep.optimizer(params, 1e-4);
            minimind4j.train.GradScaler scaler = new minimind4j.train.GradScaler(precision.gradScaler());
            for (int s = 0; s < n; s++) {
                Batch b = batches.get(s % batches.size());
                try (PointerScope scope = Torch.scope()) {
                    Tensor ids = precision.longs(b.ids(), b.rows(), b.cols()), labels = precision.longs(b.labels(), b.rows(), b.cols());
                    scaler.scale(minimind4j.train.TrainStep.forward(m, precision, ids, labels, false).loss().total()).backward();
                    minimind4j.train.TrainStep.update(opt, params, scaler, 1.0);
                }
                if (s == Math.min(10, n - 1)) rssStart = Rss.currentRssMb();
                if (s == n / 2) rssMid = Rss.currentRssMb();
            }
            rssEnd = Rss.currentRssMb();
            opt.close();
        }
        out.say("leak check: RSS %.0f MB after step 10, %.0f MB after step %d, %.0f MB after step %d", rssStart, rssMid, n / 2, rssEnd, n);
        return Map.of("steps", n, "rss_mb_at_10", rssStart, "rss_mb_at_half", rssMid, "rss_mb_at_end", rssEnd);
    }

    /** FLOPs of the model's matrix products for a [rows] token block: forward = 1, training = 3. */
    public static double matmulFlops(ModelConfig c, long tokens, long logitRows, double attnPairs) {
        long h = c.hiddenSize(), kvd = (long) c.numKeyValueHeads() * c.headDim(), i = c.intermediateSize();
        long perTokenLayer = 2 * (h * h * 2 + h * kvd * 2 + 3 * h * i);
        double attn = 2.0 * 2 * attnPairs * c.headDim() * c.numAttentionHeads();
        return 3 * ((double) tokens * perTokenLayer * c.numHiddenLayers() + 2.0 * logitRows * h * c.vocabSize() + attn * c.numHiddenLayers());
    }

    /** GEMM rate over the model's main shapes, weighted by their share of a step's FLOPs. */
    public static double gemmRate(ModelConfig c, long rows, Precision precision) {
        ScalarType type = precision.autocast() != null ? precision.autocast() : ScalarType.Float;
        long h = c.hiddenSize(), kvd = (long) c.numKeyValueHeads() * c.headDim(), i = c.intermediateSize();
        long[][] shapes = {{h, h}, {h, kvd}, {h, i}, {i, h}, {h, c.vocabSize()}};
        int[] count = {2, 2, 2, 1, 0};
        double flops = 0, secs = 0;
        try (PointerScope s = Torch.scope()) {
            for (int k = 0; k < shapes.length; k++) {
                Tensor a = precision.to(torch.randn(new long[]{rows, shapes[k][0]}, new TensorOptions(ScalarType.Float))).to(type);
                Tensor b = precision.to(torch.randn(new long[]{shapes[k][0], shapes[k][1]}, new TensorOptions(ScalarType.Float))).to(type);
                double dt = Torch.bestMatmulSeconds(a, b, 3);
                double f = 2.0 * rows * shapes[k][0] * shapes[k][1];
                int weight = Math.max(1, count[k] * c.numHiddenLayers());
                flops += f * weight;
                secs += dt * weight;
            }
        }
        return flops / secs;
    }

}
