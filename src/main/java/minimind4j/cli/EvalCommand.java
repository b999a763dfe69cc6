package minimind4j.cli;

import minimind4j.checkpoint.Weights;
import minimind4j.data.JsonlIndex;
import minimind4j.data.PretrainDataset;
import minimind4j.data.SftDataset;
import minimind4j.data.TokenDataset;
import minimind4j.engine.Precision;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.train.RunFiles;
import minimind4j.tokenizer.MiniMindTokenizer;
import minimind4j.train.Evaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Mean loss of a weight file over a data file: cross-entropy of every supervised token (SFT: assistant replies;",
                "pretrain: all text), averaged over tokens, as MiniMind's training loss defines it."})
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--weight", required = true, description = "A weight file (.pth, .safetensors, .bin), a Hugging Face directory (minimind export),"
            + " or a name: {save_dir}/{weight}_{hidden}[_moe].pth, the one such file")
    String weightName;
    @Option(names = {"--save_dir", "--save-dir"}, defaultValue = "out", description = "Directory of named weights (default: out)")
    Path saveDir;
    @Option(names = "--lora", description = "Apply a LoRA adapter: MiniMind's {lora_name}_{hidden}.pth (minimind lora) or a PEFT directory")
    Path lora;
    @Option(names = "--data", required = true, description = "JSONL: conversations (SFT) or {\"text\": ...} lines (pretrain)")
    Path data;
    @Option(names = {"--tokenizer_path", "--tokenizer-path"}, defaultValue = "model", description = "Tokenizer directory (default: model)")
    Path tokenizerPath;
    @Option(names = {"--max_seq_len", "--max-seq-len"}, defaultValue = "340", description = "Truncation length (default: 340)")
    int maxSeqLen;
    @Option(names = {"--batch_size", "--batch-size"}, defaultValue = "16", description = "Batch size (default: 16)")
    int batchSize;
    @Option(names = "--stage", description = "sft or pretrain (default: from the first line)")
    String stage;
    @Option(names = {"--num_attention_heads", "--num-attention-heads"}, description = "Heads, when the file cannot tell (default: 8, or config.json's beside it)")
    Integer heads;
    @Option(names = "--device", description = "cpu, cuda or cuda:N (default: cuda:0 when libtorch sees a GPU, else cpu; CUDA needs a build with -Pgpu)")
    String device;
    @Option(names = "--dtype", defaultValue = "float32", description = "float32, bfloat16 or float16 (autocast, on a CPU as on CUDA) (default: float32)")
    String dtype;
    @Option(names = "--json", description = "Print one JSON object")
    boolean json;
    @Option(names = {"--strict_data", "--strict-data"}, description = "Stop at the first bad line")
    boolean strictData;
    @picocli.CommandLine.Mixin
    StrictFlag strict = new StrictFlag();

    @Override
    public Integer call() throws Exception {
        Precision precision = Precision.resolve(device, dtype, -1);
        Path weight = RunFiles.isPath(weightName) ? Path.of(weightName) : FromWeight.named(weightName, saveDir, new ModelFlags(), "--weight");
        RunFiles.Loaded read = RunFiles.readWithHeads(weight, heads, 8);
        ModelConfig c = read.inferred();
        String st = stage != null ? stage : detectStage(data);
        long start = System.nanoTime();
        double sum = 0;
        long tokens = 0;
        int samples;
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(tokenizerPath);
             MiniMindLM model = WeightFiles.withLora(Weights.load(weight, read.tensors(), c, strict.strict(), System.err).to(precision), lora);
             TokenDataset ds = open(st, tok)) {
            samples = ds.size();
            Evaluation.Total t = Evaluation.run(model, ds, batchSize, 0, precision);
            sum = t.lossSum();
            tokens = t.tokens();
        }
        double loss = tokens == 0 ? Double.NaN : sum / tokens;
        double secs = (System.nanoTime() - start) / 1e9;
        String shown = lora != null ? weight + " + " + lora : weight.toString();
        if (json) System.out.printf(Locale.ROOT, "{\"weight\": \"%s\", \"data\": \"%s\", \"stage\": \"%s\", \"loss\": %.6f, \"perplexity\": %.4f, \"samples\": %d, \"supervised_tokens\": %d, \"seconds\": %.2f}%n",
                shown, data, st, loss, Math.exp(loss), samples, tokens, secs);
        else System.out.printf(Locale.ROOT, "%s on %s (%s): loss %.4f, perplexity %.2f over %d supervised tokens in %d samples (%.1fs)%n",
                shown, data, st, loss, Math.exp(loss), tokens, samples, secs);
        return 0;
    }

    private TokenDataset open(String st, MiniMindTokenizer tok) {
        if (st.equals("pretrain")) {
            JsonlIndex idx = PretrainDataset.index(data, strictData);
            if (idx.skipSummary() != null) System.err.println(idx.skipSummary());
            return new PretrainDataset(idx, tok, maxSeqLen);
        }
        JsonlIndex idx = SftDataset.index(data, strictData);
        if (idx.skipSummary() != null) System.err.println(idx.skipSummary());
        return new SftDataset(idx, tok, maxSeqLen, 0.0, 1.0, 42);
    }

    static String detectStage(Path data) {
        return minimind4j.data.DataFiles.detectStage(java.util.List.of(data));
    }
}
