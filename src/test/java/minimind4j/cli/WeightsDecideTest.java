package minimind4j.cli;

import minimind4j.TestPaths;
import minimind4j.model.ModelConfig;
import minimind4j.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The weights decide: a starting file with q/k norms is minimind-3 and trains with minimind-3's stage defaults
 * unless --model_family says otherwise (the start line says which and why); chat/serve/eval --weight NAME find the
 * one {NAME}_{hidden}.pth in --save_dir, as sft's --from_weight does.
 */
class WeightsDecideTest {
    @TempDir
    Path dir;

    private Path save(ModelConfig c, String name) {
        return SavedModels.saveHalf(dir, c, name);
    }

    private record Decided(TrainConfig defaults, TrainConfig options, String line) {}

    private static Decided sft(String... args) {
        SftCommand cmd = new SftCommand();
        new CommandLine(cmd).parseArgs(args);
        TrainConfig s = cmd.defaults();
        ModelConfig c = cmd.modelConfig(s, null);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        s = cmd.followWeights(s, c, null, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return new Decided(s, cmd.options(s, null), bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aMinimind3FileTrainsWithMinimind3sDefaults() {
        Path m3 = save(ModelConfig.minimind3(64, 1), "pretrain_64.pth");
        Decided d = sft("--from_weight", m3.toString(), "--data_path", "x.jsonl");
        assertEquals(1e-5, d.options().learningRate());
        assertEquals(768, d.options().maxSeqLen());
        assertEquals(0.2, d.options().emptyThinkRatio());
        assertTrue(d.line().startsWith("defaults: minimind-3's sft stage (lr 1.0E-5, max_seq_len 768") && d.line().contains("has q/k norms"), d.line());

        // by name in --save_dir, the same
        Decided named = sft("--from_weight", "pretrain", "--save_dir", dir.toString(), "--data_path", "x.jsonl");
        assertEquals(1e-5, named.options().learningRate());

        // a flag still wins, and a MiniMind2 file keeps MiniMind2's
        assertEquals(3e-4, sft("--from_weight", m3.toString(), "--learning_rate", "3e-4").options().learningRate());
        Path m2 = save(ModelConfig.minimind2(64, 1, false), "m2_64.pth");
        Decided d2 = sft("--from_weight", m2.toString());
        assertEquals(1e-6, d2.options().learningRate());
        assertEquals(340, d2.options().maxSeqLen());
        assertTrue(d2.line().startsWith("defaults: MiniMind2's sft stage (lr 1.0E-6, max_seq_len 340") && d2.line().contains("has no q/k norms"), d2.line());
        // a fresh model: no file, no line, the flag's (or MiniMind2's) defaults
        assertEquals("", sft("--from_weight", "none").line());
    }

    @Test
    void chatFindsTheOneNamedFileWhateverItsHiddenSize() throws Exception {
        save(ModelConfig.minimind2(64, 1, false), "full_sft_64.pth");
        String out = ChatOutput.of("--weight", "full_sft", "--save_dir", dir.toString(), "--tokenizer_path",
                TestPaths.minimind2().toString(), "--prompt", "你好", "--temperature", "0", "--max_new_tokens", "3", "--show_speed", "0");
        assertTrue(out.startsWith("💬: 你好\n🧠: "), out);
        // two candidates: one line naming both, exit 2
        save(ModelConfig.minimind2(128, 1, false), "full_sft_128.pth");
        CliRun r = CliRun.of("eval", "--weight", "full_sft", "--save_dir", dir.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                "--data", Files.writeString(dir.resolve("d.jsonl"), "{\"conversations\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"ok\"}]}\n").toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--weight full_sft: 2 files match") && r.err().contains("full_sft_128.pth, full_sft_64.pth") && r.err().contains("--hidden_size"), r.err());
    }
}
