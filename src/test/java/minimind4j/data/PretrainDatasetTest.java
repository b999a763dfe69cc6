package minimind4j.data;

import minimind4j.TestPaths;
import minimind4j.UserError;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** MiniMind's pretrain samples: {@code [bos] + tokens[:max_len-2] + [eos]}, labels the ids with pads ignored. */
class PretrainDatasetTest {
    private static MiniMindTokenizer tok;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() { tok = MiniMindTokenizer.load(TestPaths.minimind3()); }

    @AfterAll
    static void close() { tok.close(); }

    private PretrainDataset dataset(int maxSeqLen, String... texts) {
        List<String> lines = Arrays.stream(texts).map(t -> Jsonl.json(Map.of("text", t))).toList();
        return new PretrainDataset(PretrainDataset.index(Jsonl.write(dir.resolve("pretrain.jsonl"), lines), true), tok, maxSeqLen);
    }

    @Test
    void bosTextEosWhenItFits() {
        // the special ids of MiniMind's tokenizer: bos <|im_start|> 1, eos <|im_end|> 2, pad <|endoftext|> 0
        assertEquals(List.of(1, 2, 0), List.of(tok.bosId(), tok.eosId(), tok.padId()));
        try (PretrainDataset ds = dataset(8, "你好，世界 hello")) {
            Sample s = ds.get(0, 0);
            // "你好，世界 hello" is 6 tokens (see TokenizerCommandsTest): 1 + 6 + 1 = max_seq_len exactly, no cut
            assertArrayEquals(new int[]{1, 1968, 294, 1950, 582, 111, 722, 2}, s.ids());
            assertArrayEquals(s.ids(), s.labels());
            assertFalse(s.truncated());
            assertEquals(7, s.supervised(), "every position after the first is a target");
        }
    }

    @Test
    void longTextKeepsMaxSeqLenMinusTwoBodyTokens() {
        String text = "从前有座山，山里有座庙，庙里有个老和尚在讲故事。";
        int[] body = tok.encode(text);
        assertTrue(body.length > 10);
        try (PretrainDataset ds = dataset(10, text)) {
            Sample s = ds.get(0, 0);
            int[] want = new int[10];
            want[0] = tok.bosId();
            System.arraycopy(body, 0, want, 1, 8);
            want[9] = tok.eosId(); // eos is kept after the cut, as MiniMind adds it after truncating
            assertArrayEquals(want, s.ids());
            assertArrayEquals(want, s.labels());
            assertEquals(body.length + 2, s.fullLength());
            assertTrue(s.truncated());
        }
    }

    @Test
    void padIdsAreIgnoredWhereverTheyAppear() {
        // a literal <|endoftext|> in the text is the pad id: MiniMind's labels[input_ids == pad] = -100 drops it too
        try (PretrainDataset ds = dataset(64, "前文<|endoftext|>后文")) {
            Sample s = ds.get(0, 0);
            int pad = Arrays.stream(s.ids()).boxed().toList().indexOf(tok.padId());
            assertTrue(pad > 1, Arrays.toString(s.ids()));
            for (int k = 0; k < s.ids().length; k++) assertEquals(k == pad ? LossMask.IGNORE : s.ids()[k], s.labels()[k]);
            // padded to max_seq_len in a batch: pad ids, ignored labels
            Batch b = Batch.of(List.of(s), ds.padId(), 64);
            for (int k = s.ids().length; k < 64; k++) {
                assertEquals(tok.padId(), b.ids()[k]);
                assertEquals(LossMask.IGNORE, b.labels()[k]);
            }
        }
    }

    @Test
    void badLinesAreNamed() {
        Path p = Jsonl.write(dir.resolve("bad.jsonl"), List.of("{\"text\": \"ok\"}", "{\"content\": \"x\"}", "{\"text\": null}",
                "{\"text\": 42}", "{\"text\": \"unterminated", "", "[\"text\"]", "{\"text\": \"ok again\"}"));
        try (JsonlIndex idx = PretrainDataset.index(p, false)) {
            assertEquals(2, idx.size());
            assertEquals(6, idx.skipped());
            assertEquals(List.of("no \"text\" field", "\"text\" is not a string", "\"text\" is not a string", "not valid JSON", "empty line"),
                    idx.firstBad().stream().map(b -> b.reason().replaceAll(" \\(.*", "")).toList());
        }
        UserError e = assertThrows(UserError.class, () -> PretrainDataset.index(p, true));
        assertTrue(e.getMessage().startsWith(p + ":2: no \"text\" field"), e.getMessage());
    }
}
