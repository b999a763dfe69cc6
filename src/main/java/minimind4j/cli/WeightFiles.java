package minimind4j.cli;

import minimind4j.checkpoint.Weights;
import minimind4j.engine.Precision;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.train.RunFiles;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How chat and serve find a weight file, its tokenizer and the model that fits it, with eval_llm.py's flag names:
 * {@code --weight} is a name ({@code {save_dir}/{weight}_{hidden}[_moe].pth}) or a file path.
 */
final class WeightFiles {
    @Option(names = "--weight", defaultValue = "full_sft", description = "Weight name ({save_dir}/{weight}_{hidden}[_moe].pth) or a file path (default: full_sft)")
    String weight;
    @Option(names = {"--save_dir", "--save-dir"}, defaultValue = "out", description = "Directory of the weights (default: out)")
    Path saveDir;
    @Option(names = {"--tokenizer_path", "--tokenizer-path", "--load_from"}, defaultValue = "model",
            description = "Tokenizer directory (default: model). --load_from is accepted for MiniMind's eval_llm.py command lines,"
                    + " where it names the model source; here it sets only the tokenizer: pass an exported directory as --weight")
    Path tokenizerPath;
    @Mixin
    ModelFlags model = new ModelFlags();
    @Mixin
    StrictFlag strict = new StrictFlag();
    @Option(names = {"--num_threads", "--num-threads"}, defaultValue = "1",
            description = "Intra-op threads (default: 1; token-by-token decoding is ~3x slower with 2 on a 2-core machine)")
    int numThreads;

    @Option(names = "--lora", description = "Apply a LoRA adapter at load time: MiniMind's {lora_name}_{hidden}.pth (minimind lora) or a PEFT directory")
    Path lora;

    @Option(names = "--device", description = "cpu, cuda or cuda:N (default: cuda:0 when libtorch sees a GPU, else cpu; CUDA needs a build with -Pgpu)")
    String device;

    /** The model moved to --device, computing in {@code dtype} (chat's and serve's --dtype), with the --lora adapter attached. */
    MiniMindLM onDevice(MiniMindLM m, String dtype) {
        // auto is a training choice (timed per machine); generation takes the precision it is given
        minimind4j.UserError usage = new minimind4j.UserError("--dtype " + dtype + ": chat and serve take float32, bfloat16 or float16");
        if (Precision.isAuto(dtype)) throw usage;
        try {
            Precision.parseDtype(dtype);
        } catch (minimind4j.UserError unknown) {
            throw usage;
        }
        m.to(Precision.resolve(device, dtype, -1));
        return withLora(m, lora);
    }

    /** {@code m} with the adapter at {@code lora} attached (null: as it is). The adapter lives as long as the process. */
    static MiniMindLM withLora(MiniMindLM m, Path lora) {
        if (lora == null) return m;
        minimind4j.lora.LoraFiles.read(lora, m.config(), m.anyParameter().device()).attach(m);
        return m;
    }

    /** Applies the thread setting; decoding runs many tiny ops, where thread hand-offs cost more than they give. */
    void applyThreads() {
        minimind4j.engine.Torch.setThreads(Math.max(1, numThreads));
    }

    /**
     * A file path as given, a Hugging Face directory's weights (model.safetensors, its sharded index,
     * pytorch_model.bin; see {@code minimind export}), or MiniMind's {@code {save_dir}/{weight}_{hidden}[_moe].pth} for
     * a weight name: with --hidden_size as given, else the one such file in --save_dir (as sft's --from_weight).
     */
    Path file() {
        if (RunFiles.isPath(weight)) return Files.isDirectory(Path.of(weight)) ? Weights.file(Path.of(weight)) : Path.of(weight);
        return FromWeight.named(weight, saveDir, model, "--weight");
    }

    /**
     * The weight file, read once: its tensors and the config their shapes imply. MiniMind2 files do not record the
     * head count: config.json's beside the file, else 8 (MiniMind's); see {@link #config}.
     */
    RunFiles.Loaded read() {
        Path file = file();
        return RunFiles.read(file, Weights.headsBeside(file, 8));
    }

    /** The config inferred from the file's shapes, overridden by any model flag given (--num_attention_heads, say). */
    ModelConfig config(RunFiles.Loaded weights) {
        return model.anyGiven() ? model.resolve(weights.inferred()) : weights.inferred();
    }

    /** The name a weight file goes by: its file name without the extension ({@code full_sft_512}). */
    static String modelId(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
