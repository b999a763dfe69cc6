package minimind4j.train;

import minimind4j.UserError;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.Weights;
import minimind4j.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The files of a run, named as MiniMind names them: {@code {save_dir}/{save_weight}_{hidden}[_moe]} followed by
 * {@code .pth} (the weights), {@code _resume.pth}, {@code _metrics.csv} and {@code _loss.png}; how a weight is
 * found from "a name or a path" ({@code --from_weight}, {@code --weight}), one rule for every command; and reading a
 * weight file once, for its tensors and the model shape they imply.
 */
public final class RunFiles {
    private final Path saveDir;
    private final String saveWeight;
    private final ModelConfig config;

    public RunFiles(Path saveDir, String saveWeight, ModelConfig config) {
        this.saveDir = saveDir;
        this.saveWeight = saveWeight;
        this.config = config;
    }

    /** {@code {name}_{hidden}[_moe]}: the stem every file of a run named {@code name} shares. */
    public static String stem(String name, ModelConfig config) {
        return name + "_" + config.hiddenSize() + config.weightSuffix();
    }

    /** {@code {save_dir}/{name}_{hidden}[_moe].pth}: MiniMind's weight file of the run named {@code name}. */
    public static Path weights(Path saveDir, String name, ModelConfig config) {
        return saveDir.resolve(stem(name, config) + ".pth");
    }

    /** {@code {save_dir}/{name}_{hidden}[_moe]_resume.pth}: MiniMind's resume checkpoint name. */
    public static Path resume(Path saveDir, String name, ModelConfig config) {
        return saveDir.resolve(stem(name, config) + "_resume.pth");
    }

    public Path saveDir() { return saveDir; }

    public Path weights() { return weights(saveDir, saveWeight, config); }

    public Path resume() { return resume(saveDir, saveWeight, config); }

    public Path metrics() { return saveDir.resolve(stem(saveWeight, config) + "_metrics.csv"); }

    public Path lossPlot() { return saveDir.resolve(stem(saveWeight, config) + "_loss.png"); }

    /** The file names of this run's outputs (whose temp-file leftovers a new run removes). */
    public List<String> outputNames() {
        return List.of(weights().getFileName().toString(), resume().getFileName().toString(),
                metrics().getFileName().toString(), lossPlot().getFileName().toString());
    }

    /**
     * The one rule: a value names a file (rather than a run in --save_dir) when it ends in .pth, .safetensors, .bin or
     * .json, has a '/', or exists as given (a Hugging Face directory, say).
     */
    public static boolean isPath(String nameOrPath) {
        return nameOrPath.endsWith(".pth") || nameOrPath.endsWith(".safetensors") || nameOrPath.endsWith(".bin")
                || nameOrPath.endsWith(".json") || nameOrPath.contains("/") || Files.exists(Path.of(nameOrPath));
    }

    /**
     * The weight file of the run {@code name} in {@code saveDir}: {@code {name}_{hidden}[_moe].pth} with the hidden size
     * given ({@code hiddenGiven}: from {@code flags}), else the one such file there (only _moe ones when
     * {@code useMoe} is 1, none when 0), else the flags' default name. Several candidates: one line naming them.
     *
     * @param flags the model the command's flags describe (asked only when needed)
     * @param flag  the command's flag ({@code --from_weight}, {@code --weight}), named in the message
     */
    public static Path find(String name, Path saveDir, Supplier<ModelConfig> flags, boolean hiddenGiven, Integer useMoe, String flag) {
        if (hiddenGiven) return weights(saveDir, name, flags.get());
        Pattern p = Pattern.compile(Pattern.quote(name) + "_(\\d+)(_moe)?\\.pth");
        List<Path> found = new ArrayList<>();
        if (Files.isDirectory(saveDir)) {
            try (Stream<Path> s = Files.list(saveDir)) {
                s.filter(f -> p.matcher(f.getFileName().toString()).matches()).sorted().forEach(found::add);
            } catch (IOException e) {
                throw new UserError(saveDir + ": cannot list (" + e.getMessage() + ")");
            }
        }
        if (useMoe != null) found.removeIf(f -> f.getFileName().toString().endsWith("_moe.pth") != (useMoe == 1));
        if (found.size() == 1) return found.get(0);
        Path byDefault = weights(saveDir, name, flags.get());
        if (found.isEmpty() || found.contains(byDefault)) return byDefault;
        throw new UserError(flag + " " + name + ": " + found.size() + " files match in " + saveDir + " ("
                + String.join(", ", found.stream().map(f -> f.getFileName().toString()).toList()) + "); pass --hidden_size or the file's path");
    }

    /** A weight file read once: its tensors, and the model config their shapes imply. */
    public record Loaded(Path file, LinkedHashMap<String, HostTensor> tensors, ModelConfig inferred) {}

    /**
     * Reads the weight file at {@code file} (a Hugging Face directory: its weights) and infers its model config;
     * MiniMind2 files do not record the head count, {@code headsIfUnknown} is taken then.
     */
    public static Loaded read(Path file, int headsIfUnknown) {
        LinkedHashMap<String, HostTensor> tensors = Weights.read(file);
        return new Loaded(file, tensors, Weights.inferConfig(tensors, headsIfUnknown));
    }

    /** {@link #read(Path, int)} with the head count of a config.json beside the file, else {@code fallback}. */
    public static Loaded readWithHeads(Path file, Integer heads, int fallback) {
        return read(file, heads != null ? heads : Weights.headsBeside(file, fallback));
    }
}
