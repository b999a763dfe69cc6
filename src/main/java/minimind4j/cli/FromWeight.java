package minimind4j.cli;

import minimind4j.UserError;

import minimind4j.model.ModelConfig;
import minimind4j.train.RunFiles;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The weights a training run starts from ({@code --from_weight}) and the model shape they imply. {@code --from_weight}
 * is a file (.pth, .safetensors, a Hugging Face directory) or MiniMind's name: {@code {save_dir}/{name}_{hidden}[_moe].pth},
 * where the hidden size is --hidden_size or, when not given, that of the one such file in save_dir. The shape comes
 * from the file's tensors; a model flag given is checked against them, a contradiction being one line naming both.
 *
 * @param file   the weight file, or null for none (a fresh model) or a named file that does not exist (the trainer says so)
 * @param config the model config: the file's, or the flags' when there is no file
 * @param read   the file as read (its tensors, which the trainer loads: the file is read once), null without a file
 */
record FromWeight(Path file, ModelConfig config, RunFiles.Loaded read) {

    static FromWeight resolve(String fromWeight, Path saveDir, ModelFlags m) {
        if (fromWeight.equals("none")) return new FromWeight(null, m.resolve(), null);
        Path file;
        if (RunFiles.isPath(fromWeight)) {
            file = Path.of(fromWeight);
            if (!Files.exists(file)) throw new UserError("--from_weight " + fromWeight + ": no such weight file");
        } else {
            file = named(fromWeight, saveDir, m);
            if (file == null || !Files.isRegularFile(file)) return new FromWeight(null, m.resolve(), null);
        }
        RunFiles.Loaded read = RunFiles.readWithHeads(file, m.numAttentionHeads, 8);
        ModelConfig inferred = read.inferred();
        contradiction("--hidden_size", m.hiddenSize, inferred.hiddenSize(), "hidden_size", file);
        contradiction("--num_hidden_layers", m.numHiddenLayers, inferred.numHiddenLayers(), "num_hidden_layers", file);
        contradiction("--vocab_size", m.vocabSize, inferred.vocabSize(), "vocab_size", file);
        contradiction("--num_key_value_heads", m.numKeyValueHeads, inferred.numKeyValueHeads(), "num_key_value_heads", file);
        contradiction("--num_attention_heads", m.numAttentionHeads, inferred.numAttentionHeads(), "num_attention_heads", file);
        contradiction("--use_moe", m.useMoe, inferred.useMoe() ? 1 : 0, "use_moe", file);
        String family = inferred.family();
        if (m.family != null && !m.family.equals(family))
            throw new UserError("--model_family " + m.family + " contradicts " + file + ", whose tensors are " + family
                    + "'s (drop the flag: the shape is taken from the file)");
        return new FromWeight(file, m.anyGiven() ? m.resolve(inferred) : inferred, read);
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
        return RunFiles.find(name, saveDir, m::resolve, m.hiddenSize != null, m.useMoe, flag);
    }
}
