package minimind4j.cli;

import minimind4j.checkpoint.format.DType;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.Weights;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;

import java.nio.file.Path;
import java.util.LinkedHashMap;

/** Small freshly initialised models on disk, for the command tests. */
final class SavedModels {
    private SavedModels() {}

    /** MiniMind's save (fp16, both tied keys) of a fresh model of {@code c}, seed 3, as {@code dir/name}. */
    static Path saveHalf(Path dir, ModelConfig c, String name) {
        Path p = dir.resolve(name);
        try (MiniMindLM m = MiniMindLM.init(c, 3)) {
            Weights.saveHalf(p, m);
        }
        return p;
    }

    /** A fresh model's tensors as {@code dtype}, lm_head left to the tie (as transformers saves it), written to {@code file}. */
    static LinkedHashMap<String, HostTensor> written(Path file, ModelConfig c, long seed, DType dtype) {
        LinkedHashMap<String, HostTensor> sd;
        try (MiniMindLM m = MiniMindLM.init(c, seed)) {
            sd = Weights.hostStateDict(m, dtype);
        }
        sd.remove(MiniMindLM.LM_HEAD);
        Weights.write(file, sd);
        return sd;
    }
}
