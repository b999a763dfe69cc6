package minimind4j.data;

import minimind4j.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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

/** Indexing SFT and pretrain files: bad lines named by file:line and skipped, or fatal with --strict_data. */
class JsonlIndexTest {
    private static final String GOOD = conversations(msg("user", "你好"), msg("assistant", "你好！"));

    @TempDir
    Path dir;

    private Path file(String content) throws Exception {
        Path p = dir.resolve("data.jsonl");
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    /** One bad line of each kind the contract names, and what the index says about it. */
    private static final List<Map.Entry<String, String>> BAD = List.of(
            Map.entry("not json at all", "not valid JSON ("),
            Map.entry("{\"prompt\": \"x\", \"response\": \"y\"}", "no conversation found (keys: prompt, response)"),
            Map.entry(conversations(msg("robot", "beep"), msg("assistant", "ok")), "message 1 has unknown role \"robot\""),
            Map.entry(conversations(msg("system", "s"), msg("user", "only a question")), "no assistant turn"),
            Map.entry("", "empty line"),
            Map.entry("{\"conversations\": []}", "the conversation is empty"),
            Map.entry("[1, 2]", "expected a JSON object"),
            Map.entry("{\"conversations\": [\"hi\"]}", "message 1 is not a JSON object"),
            Map.entry("{\"conversations\": [{\"from\": \"alien\", \"value\": \"x\"}]}", "message 1 has unknown ShareGPT speaker \"alien\""),
            Map.entry(conversations(msg("user", 7), msg("assistant", "a")), "message 1: content must be a string or a list of parts"),
            Map.entry(conversations(msg("user", "q"), msg("assistant", "  ")), "empty assistant reply (message 2)"),
            Map.entry(json(Map.of("messages", List.of(msg("user", "q"), msg("assistant", "a", "weight", 0)))), "no supervised assistant turn"),
            Map.entry(conversations(msg("user", "q"), msg("assistant", null)), "message 2 has no content"),
            Map.entry(conversations(msg("user", "q"), msg("assistant", "", "tool_calls", "[{oops")), "message 2: \"tool_calls\" is a string but not valid JSON"),
            Map.entry(conversations(msg("system", "s", "tools", "{\"name\": \"f\"}"), msg("user", "q"), msg("assistant", "a")), "message 1: \"tools\" must be a JSON array"),
            Map.entry("{\"instruction\": \"q\"}", "Alpaca record without an \"output\" string"));

    @Test
    void eachBadLineIsNamedByFileLineAndProblem() throws Exception {
        for (Map.Entry<String, String> bad : BAD) {
            Path p = file(GOOD + "\n" + bad.getKey() + "\n" + GOOD + "\n");
            try (JsonlIndex skip = SftDataset.index(p, false)) {
                assertEquals(2, skip.size(), bad.getKey());
                assertEquals(1, skip.skipped());
                assertEquals(2, skip.firstBad().get(0).line());
                assertTrue(skip.firstBad().get(0).reason().startsWith(bad.getValue()), skip.firstBad().get(0).reason());
            }
            UserError strict = assertThrows(UserError.class, () -> SftDataset.index(p, true), bad.getKey());
            assertTrue(strict.getMessage().startsWith(p + ":2: " + bad.getValue()), strict.getMessage());
            assertTrue(strict.getMessage().contains("--strict_data"), strict.getMessage());
            assertFalse(strict.getMessage().contains("\n"), "one line: " + strict.getMessage());
        }
    }

    @Test
    void skipModeCountsAndQuotesTheFirstFive() throws Exception {
        StringBuilder sb = new StringBuilder(GOOD).append('\n');
        for (int i = 0; i < 7; i++) sb.append(BAD.get(i).getKey()).append('\n'); // lines 2-8
        sb.append(GOOD).append('\n');                                             // line 9
        Path p = file(sb.toString());
        try (JsonlIndex idx = SftDataset.index(p, false)) {
            assertEquals(2, idx.size());
            assertEquals(9, idx.totalLines());
            assertEquals(7, idx.skipped());
            assertEquals(1, idx.lineNumber(0));
            assertEquals(9, idx.lineNumber(1));
            assertEquals(List.of(2, 3, 4, 5, 6), idx.firstBad().stream().map(JsonlIndex.BadLine::line).toList());
            String summary = idx.skipSummary();
            assertTrue(summary.startsWith(p + ": skipped 7 of 9 records (the first 5 below)"), summary);
            for (int i = 0; i < 5; i++) assertTrue(summary.contains(p + ":" + (i + 2) + ": " + BAD.get(i).getValue()), summary);
            assertFalse(summary.contains(p + ":7:"), "only the first five are quoted: " + summary);
            assertEquals(GOOD, idx.line(1));
        }
        // strict stops at the first one
        UserError e = assertThrows(UserError.class, () -> SftDataset.index(p, true));
        assertTrue(e.getMessage().startsWith(p + ":2: not valid JSON"), e.getMessage());
    }

    @Test
    void crlfLineEndingsAndAMissingFinalNewline() throws Exception {
        Path p = file(GOOD + "\r\n" + "oops\r\n" + "\r\n" + GOOD.replace("你好！", "再见"));
        try (JsonlIndex idx = SftDataset.index(p, false)) {
            assertEquals(2, idx.size());
            assertEquals(4, idx.totalLines());
            assertEquals(List.of(new JsonlIndex.BadLine(p + ":2", 2, idx.firstBad().get(0).reason()), new JsonlIndex.BadLine(p + ":3", 3, "empty line")), idx.firstBad());
            // the stored lines are exactly the checked text: no \r, the unterminated last line whole
            assertEquals(GOOD, idx.line(0));
            assertEquals(GOOD.replace("你好！", "再见"), idx.line(1));
            assertEquals(4, idx.lineNumber(1));
        }
        assertNull(SftDataset.index(file(GOOD), true).skipSummary(), "a one-line file without newline");
    }

    @Test
    void blankLinesAreBadButNeverFatalWithoutStrict() throws Exception {
        Path p = file("\n" + GOOD + "\n   \n\t\n\r\n" + GOOD + "\n\n  ");
        try (JsonlIndex idx = SftDataset.index(p, false)) {
            assertEquals(2, idx.size());
            assertEquals(8, idx.totalLines());
            assertEquals(6, idx.skipped());
            assertTrue(idx.firstBad().stream().allMatch(b -> b.reason().equals("empty line")), idx.firstBad().toString());
            assertEquals(List.of(1, 3, 4, 5, 7), idx.firstBad().stream().map(JsonlIndex.BadLine::line).toList());
        }
        UserError strict = assertThrows(UserError.class, () -> SftDataset.index(p, true));
        assertTrue(strict.getMessage().startsWith(p + ":1: empty line"), strict.getMessage());
    }

    @Test
    void aByteOrderMarkIsIgnoredAndBrokenUtf8IsABadLine() throws Exception {
        Path p = dir.resolve("bom.jsonl");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(new byte[]{(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
        bytes.writeBytes((GOOD + "\n").getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes("{\"conversations\": [{\"role\": \"user\", \"content\": \"".getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes(new byte[]{(byte) 0xC3, (byte) 0x28}); // a lead byte without its continuation
        bytes.writeBytes("\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}\n".getBytes(StandardCharsets.UTF_8));
        Files.write(p, bytes.toByteArray());
        try (JsonlIndex idx = SftDataset.index(p, false)) {
            assertEquals(1, idx.size());
            assertEquals(GOOD, idx.line(0));
            assertEquals(new JsonlIndex.BadLine(p + ":2", 2, "not valid UTF-8 text (save the file as UTF-8)"), idx.firstBad().get(0));
        }
    }

    @Test
    void filesWithNothingUsable() throws Exception {
        UserError empty = assertThrows(UserError.class, () -> SftDataset.index(file(""), false));
        assertEquals(dir.resolve("data.jsonl") + ": no usable records (the data is empty)", empty.getMessage());
        UserError allBad = assertThrows(UserError.class, () -> SftDataset.index(file("x\n\n"), false));
        assertTrue(allBad.getMessage().startsWith(dir.resolve("data.jsonl") + ": no usable records (" + dir.resolve("data.jsonl") + ":1: not valid JSON"), allBad.getMessage());
        UserError missing = assertThrows(UserError.class, () -> SftDataset.index(dir.resolve("absent.jsonl"), false));
        assertTrue(missing.getMessage().contains("absent.jsonl: no such file"), missing.getMessage());
    }

    @Test
    void linesBeyondTheFirstChunkAndLongLines() throws Exception {
        // more lines than the initial arrays hold, and one line longer than the 64 KiB read chunk
        String longReply = "长".repeat(40_000);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 3000; i++) sb.append(conversations(msg("user", "q" + i), msg("assistant", "a" + i))).append('\n');
        sb.append(conversations(msg("user", "long"), msg("assistant", longReply))).append('\n');
        try (JsonlIndex idx = SftDataset.index(file(sb.toString()), true)) {
            assertEquals(3001, idx.size());
            assertEquals(conversations(msg("user", "q2999"), msg("assistant", "a2999")), idx.line(2999));
            assertTrue(idx.line(3000).contains(longReply));
        }
    }
}
