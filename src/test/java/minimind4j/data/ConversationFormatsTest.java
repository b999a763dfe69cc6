package minimind4j.data;

import minimind4j.data.formats.Conversation;
import minimind4j.TestPaths;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static minimind4j.data.Jsonl.conversations;
import static minimind4j.data.Jsonl.json;
import static minimind4j.data.Jsonl.msg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The input formats SFT accepts render to the same text as the equivalent {@code conversations} line. */
class ConversationFormatsTest {
    private static MiniMindTokenizer minimind3, minimind2;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        minimind3 = MiniMindTokenizer.load(TestPaths.minimind3());
        minimind2 = MiniMindTokenizer.load(TestPaths.minimind2());
    }

    @AfterAll
    static void close() {
        minimind3.close();
        minimind2.close();
    }

    /** Each line's rendered text (no augmentation, empty think blocks kept), after checking they all index. */
    private List<String> rendered(MiniMindTokenizer tok, String... lines) {
        try (SftDataset ds = Jsonl.sft(dir.resolve("formats.jsonl"), tok, 1024, 0, 1, 1, List.of(lines))) {
            assertEquals(lines.length, ds.size(), "every line is usable");
            return java.util.stream.IntStream.range(0, lines.length).mapToObj(i -> ds.render(i, 0)).toList();
        }
    }

    private void allRenderAlike(String... lines) {
        for (MiniMindTokenizer tok : List.of(minimind3, minimind2)) {
            List<String> texts = rendered(tok, lines);
            for (int i = 1; i < texts.size(); i++) assertEquals(texts.get(0), texts.get(i), "line " + (i + 1));
        }
    }

    @Test
    void messagesShareGptAndAlpacaRenderAsConversations() {
        String conversations = conversations(msg("system", "你是助手"), msg("user", "你好"), msg("assistant", "你好！"),
                msg("user", "翻译: cat\n猫是什么？"), msg("assistant", "猫 (cat)"));
        String messages = json(Map.of("messages", List.of(msg("system", "你是助手"), msg("user", "你好"), msg("assistant", "你好！"),
                msg("user", "翻译: cat\n猫是什么？"), msg("assistant", "猫 (cat)"))));
        String shareGpt = json(Map.of("conversations", List.of(
                Map.of("from", "system", "value", "你是助手"), Map.of("from", "human", "value", "你好"),
                Map.of("from", "gpt", "value", "你好！"), Map.of("from", "human", "value", "翻译: cat\n猫是什么？"),
                Map.of("from", "gpt", "value", "猫 (cat)"))));
        // Alpaca: history pairs come first; the input goes below the instruction, one newline between
        String alpaca = json(Map.of("system", "你是助手", "history", List.of(List.of("你好", "你好！")),
                "instruction", "翻译: cat", "input", "猫是什么？", "output", "猫 (cat)"));
        allRenderAlike(conversations, messages, shareGpt, alpaca);
    }

    @Test
    void alpacaWithoutInputOrSystem() {
        allRenderAlike(conversations(msg("user", "讲个笑话"), msg("assistant", "好的。")),
                json(Map.of("instruction", "讲个笑话", "input", "", "output", "好的。")),
                json(Map.of("instruction", "讲个笑话", "output", "好的。")));
    }

    @Test
    void toolsAndToolCallsAsJsonStringsOrAsJson() {
        List<Object> tools = List.of(Map.of("type", "function", "function", Map.of("name", "add", "parameters", Map.of())));
        List<Object> calls = List.of(Map.of("name", "add", "arguments", Map.of("a", 1, "b", 2)));
        String asStrings = conversations(msg("system", "sys", "tools", json(tools)), msg("user", "1+2"),
                msg("assistant", "", "tool_calls", json(calls)), msg("tool", "3"), msg("assistant", "3"));
        String asJson = conversations(msg("system", "sys", "tools", tools), msg("user", "1+2"),
                msg("assistant", "", "tool_calls", calls), msg("tool", "3"), msg("assistant", "3"));
        // MiniMind2's datasets named them "functions"
        String asFunctions = conversations(msg("system", "sys", "functions", tools), msg("user", "1+2"),
                msg("assistant", "", "tool_calls", calls), msg("tool", "3"), msg("assistant", "3"));
        String asMessages = json(Map.of("messages", List.of(msg("system", "sys", "tools", json(tools)), msg("user", "1+2"),
                msg("assistant", "", "tool_calls", calls), msg("tool", "3"), msg("assistant", "3"))));
        allRenderAlike(asStrings, asJson, asFunctions, asMessages);
        String text = rendered(minimind3, asStrings).get(0);
        assertTrue(text.contains("<tools>\n{") && text.contains("\"name\": \"add\""), text);
        assertTrue(text.contains("<tool_call>\n{\"name\": \"add\", \"arguments\": {"), text);
    }

    @Test
    void emptyToolFieldsMeanNoTools() throws Exception {
        // MiniMind's "if message.get('tools')" and "if message.get('tool_calls')": empty values are no tools, not errors
        String plain = conversations(msg("system", "sys"), msg("user", "q"), msg("assistant", "a"));
        String empty = conversations(msg("system", "sys", "tools", ""), msg("user", "q"), msg("assistant", "a", "tool_calls", ""));
        String emptyList = conversations(msg("system", "sys", "tools", List.of()), msg("user", "q"), msg("assistant", "a", "tool_calls", List.of()));
        String nulls = conversations(msg("system", "sys", "tools", null), msg("user", "q"), msg("assistant", "a", "tool_calls", null));
        allRenderAlike(plain, empty, emptyList, nulls);
        assertNull(Conversation.parse(empty).tools());
        assertFalse(Conversation.parse(emptyList).hasTools());
    }

    @Test
    void prepareIsWhatTheTemplateNeedsParseAddsWhatTrainingNeeds() throws Exception {
        List<Object> raw = List.of(msg("system", "s", "tools", "[{\"name\": \"f\"}]"), msg("user", "only a question"));
        Conversation prepared = Conversation.prepare(raw);
        assertEquals(List.of(Map.of("name", "f")), prepared.tools());
        assertTrue(prepared.hasTools());
        Conversation.Invalid e = assertThrows(Conversation.Invalid.class, () -> Conversation.parse(json(Map.of("conversations", raw))));
        assertTrue(e.getMessage().startsWith("no assistant turn"), e.getMessage());
        // the raw line is not modified by preparing it
        assertEquals("[{\"name\": \"f\"}]", ((Map<?, ?>) raw.get(0)).get("tools"));
    }
}
