package minimind4j.cli;

import minimind4j.UserError;

import minimind4j.checkpoint.format.DType;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.Weights;
import minimind4j.lora.LoraAdapters;
import minimind4j.lora.LoraFiles;
import minimind4j.model.ModelConfig;
import minimind4j.train.RunFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "merge", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Folds a LoRA adapter into its base weights, as MiniMind's model_lora.py merge_lora: every adapted W becomes",
                "W + scale * B @ A (in fp32, then stored as --dtype). The result is a plain weight file, usable everywhere a .pth is."})
public final class LoraMergeCommand implements Callable<Integer> {
    @Option(names = "--weight", required = true, description = "Base weights: a .pth / .safetensors file or a `minimind export` directory")
    Path weight;
    @Option(names = "--lora", required = true, description = "The adapter: MiniMind's {lora_name}_{hidden}.pth or a PEFT directory")
    Path lora;
    @Option(names = "--out", required = true, description = "Merged weight file to write (.pth, or .safetensors by extension); written atomically")
    Path out;
    @Option(names = "--dtype", defaultValue = "float16", description = "float16 (MiniMind's saved weights), bfloat16 or float32 (default: float16)")
    String dtype;
    @Option(names = {"--num_attention_heads", "--num-attention-heads"}, description = "Heads, when the file cannot tell (default: 8, or config.json's beside it)")
    Integer heads;

    @Override
    public Integer call() {
        DType dt = switch (dtype) {
            case "float16", "fp16", "half" -> DType.F16;
            case "bfloat16", "bf16" -> DType.BF16;
            case "float32", "fp32", "float" -> DType.F32;
            default -> throw new UserError("--dtype " + dtype + ": expected float16, bfloat16 or float32");
        };
        if (Files.isDirectory(out)) throw new UserError("--out " + out + ": is a directory; pass a file name such as merged_512.pth");
        RunFiles.Loaded read = RunFiles.readWithHeads(weight, heads, 8);
        Map<String, HostTensor> base = read.tensors();
        ModelConfig c = read.inferred();
        LinkedHashMap<String, HostTensor> merged;
        int layers;
        try (LoraAdapters a = LoraFiles.read(lora, c, null)) {
            merged = a.merge(base, dt);
            layers = a.moduleNames().size();
            System.out.printf(Locale.ROOT, "merging %s (rank %d, scale %.4g, %d layers) into %s%n", lora, a.config().rank(), a.config().scale(), layers, weight);
        }
        Path parent = out.toAbsolutePath().getParent();
        try {
            if (parent != null) Files.createDirectories(parent);
        } catch (java.io.IOException e) {
            throw new UserError(parent + ": cannot create the output directory (" + e.getMessage() + ")");
        }
        Weights.write(out, merged);
        System.out.printf(Locale.ROOT, "wrote %s: %d tensors, %s%n", out, merged.size(), dtype);
        return 0;
    }
}
