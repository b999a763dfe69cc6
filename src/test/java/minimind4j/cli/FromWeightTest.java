package minimind4j.cli;

import minimind4j.UserError;

import minimind4j.checkpoint.Weights;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --from_weight: the model shape comes from the file; a flag that contradicts it is one line naming both values. */
class FromWeightTest {
    @TempDir
    Path dir;

    private Path save(String name, ModelConfig c) {
        Path p = dir.resolve(name);
        try (PointerScope s = Torch.scope(); MiniMindLM m = MiniMindLM.init(c, 3)) {
            Weights.saveHalf(p, m);
        }
        return p;
    }

    private static ModelFlags flags(Integer hidden, Integer layers) {
        ModelFlags m = new ModelFlags();
        m.hiddenSize = hidden;
        m.numHiddenLayers = layers;
        return m;
    }

    @Test
    void theShapeComesFromTheFileByPathOrByMiniMindsName() {
        ModelConfig small = ModelConfig.minimind2(64, 2, false);
        Path file = save("pretrain_64.pth", small);
        FromWeight byPath = FromWeight.resolve(file.toString(), Path.of("elsewhere"), flags(null, null));
        assertEquals(file, byPath.file());
        assertEquals(64, byPath.config().hiddenSize());
        assertEquals(2, byPath.config().numHiddenLayers());
        assertEquals(small.intermediateSize(), byPath.config().intermediateSize());
        // MiniMind's {save_dir}/{name}_{hidden}.pth, the hidden size found from the one matching file
        FromWeight byName = FromWeight.resolve("pretrain", dir, flags(null, null));
        assertEquals(file, byName.file());
        assertEquals(byPath.config(), byName.config());
        // flags that agree are fine
        assertEquals(byPath.config(), FromWeight.resolve("pretrain", dir, flags(64, 2)).config());
    }

    @Test
    void aContradictingFlagIsOneLineWithBothValues() {
        Path file = save("pretrain_64.pth", ModelConfig.minimind2(64, 2, false));
        UserError e = assertThrows(UserError.class, () -> FromWeight.resolve(file.toString(), dir, flags(null, 8)));
        assertEquals("--num_hidden_layers 8 contradicts " + file + ", which has num_hidden_layers 2 (drop the flag: the shape is taken from the file)", e.getMessage());
        ModelFlags fam = flags(null, null);
        fam.family = "minimind3";
        e = assertThrows(UserError.class, () -> FromWeight.resolve(file.toString(), dir, fam));
        assertTrue(e.getMessage().startsWith("--model_family minimind3 contradicts " + file), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void severalCandidatesNeedTheHiddenSizeAndNoneMeansAFreshModel() {
        Path a = save("pretrain_64.pth", ModelConfig.minimind2(64, 1, false));
        save("pretrain_128.pth", ModelConfig.minimind2(128, 1, false));
        UserError e = assertThrows(UserError.class, () -> FromWeight.resolve("pretrain", dir, flags(null, null)));
        assertTrue(e.getMessage().contains("2 files match in " + dir + " (pretrain_128.pth, pretrain_64.pth); pass --hidden_size"), e.getMessage());
        assertEquals(a, FromWeight.resolve("pretrain", dir, flags(64, null)).file());
        FromWeight none = FromWeight.resolve("none", dir, flags(null, null));
        assertNull(none.file());
        assertEquals(512, none.config().hiddenSize());
        // a named file that is not there: the trainer's "no such weight file" (with its hint) comes later
        assertNull(FromWeight.resolve("full_sft", dir, flags(null, null)).file());
        e = assertThrows(UserError.class, () -> FromWeight.resolve(dir.resolve("absent.pth").toString(), dir, flags(null, null)));
        assertEquals("--from_weight " + dir.resolve("absent.pth") + ": no such weight file", e.getMessage());
    }
}
