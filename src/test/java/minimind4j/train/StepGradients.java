package minimind4j.train;

import minimind4j.TestPaths;
import minimind4j.cli.ModelFlags;
import minimind4j.data.Batch;
import minimind4j.data.PretrainDataset;
import minimind4j.data.Sample;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * What the loss-averaging tests share: a pretrain set whose samples differ a lot in length (so per-batch means and
 * the token mean disagree), the flags of a tiny run on it, the gradients a run applied (written by the trainer's
 * test instrument, {@link GradientDump}), and the same gradients computed by hand from MiniMind's formulas.
 */
final class StepGradients {
    private StepGradients() {}

    static final int SAMPLES = 32, MAX_SEQ_LEN = 24, GLOBAL_BATCH = 16;
    static final String[] MODEL = {"--hidden_size", "32", "--num_hidden_layers", "2"};

    /** 32 texts of 1 to 20 words: 3 to 22 tokens with bos/eos, so supervised counts per batch differ by several x. */
    static Path unequalLengths(Path dir) throws IOException {
        Random r = new Random(3);
        String[] words = "the cat sat on a mat while dogs ran far away from big red houses near green hills".split(" ");
        int[] lengths = {1, 2, 3, 20, 18};
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < SAMPLES; i++) {
            StringBuilder t = new StringBuilder();
            int n = lengths[r.nextInt(lengths.length)];
            for (int w = 0; w < n; w++) t.append(w == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
            lines.add("{\"text\":\"" + t + "\"}");
        }
        return Files.write(dir.resolve("unequal.jsonl"), lines);
    }

    /** The flags every run shares (no length grouping: MiniMind's batch order, the same global batches for any split). */
    static List<String> args(Path data, Path save) {
        List<String> a = common(data, save);
        a.addAll(List.of("--epochs", "1", "--log_interval", "1"));
        return a;
    }

    static List<String> common(Path data, Path save) {
        List<String> a = new ArrayList<>(List.of("pretrain", "--data_path", data.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                "--save_dir", save.toString(), "--max_seq_len", String.valueOf(MAX_SEQ_LEN), "--from_weight", "none",
                "--group_by_length", "0", "--num_threads", "1", "--dtype", "float32", "--learning_rate", "1e-3"));
        a.addAll(List.of(MODEL));
        return a;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The gradient the run applied at optimizer step {@code step} (1-based), parameter by parameter. */
    static Map<String, float[]> read(Path dumpDir, int step) throws IOException {
        Map<String, float[]> g = new LinkedHashMap<>();
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(dumpDir.resolve("step-" + step + ".grad"))))) {
            while (true) {
                String name;
                try {
                    name = in.readUTF();
                } catch (EOFException end) {
                    break;
                }
                float[] v = new float[in.readInt()];
                for (int i = 0; i < v.length; i++) v[i] = in.readFloat();
                g.put(name, v);
            }
        }
        return g;
    }

    /** |a - b| / |b| over all parameters together (the update SGD would make differs by this fraction). */
    static double relative(Map<String, float[]> a, Map<String, float[]> b) {
        if (!a.keySet().equals(b.keySet())) throw new AssertionError("different parameters: " + a.keySet() + " vs " + b.keySet());
        double num = 0, den = 0;
        for (String k : b.keySet()) {
            float[] x = a.get(k), y = b.get(k);
            for (int i = 0; i < y.length; i++) {
                num += (double) (x[i] - y[i]) * (x[i] - y[i]);
                den += (double) y[i] * y[i];
            }
        }
        return Math.sqrt(num / den);
    }

    /**
     * The first optimizer step's gradient by MiniMind's formula, computed here: rank r takes the permutation's
     * elements r, r + W, r + 2W, ... (DistributedSampler over torch.randperm seeded 42); its micro-batch m of the first
     * step is the next {@code batch} of them; each micro-batch's loss is MiniMind's (full logits, mean over its
     * supervised tokens); {@code tokens} = false averages them over micro-batches and ranks (DDP), true weighs each
     * token equally (summed token losses over the global count).
     */
    static Map<String, float[]> byHand(Path data, int world, int batch, int accumulation, boolean tokens) {
        ModelFlags flags = CommandLine.populateCommand(new ModelFlags(), MODEL);
        ModelConfig config = flags.resolve();
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(TestPaths.minimind2());
             PretrainDataset ds = new PretrainDataset(PretrainDataset.index(data, false), tok, MAX_SEQ_LEN);
             MiniMindLM model = MiniMindLM.init(config, 42);
             PointerScope scope = Torch.scope()) {
            int[] perm = BatchPlan.permutation(ds.size(), 42);
            List<List<Sample>> micro = new ArrayList<>();
            long total = 0;
            for (int r = 0; r < world; r++) {
                for (int m = 0; m < accumulation; m++) {
                    List<Sample> samples = new ArrayList<>();
                    for (int j = 0; j < batch; j++) samples.add(ds.get(perm[r + world * (m * batch + j)], 0));
                    micro.add(samples);
                    total += Batch.of(samples, ds.padId(), MAX_SEQ_LEN).supervised();
                }
            }
            Tensor sum = null;
            for (List<Sample> samples : micro) {
                Batch b = Batch.of(samples, ds.padId(), MAX_SEQ_LEN);  // MiniMind's layout: padded to max_seq_len
                Tensor loss = model.lossFullLogits(Torch.longs(b.ids(), b.rows(), b.cols()), Torch.longs(b.labels(), b.rows(), b.cols())).logitsLoss();
                double weight = tokens ? (double) b.supervised() / total : 1.0 / (world * accumulation);
                Tensor term = loss.mul(Torch.scalar(weight));
                sum = sum == null ? term : sum.add(term);
            }
            sum.backward();
            Map<String, float[]> g = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : model.namedParameters().entrySet()) g.put(e.getKey(), Torch.toFloats(e.getValue().grad()));
            return g;
        }
    }
}
