package minimind4j.cli;

import minimind4j.TestPaths;
import minimind4j.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a user can get wrong with {@code export --format gguf}: one line, exit 2, nothing written; and {@code --out x.gguf},
 * which writes that one file (the same bytes as the directory form) with x.Modelfile beside it.
 */
class GgufExportErrorsTest {
    @TempDir
    Path dir;

    private Path save(ModelConfig c, String name) {
        return SavedModels.saveHalf(dir, c, name);
    }

    private void refused(String expected, String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(expected) && !r.err().contains("\tat ") && r.err().strip().lines().count() == 1, r.err());
        assertFalse(Files.exists(dir.resolve("out")), "nothing written");
    }

    @Test
    void mistakesAreOneLine() {
        String dense = save(ModelConfig.minimind2(64, 1, false), "d_64.pth").toString();
        String moe2 = save(ModelConfig.minimind2(64, 1, true), "m_64_moe.pth").toString();
        String tok = TestPaths.minimind2().toString(), out = dir.resolve("out").toString();
        refused("--dtype q4_0: GGUF export takes float32, float16, bfloat16 or q8_0",
                "export", "--format", "gguf", "--dtype", "q4_0", "--weight", dense, "--tokenizer_path", tok, "--out_dir", out);
        refused("--format onnx: expected hf or gguf", "export", "--format", "onnx", "--weight", dense, "--tokenizer_path", tok, "--out_dir", out);
        refused("MiniMind2 MoE weights have no llama.cpp architecture",
                "export", "--format", "gguf", "--weight", moe2, "--tokenizer_path", tok, "--out_dir", out);
        refused("--dtype q8_0 is for --format gguf", "export", "--dtype", "q8_0", "--weight", dense, "--tokenizer_path", tok, "--out_dir", out);
    }

    @Test
    void aFileNameEndingInGgufIsThatFile() throws Exception {
        String dense = save(ModelConfig.minimind2(64, 1, false), "d_64.pth").toString(), tok = TestPaths.minimind2().toString();
        Path file = dir.resolve("models/mini.gguf"), asDir = dir.resolve("asdir");
        CliRun r = CliRun.of("export", "--format", "gguf", "--dtype", "q8_0", "--weight", dense, "--tokenizer_path", tok, "--out", file.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(0, CliRun.of("export", "--format", "gguf", "--dtype", "q8_0", "--weight", dense, "--tokenizer_path", tok, "--out_dir", asDir.toString()).code());
        assertArrayEquals(Files.readAllBytes(asDir.resolve("d_64-q8_0.gguf")), Files.readAllBytes(file));
        assertTrue(Files.readString(dir.resolve("models/mini.Modelfile")).contains("FROM ./mini.gguf\n"));
        try (var s = Files.list(dir.resolve("models"))) {
            assertEquals(2, s.count(), "the file and its Modelfile, no temp file left");
        }
        CliRun again = CliRun.of("export", "--format", "gguf", "--weight", dense, "--tokenizer_path", tok, "--out", file.toString());
        assertEquals(2, again.code());
        assertTrue(again.err().contains("exists; pass a new file name"), again.err());
    }
}
