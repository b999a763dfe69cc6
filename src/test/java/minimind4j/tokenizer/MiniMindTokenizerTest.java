package minimind4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import minimind4j.TestPaths;

/**
 * Token ids against independent references: the ids the Python tokenizers library gives (per the project notes) and,
 * for more strings, {@code scripts/bpe_reference.py}, a pure-Python byte-level BPE run once to produce the arrays below.
 */
class MiniMindTokenizerTest {

    private static final String GREETING = "你好，世界 hello";
    private static final String CHAT = "<|im_start|>user\nHi 😀 there!<|im_end|>\n<|im_start|>assistant\n";
    private static final String PUNCTUATED = "It's 2026: naïve café — don't panic!!  ";
    private static final String THINK_AND_TOOL = "<think>\n推理\n</think>\n\n<tool_call>{\"name\": \"f\"}</tool_call>";

    private static MiniMindTokenizer minimind3;
    private static MiniMindTokenizer minimind2;

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

    @Test
    void greetingHasTheIdsPythonGives() {
        assertArrayEquals(new int[] {1968, 294, 1950, 582, 111, 722}, minimind3.encode(GREETING));
        assertArrayEquals(new int[] {5134, 270, 2219, 380, 78, 338}, minimind2.encode(GREETING));
    }

    @Test
    void moreStringsMatchThePythonBpeReference() {
        // python3 scripts/bpe_reference.py src/test/resources/minimind/minimind3/tokenizer.json TEXT...
        assertArrayEquals(new int[] {1, 832, 311, 234, 75, 108, 256, 4544, 282, 258, 1975, 36, 2, 234, 1, 1388, 570,
                811, 234}, minimind3.encode(CHAT));
        assertArrayEquals(new int[] {1931, 628, 1190, 53, 57, 61, 399, 100, 163, 143, 478, 317, 4249, 3006, 256, 3084,
                2207, 1445, 344, 325, 375, 36, 36, 332}, minimind3.encode(PUNCTUATED));
        assertArrayEquals(new int[] {25, 234, 1210, 455, 234, 26, 234, 234, 21, 126, 37, 2533, 3149, 536, 105, 37, 128,
                22}, minimind3.encode(THINK_AND_TOOL));
        // python3 scripts/bpe_reference.py src/test/resources/minimind/minimind2/tokenizer.json TEXT...
        assertArrayEquals(new int[] {1, 320, 275, 201, 42, 75, 223, 175, 256, 249, 225, 1072, 3, 2, 201, 1, 1078, 538,
                501, 201}, minimind2.encode(CHAT));
        assertArrayEquals(new int[] {3255, 531, 2107, 20, 24, 28, 358, 67, 130, 110, 319, 272, 1397, 4100, 223, 3181,
                2596, 1608, 283, 280, 301, 3, 3, 307}, minimind2.encode(PUNCTUATED));
        assertArrayEquals(new int[] {30, 450, 1573, 32, 201, 1550, 578, 201, 5540, 450, 1573, 32, 201, 201, 30, 2978,
                393, 65, 69, 615, 32, 93, 4, 6233, 4754, 764, 72, 4, 95, 5540, 2978, 393, 65, 69, 615, 32},
                minimind2.encode(THINK_AND_TOOL));
    }

    @Test
    void decodeRoundTrips() {
        for (MiniMindTokenizer t : List.of(minimind3, minimind2)) {
            for (String text : List.of(GREETING, CHAT, PUNCTUATED, THINK_AND_TOOL, "", "  leading and trailing  ")) {
                assertEquals(text, t.decode(t.encode(text), false), text);
            }
        }
    }

    @Test
    void decodeCanSkipSpecialTokens() {
        assertEquals("user\nHi 😀 there!\nassistant\n", minimind3.decode(minimind3.encode(CHAT), true));
        assertEquals("user\nHi 😀 there!\nassistant\n", minimind2.decode(minimind2.encode(CHAT), true));
    }

    @Test
    void specialTokensHaveTheSameIdsInBothTokenizers() {
        for (MiniMindTokenizer t : List.of(minimind3, minimind2)) {
            assertEquals(0, t.tokenToId("<|endoftext|>"));
            assertEquals(1, t.tokenToId("<|im_start|>"));
            assertEquals(2, t.tokenToId("<|im_end|>"));
            assertEquals("<|im_start|>", t.bosToken());
            assertEquals("<|im_end|>", t.eosToken());
            assertEquals("<|endoftext|>", t.padToken());
            assertEquals(1, t.bosId());
            assertEquals(2, t.eosId());
            assertEquals(0, t.padId());
            assertArrayEquals(new int[] {1}, t.encode("<|im_start|>"));
            assertArrayEquals(new int[] {2}, t.encode("<|im_end|>"));
            assertArrayEquals(new int[] {0}, t.encode("<|endoftext|>"));
            assertEquals(6400, t.vocabSize());
        }
        assertEquals(25, minimind3.tokenToId("<think>"));
        assertThrows(IllegalArgumentException.class, () -> minimind3.tokenToId("<no such token>"));
    }

    @Test
    void longTextIsNotTruncated() {
        String text = "MiniMind 是一个小型语言模型。It trains fast. ".repeat(200);
        for (MiniMindTokenizer t : List.of(minimind3, minimind2)) {
            int[] ids = t.encode(text);
            assertTrue(ids.length > 2000, "only " + ids.length + " ids: truncated?");
            assertEquals(text, t.decode(ids, false));
        }
    }

    @Test
    void assistantHeaderEncodesTheSameInsideARenderedConversation() {
        List<Map<String, Object>> messages = List.of(
                Map.of("role", "system", "content", "你是minimind。"),
                Map.of("role", "user", "content", "你好"),
                Map.of("role", "assistant", "content", "你好！有什么可以帮你？"),
                Map.of("role", "user", "content", "讲个笑话"),
                Map.of("role", "assistant", "content", "<think>\n想一个\n</think>\n\n好的……"));
        for (MiniMindTokenizer t : List.of(minimind3, minimind2)) {
            String prompt = t.applyChatTemplate(messages, null, false, null);
            int[] ids = t.encode(prompt);
            int[] header = t.encode(t.bosToken() + "assistant\n");
            int[] end = t.encode(t.eosToken() + "\n");
            assertEquals(2, occurrences(ids, header), prompt);
            assertEquals(5, occurrences(ids, end), prompt);
            assertEquals(prompt, t.decode(ids, false));
        }
    }

    @Test
    void applyChatTemplatePassesToolsAndExtraVariables() {
        List<Map<String, Object>> messages = List.of(Map.of("role", "user", "content", "你好"));
        // rendered by Python Jinja2 (see expected-minimind*.jsonl, cases enable_thinking_false / open_thinking_true)
        assertEquals("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\n你好<|im_end|>\n"
                        + "<|im_start|>assistant\n<think>\n\n</think>\n\n",
                minimind2.applyChatTemplate(messages, null, true, Map.of("enable_thinking", false)));
        assertEquals("<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n<think>\n",
                minimind3.applyChatTemplate(messages, null, true, Map.of("open_thinking", true)));
        List<Object> tools = List.of(Map.of("name", "f"));
        assertTrue(minimind3.applyChatTemplate(messages, tools, false, null)
                .contains("<tools>\n{\"name\": \"f\"}\n</tools>"));
    }

    @Test
    void encodeIsSafeFromSeveralThreads() throws Exception {
        List<String> texts = List.of(GREETING, CHAT, PUNCTUATED, THINK_AND_TOOL);
        List<int[]> expected = texts.stream().map(minimind3::encode).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int task = 0; task < 8; task++) {
                results.add(pool.submit(() -> {
                    for (int round = 0; round < 50; round++) {
                        for (int i = 0; i < texts.size(); i++) {
                            if (!Arrays.equals(expected.get(i), minimind3.encode(texts.get(i)))) return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> r : results) assertTrue(r.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void loadNamesTheMissingPiece(@TempDir Path dir) throws Exception {
        minimind4j.UserError noDir = assertThrows(minimind4j.UserError.class,
                () -> MiniMindTokenizer.load(dir.resolve("absent")));
        assertTrue(noDir.getMessage().contains("not a directory"), noDir.getMessage());
        minimind4j.UserError noJson = assertThrows(minimind4j.UserError.class, () -> MiniMindTokenizer.load(dir));
        assertTrue(noJson.getMessage().contains("tokenizer.json: missing"), noJson.getMessage());
        Files.copy(TestPaths.minimind3().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<|im_start|>\",\n \"chat_template\": 3,}");
        minimind4j.UserError badConfig = assertThrows(minimind4j.UserError.class, () -> MiniMindTokenizer.load(dir));
        assertTrue(badConfig.getMessage().contains("tokenizer_config.json:2"), badConfig.getMessage());
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"{% if x %}\"}");
        minimind4j.UserError badTemplate = assertThrows(minimind4j.UserError.class,
                () -> MiniMindTokenizer.load(dir));
        assertTrue(badTemplate.getMessage().contains("chat template line 1"), badTemplate.getMessage());
    }

    @Test
    void specialTokensMayBeAddedTokenObjectsAndTemplatesAList(@TempDir Path dir) throws Exception {
        Files.copy(TestPaths.minimind2().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"bos_token": {"content": "<|im_start|>", "lstrip": false},
                 "eos_token": "<|im_end|>", "pad_token": {"content": "<|endoftext|>"},
                 "chat_template": [{"name": "tool_use", "template": "tools"},
                                   {"name": "default", "template": "{{ bos_token }}{{ messages|length }}"}]}
                """);
        try (MiniMindTokenizer t = MiniMindTokenizer.load(dir)) {
            assertEquals(1, t.bosId());
            assertEquals(0, t.padId());
            assertEquals("<|im_start|>1", t.applyChatTemplate(List.of(Map.of("role", "user", "content", "x")),
                    null, false, null));
        }
    }

    private static int occurrences(int[] ids, int[] part) {
        int n = 0;
        for (int i = 0; i + part.length <= ids.length; i++) {
            if (Arrays.equals(ids, i, i + part.length, part, 0, part.length)) n++;
        }
        return n;
    }
}
