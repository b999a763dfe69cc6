package minimind4j.cli;

import minimind4j.checkpoint.HostTensor;
import minimind4j.checkpoint.Weights;
import minimind4j.model.ModelConfig;

import java.nio.file.Path;
import java.util.Map;

/** How chat and serve find a weight file and the model that fits it, as MiniMind's eval_llm.py names them. */
final class WeightFiles {
    private WeightFiles() {}

    /** A file path as given, or MiniMind's {@code {save_dir}/{weight}_{hidden}[_moe].pth} for a weight name. */
    static Path resolve(String weight, Path saveDir, ModelFlags flags) {
        if (weight.endsWith(".pth") || weight.endsWith(".safetensors")) return Path.of(weight);
        ModelConfig c = flags.resolve();
        return saveDir.resolve(weight + "_" + c.hiddenSize() + c.weightSuffix() + ".pth");
    }

    /**
     * The config inferred from the file's shapes, overridden by any model flag given. MiniMind2 files do not record
     * the head count, so it is taken as 8 (MiniMind's) unless --num_attention_heads says otherwise.
     */
    static ModelConfig config(Map<String, HostTensor> stateDict, ModelFlags flags) {
        ModelConfig inferred = Weights.inferConfig(stateDict, 8);
        return flags.anyGiven() ? flags.resolve(inferred) : inferred;
    }

    /** The name a weight file goes by: its file name without the extension ({@code full_sft_512}). */
    static String modelId(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
