package minimind4j.cli;

import minimind4j.UserError;

import minimind4j.checkpoint.HostTensor;
import minimind4j.checkpoint.Weights;
import minimind4j.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The weights a training run starts from ({@code --from_weight}) and the model shape they imply. {@code --from_weight}
 * is a file (.pth, .safetensors, a Hugging Face directory) or MiniMind's name: {@code {save_dir}/{name}_{hidden}[_moe].pth},
 * where the hidden size is --hidden_size or, when not given, that of the one such file in save_dir. The shape comes
 * from the file's tensors; a model flag given is checked against them, a contradiction being one line naming both.
 *
 * @param file   the weight file, or null for none (a fresh model) or a named file that does not exist (the trainer says so)
 * @param config the model config: the file's, or the flags' when there is no file
 */
record FromWeight(Path file, ModelConfig config) {

    static boolean looksLikeFile(String fromWeight) {
        return fromWeight.endsWith(".pth") || fromWeight.endsWith(".safetensors") || fromWeight.endsWith(".bin")
                || fromWeight.endsWith(".json") || fromWeight.contains("/") || Files.exists(Path.of(fromWeight));
    }

    static FromWeight resolve(String fromWeight, Path saveDir, ModelFlags m) {
        if (fromWeight.equals("none")) return new FromWeight(null, m.resolve());
        Path file;
        if (looksLikeFile(fromWeight)) {
            file = Path.of(fromWeight);
            if (!Files.exists(file)) throw new UserError("--from_weight " + fromWeight + ": no such weight file");
        } else {
            file = named(fromWeight, saveDir, m);
            if (file == null || !Files.isRegularFile(file)) return new FromWeight(null, m.resolve());
        }
        Map<String, HostTensor> sd = Weights.read(file);
        int headsIfUnknown = m.numAttentionHeads != null ? m.numAttentionHeads : Weights.headsBeside(file, 8);
        ModelConfig inferred = Weights.inferConfig(sd, headsIfUnknown);
        contradiction("--hidden_size", m.hiddenSize, inferred.hiddenSize(), "hidden_size", file);
        contradiction("--num_hidden_layers", m.numHiddenLayers, inferred.numHiddenLayers(), "num_hidden_layers", file);
        contradiction("--vocab_size", m.vocabSize, inferred.vocabSize(), "vocab_size", file);
        contradiction("--num_key_value_heads", m.numKeyValueHeads, inferred.numKeyValueHeads(), "num_key_value_heads", file);
        contradiction("--num_attention_heads", m.numAttentionHeads, inferred.numAttentionHeads(), "num_attention_heads", file);
        contradiction("--use_moe", m.useMoe, inferred.useMoe() ? 1 : 0, "use_moe", file);
        String family = inferred.qkNorm() ? "minimind3" : "minimind2";
        if (m.family != null && !m.family.equals(family))
            throw new UserError("--model_family " + m.family + " contradicts " + file + ", whose tensors are " + family
                    + "'s (drop the flag: the shape is taken from the file)");
        return new FromWeight(file, m.anyGiven() ? m.resolve(inferred) : inferred);
    }

    private static void contradiction(String flag, Integer given, int inFile, String name, Path file) {
        if (given != null && given != inFile)
            throw new UserError(flag + " " + given + " contradicts " + file + ", which has " + name + " " + inFile
                    + " (drop the flag: the shape is taken from the file)");
    }

    /** {@code {save_dir}/{name}_{hidden}[_moe].pth}: with --hidden_size as given, else the one such file there. */
    static Path named(String name, Path saveDir, ModelFlags m) {
        return named(name, saveDir, m, "--from_weight");
    }

    /** {@link #named(String, Path, ModelFlags)}, naming the command's own flag ({@code --weight}) in its message. */
    static Path named(String name, Path saveDir, ModelFlags m, String flag) {
        if (m.hiddenSize != null) {
            ModelConfig c = m.resolve();
            return saveDir.resolve(name + "_" + c.hiddenSize() + c.weightSuffix() + ".pth");
        }
        Pattern p = Pattern.compile(Pattern.quote(name) + "_(\\d+)(_moe)?\\.pth");
        List<Path> found = new ArrayList<>();
        if (Files.isDirectory(saveDir)) {
            try (Stream<Path> s = Files.list(saveDir)) {
                s.filter(f -> p.matcher(f.getFileName().toString()).matches()).sorted().forEach(found::add);
            } catch (IOException e) {
                throw new UserError(saveDir + ": cannot list (" + e.getMessage() + ")");
            }
        }
        if (m.useMoe != null) found.removeIf(f -> f.getFileName().toString().endsWith("_moe.pth") != (m.useMoe == 1));
        if (found.size() == 1) return found.get(0);
        ModelConfig c = m.resolve();
        Path byDefault = saveDir.resolve(name + "_" + c.hiddenSize() + c.weightSuffix() + ".pth");
        if (found.isEmpty() || found.contains(byDefault)) return byDefault;
        throw new UserError(flag + " " + name + ": " + found.size() + " files match in " + saveDir + " ("
                + String.join(", ", found.stream().map(f -> f.getFileName().toString()).toList()) + "); pass --hidden_size or the file's path");
    }
}
