package minimind4j.data;

import minimind4j.TestPaths;
import minimind4j.UserError;
import minimind4j.data.formats.DataFormat;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static minimind4j.data.Jsonl.conversations;
import static minimind4j.data.Jsonl.msg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --truncation: what SFT keeps of over-length samples, and the line it prints about them before training. */
class TruncationTest {
    private static MiniMindTokenizer tok;
    private static final String STORY = "从前有座山，山里有座庙。".repeat(12);
    private static final List<String> LINES = List.of(
            conversations(msg("user", "你好"), msg("assistant", "你好！")),
            conversations(msg("user", "讲故事"), msg("assistant", STORY)),                 // cut inside the reply
            conversations(msg("user", "请总结：" + STORY), msg("assistant", "山和庙。")));  // reply wholly past the cut

    @TempDir
    Path dir;

    @BeforeAll
    static void load() { tok = MiniMindTokenizer.load(TestPaths.minimind3()); }

    @AfterAll
    static void close() { tok.close(); }

    private SftDataset open(Truncation t, int maxSeqLen, List<String> log) {
        Path p = Jsonl.write(dir.resolve("t.jsonl"), LINES);
        SftDataset.Options o = new SftDataset.Options(maxSeqLen, 0, 0, 1, DataFormat.AUTO, t);
        return SftDataset.open(List.of(p), false, tok, o, log::add);
    }

    @Test
    void truncateKeepsCutRepliesAndDropsSamplesWithNothingLeftToLearn() {
        List<String> log = new ArrayList<>();
        try (SftDataset ds = open(Truncation.TRUNCATE, 64, log)) {
            assertEquals(2, ds.size());
            assertEquals(List.of(0, 1), List.of(ds.record(0), ds.record(1)));
            assertTrue(ds.get(1, 0).text().contains(STORY) && ds.get(1, 0).truncated() && ds.get(1, 0).supervised() > 0);
            Path p = dir.resolve("t.jsonl");
            assertEquals(List.of(p + ": 2 of 3 samples longer than --max_seq_len 64 (truncated); 1 dropped because no supervised"
                    + " token is left (first: " + p + ":3); training on 2 samples"), log);
        }
    }

    @Test
    void dropLeavesOutEverySampleThatDoesNotFit() {
        List<String> log = new ArrayList<>();
        try (SftDataset ds = open(Truncation.DROP, 64, log)) {
            assertEquals(1, ds.size());
            assertEquals(0, ds.record(0));
            assertTrue(log.get(0).contains("2 of 3 samples longer than --max_seq_len 64 (dropped: 1); 1 dropped because no supervised token is left"), log.get(0));
            assertTrue(log.get(0).endsWith("training on 1 samples"), log.get(0));
        }
    }

    @Test
    void errorNamesTheFirstSampleThatDoesNotFit() {
        UserError e = assertThrows(UserError.class, () -> open(Truncation.ERROR, 64, new ArrayList<>()));
        int tokens = tok.encode(tok.applyChatTemplate(List.of(msg("user", "讲故事"), msg("assistant", STORY)), null, false, java.util.Map.of())
                .replace("<think>\n\n</think>\n\n", "")).length;
        assertEquals(dir.resolve("t.jsonl") + ":2: " + tokens + " tokens, longer than --max_seq_len 64 (raise --max_seq_len,"
                + " or pass --truncation truncate or drop)", e.getMessage());
    }

    @Test
    void nothingToSayWhenEverythingFits() {
        List<String> log = new ArrayList<>();
        try (SftDataset ds = open(Truncation.ERROR, 4096, log)) {
            assertEquals(3, ds.size());
            assertEquals(List.of(), log);
        }
    }
}
