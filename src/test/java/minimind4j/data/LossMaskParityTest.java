package minimind4j.data;

import minimind4j.TestPaths;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static minimind4j.data.Jsonl.conversations;
import static minimind4j.data.Jsonl.msg;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SftDataset's labels on MiniMind's real tokenizers (minimind-3 and MiniMind2) against labels worked out on the
 * rendered text ({@link ReplySpans}): every assistant reply, and nothing else, is supervised.
 */
class LossMaskParityTest {
    private record Tok(String name, MiniMindTokenizer tokenizer, TokenBytes bytes) {}

    private static Tok minimind3, minimind2;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        minimind3 = new Tok("minimind-3", MiniMindTokenizer.load(TestPaths.minimind3()), TokenBytes.load(TestPaths.minimind3()));
        minimind2 = new Tok("MiniMind2", MiniMindTokenizer.load(TestPaths.minimind2()), TokenBytes.load(TestPaths.minimind2()));
    }

    @AfterAll
    static void close() {
        minimind3.tokenizer().close();
        minimind2.tokenizer().close();
    }

    private static List<Tok> both() { return List.of(minimind3, minimind2); }

    /** Sample 0 of a one-line dataset, its labels checked against the text; returns it for further checks. */
    private Sample checked(Tok tok, String line, int maxSeqLen, double addSystemRatio, double emptyThinkRatio) {
        try (SftDataset ds = Jsonl.sft(dir.resolve(tok.name() + ".jsonl"), tok.tokenizer(), maxSeqLen, addSystemRatio,
                emptyThinkRatio, 7, List.of(line))) {
            Sample s = ds.get(0, 0);
            assertArrayEquals(ReplySpans.expectedLabels(s.text(), s.ids(), tok.bytes()), s.labels(), tok.name() + ": " + s.text());
            return s;
        }
    }

    /** The text of each run of supervised tokens. */
    private static List<String> supervisedRuns(Tok tok, Sample s) {
        List<String> runs = new ArrayList<>();
        for (int k = 0; k < s.ids().length; ) {
            if (s.labels()[k] == LossMask.IGNORE) { k++; continue; }
            int end = k;
            while (end < s.ids().length && s.labels()[end] != LossMask.IGNORE) end++;
            runs.add(tok.tokenizer().decode(Arrays.copyOfRange(s.ids(), k, end), false));
            k = end;
        }
        return runs;
    }

    private static final String MULTI_TURN = conversations(
            msg("user", "第一个问题：天空为什么是蓝色的？"),
            msg("assistant", "因为瑞利散射。"),
            msg("user", "And in English?"),
            msg("assistant", "Because of Rayleigh scattering."),
            msg("user", "谢谢"),
            msg("assistant", "不客气！\n1. 散射\n2. 波长"));

    @Test
    void everyReplyOfAThreeTurnConversation() {
        for (Tok tok : both()) {
            // emptyThinkRatio 0 drops minimind-3's empty think blocks (MiniMind keeps 20% of them; the next test keeps all)
            Sample s = checked(tok, MULTI_TURN, 512, 0, 0);
            assertEquals(List.of("因为瑞利散射。<|im_end|>\n", "Because of Rayleigh scattering.<|im_end|>\n", "不客气！\n1. 散射\n2. 波长<|im_end|>\n"),
                    supervisedRuns(tok, s), tok.name());
            // these replies start with no whitespace: the ids are MiniMind's, the tokenizer's ids of the whole text
            assertArrayEquals(tok.tokenizer().encode(s.text()), s.ids(), tok.name());
        }
    }

    @Test
    void emptyThinkBlocksKeptAreSupervisedWithTheirReply() {
        Sample s = checked(minimind3, MULTI_TURN, 512, 0, 1);
        assertEquals("<think>\n\n</think>\n\n因为瑞利散射。<|im_end|>\n", supervisedRuns(minimind3, s).get(0));
    }

    @Test
    void aReplyStartingWithIndentationIsSupervised() {
        // byte-level BPE makes "\n  " one token, so on the whole text the header's "\n" token is missing and
        // MiniMind's rule finds no reply at all: SftDataset cuts the tokenization after the header
        String line = conversations(msg("user", "Write f"), msg("assistant", "    def f():\n        return 1"),
                msg("user", "A list?"), msg("assistant", "  - a\n  - b"));
        for (Tok tok : both()) {
            Sample s = checked(tok, line, 512, 0, 0);
            assertEquals(List.of("    def f():\n        return 1<|im_end|>\n", "  - a\n  - b<|im_end|>\n"), supervisedRuns(tok, s), tok.name());
            assertNotEquals(Arrays.toString(tok.tokenizer().encode(s.text())), Arrays.toString(s.ids()),
                    tok.name() + ": the whole-text ids should differ here, or this test shows nothing");
            assertEquals(s.text(), tok.tokenizer().decode(s.ids(), false));
        }
    }

    @Test
    void anInjectedSystemPromptIsNotSupervised() {
        for (Tok tok : both()) {
            Sample s = checked(tok, MULTI_TURN, 512, 1.0, 0);
            assertTrue(SystemPrompts.MINIMIND.stream().anyMatch(p -> s.text().startsWith("<|im_start|>system\n" + p + "<|im_end|>\n")), s.text());
            assertEquals(3, supervisedRuns(tok, s).size(), tok.name());
        }
    }

    @Test
    void aReplyCutByTruncationIsSupervisedToTheEnd() {
        for (Tok tok : both()) {
            Sample full = checked(tok, MULTI_TURN, 4096, 0, 0);
            int n = full.ids().length;
            // the last reply is the text's last "不客气！\n1. 散射\n2. 波长<|im_end|>\n": cut in its middle
            int lastReplyTokens = tok.tokenizer().encode("不客气！\n1. 散射\n2. 波长<|im_end|>\n").length;
            int cut = n - lastReplyTokens / 2;
            Sample s = checked(tok, MULTI_TURN, cut, 0, 0);
            assertEquals(cut, s.ids().length);
            assertEquals(n, s.fullLength());
            assertTrue(s.truncated());
            assertNotEquals(LossMask.IGNORE, s.labels()[cut - 1], tok.name() + ": the cut reply runs to the end");
            // cut between <|im_end|> and its "\n": still supervised to the end, the <|im_end|> included
            Sample beforeNewline = checked(tok, MULTI_TURN, n - 1, 0, 0);
            assertEquals(tok.tokenizer().eosId(), beforeNewline.ids()[n - 2]);
            assertEquals(tok.tokenizer().eosId(), beforeNewline.labels()[n - 2]);
            // cut inside the last header: that reply is gone, the earlier ones stay
            int headerAt = n - lastReplyTokens - 2;
            Sample inHeader = checked(tok, MULTI_TURN, headerAt, 0, 0);
            assertEquals(2, supervisedRuns(tok, inHeader).size(), tok.name());
        }
    }

    @Test
    void toolCallsAndToolResultsOnTheMinimind3Template() {
        String tools = Jsonl.json(List.of(Map.of("type", "function", "function", Map.of("name", "get_weather",
                "description", "天气查询", "parameters", Map.of("type", "object", "properties", Map.of("city", Map.of("type", "string")))))));
        String calls = Jsonl.json(List.of(Map.of("name", "get_weather", "arguments", Map.of("city", "北京")),
                Map.of("name", "get_weather", "arguments", Map.of("city", "上海"))));
        String line = conversations(
                msg("system", "你是天气助手", "tools", tools),
                msg("user", "北京和上海天气如何？"),
                msg("assistant", "", "tool_calls", calls),
                msg("tool", "{\"city\": \"北京\", \"temp\": 20}"),
                msg("tool", "{\"city\": \"上海\", \"temp\": 25}"),
                msg("assistant", "北京20度，上海25度。"));
        for (Tok tok : both()) {
            // augmentation at 1.0: a tool sample is never given another system prompt
            Sample s = checked(tok, line, 1024, 1.0, 1.0);
            assertTrue(s.text().startsWith("<|im_start|>system\n你是天气助手\n\n# Tools"), s.text());
            // consecutive tool results share one user turn
            assertTrue(s.text().contains("<|im_start|>user\n<tool_response>\n{\"city\": \"北京\", \"temp\": 20}\n</tool_response>\n<tool_response>\n{\"city\": \"上海\", \"temp\": 25}\n</tool_response><|im_end|>\n"), s.text());
            List<String> runs = supervisedRuns(tok, s);
            assertEquals(2, runs.size(), tok.name());
            assertTrue(runs.get(0).contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"北京\"}}\n</tool_call>"), runs.get(0));
            assertTrue(runs.get(1).endsWith("北京20度，上海25度。<|im_end|>\n"), runs.get(1));
            for (String run : runs) {
                assertFalse(run.contains("temp") || run.contains("tool_response") || run.contains("# Tools"), run);
            }
        }
    }

    @Test
    void chineseAndEmojiSplitAcrossTokens() {
        // emoji and ZWJ sequences are 4-byte characters split over several byte-level tokens
        String line = conversations(msg("user", "用表情回答🙂"), msg("assistant", "好的😀🌍🚀，一家人👨‍👩‍👧！"),
                msg("user", "再来"), msg("assistant", "🎉🎉🎉"));
        for (Tok tok : both()) {
            Sample s = checked(tok, line, 512, 0, 0);
            assertEquals(List.of("好的😀🌍🚀，一家人👨‍👩‍👧！<|im_end|>\n", "🎉🎉🎉<|im_end|>\n"), supervisedRuns(tok, s), tok.name());
        }
    }

    @Test
    void aThinkBlockIsPartOfTheReply() {
        String line = conversations(msg("user", "6乘7？"), msg("assistant", "答案是42。", "reasoning_content", "6×7=42，检查一遍。"),
                msg("user", "再想想"), msg("assistant", "<think>\n确认无误\n</think>\n\n还是42。"));
        Sample s = checked(minimind3, line, 512, 0, 0);
        assertEquals(List.of("<think>\n6×7=42，检查一遍。\n</think>\n\n答案是42。<|im_end|>\n", "<think>\n确认无误\n</think>\n\n还是42。<|im_end|>\n"),
                supervisedRuns(minimind3, s));
        // MiniMind2's template has no think handling: the inline block is reply text as written
        Sample old = checked(minimind2, line, 512, 0, 0);
        assertEquals("<think>\n确认无误\n</think>\n\n还是42。<|im_end|>\n", supervisedRuns(minimind2, old).get(1));
    }
}
