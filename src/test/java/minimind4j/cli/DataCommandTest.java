package minimind4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.TestPaths;
import minimind4j.data.LossMask;
import minimind4j.data.Sample;
import minimind4j.data.SftDataset;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code minimind data render} and {@code minimind data check}, run in-process through the launcher. */
class DataCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static MiniMindTokenizer tok;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() { tok = MiniMindTokenizer.load(TestPaths.minimind3()); }

    @AfterAll
    static void close() { tok.close(); }

    private record Result(int code, String out, String err) {}

    /** Runs the launcher with System.out and System.err captured (the data commands print to them). */
    private static Result run(String... args) {
        CliRun c = CliRun.of(args);
        Result r = new Result(c.code(), c.out(), c.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), "no stack trace: " + r.err());
        return r;
    }

    private static Map<String, Object> msg(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    private static String line(List<Map<String, Object>> messages) throws Exception {
        return JSON.writeValueAsString(Map.of("conversations", messages));
    }

    private Path write(String name, List<String> lines) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return p;
    }

    private List<String> sampleLines() throws Exception {
        return List.of(
                line(List.of(msg("user", "你好"), msg("assistant", "你好！有什么可以帮你？"))),
                line(List.of(msg("user", "1+1?"), msg("assistant", "2"), msg("user", "2+2?"), msg("assistant", "4"))),
                line(List.of(msg("user", "讲个很长的故事"), msg("assistant", "从前有座山，山里有座庙。".repeat(12)))));
    }

    @Test
    void renderPrintsTheTensorsSftDatasetMakesPaddedToMaxSeqLen() throws Exception {
        Path data = write("sft.jsonl", sampleLines());
        int maxSeqLen = 96;
        Result r = run("data", "render", "--data", data.toString(), "--tokenizer_path", TestPaths.minimind3().toString(),
                "--max_seq_len", String.valueOf(maxSeqLen), "--add_system_ratio", "0.5", "--epoch", "2");
        assertEquals(0, r.code(), r.err());
        List<String> out = r.out().lines().toList();
        assertEquals(3, out.size(), r.out());
        // the same options as the command's defaults and flags: seed 42, empty_think_ratio 0.2, epoch 2 = index 1
        try (SftDataset ds = new SftDataset(SftDataset.index(data, true), tok, maxSeqLen, 0.5, 0.2, 42)) {
            boolean sawTruncated = false;
            for (int i = 0; i < 3; i++) {
                Sample s = ds.get(i, 1);
                JsonNode o = JSON.readTree(out.get(i));
                int[] ids = Arrays.copyOf(s.ids(), maxSeqLen), labels = Arrays.copyOf(s.labels(), maxSeqLen);
                Arrays.fill(ids, s.ids().length, maxSeqLen, tok.padId());
                Arrays.fill(labels, s.ids().length, maxSeqLen, LossMask.IGNORE);
                assertEquals(s.text(), o.get("text").asText());
                assertArrayEquals(ids, JSON.treeToValue(o.get("input_ids"), int[].class), "sample " + i);
                assertArrayEquals(labels, JSON.treeToValue(o.get("labels"), int[].class), "sample " + i);
                sawTruncated |= s.truncated();
            }
            assertTrue(sawTruncated, "the long story is cut at max_seq_len");
        }
        Result unpadded = run("data", "render", "--data", data.toString(), "--tokenizer_path", TestPaths.minimind3().toString(),
                "--max_seq_len", String.valueOf(maxSeqLen), "--no_pad", "--limit", "1", "--add_system_ratio", "0");
        assertEquals(1, unpadded.out().lines().count());
        JsonNode first = JSON.readTree(unpadded.out().lines().findFirst().orElseThrow());
        assertEquals(tok.encode(first.get("text").asText()).length, first.get("input_ids").size());
    }

    @Test
    void renderOutReplacesTheFileAtomicallyAndLeavesItAloneOnFailure() throws Exception {
        Path data = write("sft.jsonl", sampleLines());
        Path out = dir.resolve("rendered.jsonl");
        Files.writeString(out, "old content\n");
        Result r = run("data", "render", "--data", data.toString(), "--tokenizer_path", TestPaths.minimind3().toString(),
                "--max_seq_len", "64", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.out(), "nothing on stdout with --out");
        List<String> written = Files.readAllLines(out);
        assertEquals(3, written.size());
        assertEquals(64, JSON.readTree(written.get(0)).get("input_ids").size());
        try (var files = Files.list(dir)) {
            assertEquals(List.of("rendered.jsonl", "sft.jsonl"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }

        // a bad line with --strict_data: exit 2, one error line, the previous output untouched, no temporary file
        Path bad = write("bad.jsonl", List.of(sampleLines().get(0), "{\"conversations\": [{\"role\": \"user\", \"content\": \"q\"}]}"));
        Result failed = run("data", "render", "--data", bad.toString(), "--tokenizer_path", TestPaths.minimind3().toString(),
                "--out", out.toString(), "--strict_data");
        assertEquals(2, failed.code());
        assertEquals("error: " + bad + ":2: no assistant turn: nothing to learn from this conversation"
                + " (fix the record, or drop --strict_data to skip bad records)", failed.err().strip());
        assertEquals(written, Files.readAllLines(out));
        assertFalse(Files.exists(dir.resolve("rendered.jsonl.tmp")));
    }

    @Test
    void showHighlightsExactlyTheSupervisedSpans() throws Exception {
        Path data = write("sft.jsonl", sampleLines().subList(0, 2));
        Result r = run("data", "render", "--data", data.toString(), "--tokenizer_path", TestPaths.minimind3().toString(),
                "--show", "--add_system_ratio", "0", "--empty_think_ratio", "0");
        assertEquals(0, r.code(), r.err());
        // not a terminal: supervised spans in [[...]], no escape codes
        assertFalse(r.out().contains("\033"), r.out());
        List<String> marked = new ArrayList<>();
        Matcher m = Pattern.compile("\\[\\[(.*?)]]", Pattern.DOTALL).matcher(r.out());
        while (m.find()) marked.add(m.group(1));
        assertEquals(List.of("你好！有什么可以帮你？<|im_end|>\n", "2<|im_end|>\n", "4<|im_end|>\n"), marked);
        assertTrue(r.out().contains("<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n[[你好！"), r.out());
        assertTrue(r.out().contains("── sample 1 ("), r.out());
        // --out never holds escapes either
        Path out = dir.resolve("shown.txt");
        assertEquals(0, run("data", "render", "--data", data.toString(), "--tokenizer_path", TestPaths.minimind3().toString(),
                "--show", "--add_system_ratio", "0", "--empty_think_ratio", "0", "--out", out.toString()).code());
        assertEquals(r.out(), Files.readString(out));
        // on a terminal without NO_COLOR: green supervised spans, the rest dimmed
        try (SftDataset ds = new SftDataset(SftDataset.index(data, false), tok, 340, 0, 0, 42)) {
            String coloured = DataCommand.Render.highlight(tok, ds.get(0, 0), 0, true);
            List<String> green = new ArrayList<>();
            Matcher g = Pattern.compile("\033\\[32m(.*?)\033\\[0m", Pattern.DOTALL).matcher(coloured);
            while (g.find()) green.add(g.group(1));
            assertEquals(List.of("你好！有什么可以帮你？<|im_end|>\n"), green);
            assertTrue(coloured.contains("\033[2m<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n\033[0m"), coloured);
        }
    }

    /** Nearest-rank percentile, as `data check` states it. */
    private static int percentile(int[] sorted, int p) {
        return sorted[(int) Math.ceil(p / 100.0 * sorted.length) - 1];
    }

    @Test
    void checkCountsLengthsTruncationAndSupervision() throws Exception {
        List<Map<String, Object>> shortChat = List.of(msg("user", "你好"), msg("assistant", "你好！有什么可以帮你？"));
        List<Map<String, Object>> twoTurns = List.of(msg("user", "1+1?"), msg("assistant", "2"), msg("user", "2+2?"), msg("assistant", "4"));
        String story = "从前有座山，山里有座庙。".repeat(12);
        List<Map<String, Object>> longReply = List.of(msg("user", "讲故事"), msg("assistant", story));
        List<Map<String, Object>> longQuestion = List.of(msg("user", "请总结下面的文字：" + story), msg("assistant", "山和庙。"));
        List<List<Map<String, Object>>> good = List.of(shortChat, twoTurns, longReply, longQuestion);
        int maxSeqLen = 64;
        Path data = write("check.jsonl", List.of(line(shortChat), line(twoTurns), line(longReply), "{oops", line(longQuestion), ""));
        Result r = run("data", "check", "--data", data.toString(), "--tokenizer_path", TestPaths.minimind3().toString(),
                "--max_seq_len", String.valueOf(maxSeqLen), "--add_system_ratio", "0", "--empty_think_ratio", "0");
        assertEquals(1, r.code(), "skipped lines and a sample sft drops: not a clean check; " + r.err());

        // expectations from the template and the tokenizer directly: text without the dropped empty think blocks;
        // supervised tokens are each reply's tokens plus <|im_end|> and "\n", or what is left of them after the cut
        int[] lengths = new int[4];
        int truncated = 0, lostAll = 0;
        long tokens = 0, supervised = 0;
        for (int i = 0; i < 4; i++) {
            String text = tok.applyChatTemplate(good.get(i), null, false, Map.of()).replace("<think>\n\n</think>\n\n", "");
            lengths[i] = tok.encode(text).length;
            tokens += Math.min(lengths[i], maxSeqLen);
            int sup = 0;
            int from = 0;
            for (Map<String, Object> message : good.get(i)) {
                if (!message.get("role").equals("assistant")) continue;
                String reply = (String) message.get("content");
                int replyAt = text.indexOf("<|im_start|>assistant\n" + reply, from) + "<|im_start|>assistant\n".length();
                int before = tok.encode(text.substring(0, replyAt)).length;
                sup += Math.max(0, Math.min(before + tok.encode(reply).length + 2, maxSeqLen) - before);
                from = replyAt;
            }
            supervised += sup;
            if (lengths[i] > maxSeqLen) {
                truncated++;
                if (sup == 0) lostAll++;
            }
        }
        assertEquals(List.of(2, 1), List.of(truncated, lostAll), "the file should cut one reply and lose one: " + Arrays.toString(lengths));
        int[] sorted = lengths.clone();
        Arrays.sort(sorted);
        String want = String.format(Locale.ROOT, """
                data: %s
                samples: 4 usable of 6 records (2 skipped)
                skipped: not valid JSON: 1
                  %1$s:4: not valid JSON (Unexpected character ('o' (code 111)): was expecting double-quote to start field name)
                skipped: empty line: 1
                  %1$s:6: empty line
                tokens per sample (before truncation): min %d, p50 %d, p90 %d, p99 %d, max %d, mean %.1f
                truncated at max_seq_len 64: 2 (50.0%%); of those, 1 lose every supervised token
                longer than --max_seq_len 64 (truncated): 2
                  %1$s:3: %d tokens
                  %1$s:5: %d tokens
                no supervised token left at --max_seq_len 64 (sft drops them): 1
                  %1$s:5
                tokens after truncation: %d; supervised: %d (%.1f%%)
                padding to max_seq_len would add %d pad tokens (%.1f%% of a padded batch)
                """, data, sorted[0], percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99), sorted[3],
                Arrays.stream(lengths).average().orElseThrow(), lengths[2], lengths[3], tokens, supervised, 100.0 * supervised / tokens,
                4 * maxSeqLen - tokens, 100.0 * (4 * maxSeqLen - tokens) / (4 * maxSeqLen));
        assertEquals(want, r.out().replace("\r\n", "\n"));
        assertTrue(r.err().contains("checked 6 records in "), r.err());
    }

    @Test
    void checkRendersEveryLineAndListsEachOneTrainingWouldStopAt() throws Exception {
        Path tokenizer = TestPaths.tokenizerThatRejects(dir.resolve("boom-tok"));
        List<Map<String, Object>> fine = List.of(msg("user", "hi"), msg("assistant", "hello"));
        List<Map<String, Object>> rejected = List.of(msg("user", TestPaths.REJECTED), msg("assistant", "ok"));
        Path data = write("reject.jsonl", List.of(line(fine), line(rejected), line(fine), line(rejected), line(fine)));
        Result r = run("data", "check", "--data", data.toString(), "--tokenizer_path", tokenizer.toString(), "--add_system_ratio", "0");
        assertEquals(1, r.code(), "a file training would stop on is not a clean check: " + r.out());
        assertTrue(r.out().contains("samples: 3 usable of 5 records (0 skipped)"), r.out());
        assertTrue(r.out().replace("\r\n", "\n").contains("the chat template fails on (sft drops them): 2\n"
                + "  " + data + ":2: the chat template failed on this conversation (chat template line 1: no booms here)\n"
                + "  " + data + ":4: the chat template failed"), r.out());
    }

    @Test
    void checkOnPretrainData() throws Exception {
        String longText = "从前有座山，山里有座庙。".repeat(10);
        Path data = write("pretrain.jsonl", List.of(JSON.writeValueAsString(Map.of("text", "你好，世界 hello")),
                "{\"text\": 5}", JSON.writeValueAsString(Map.of("text", longText))));
        Result r = run("data", "check", "--data", data.toString(), "--tokenizer_path", TestPaths.minimind3().toString(),
                "--max_seq_len", "16");
        assertEquals(1, r.code(), r.err());
        int longLength = tok.encode(longText).length + 2;
        assertTrue(r.out().contains("samples: 2 usable of 3 records (1 skipped)"), r.out());
        // lengths count bos and eos: "你好，世界 hello" is 6 tokens + 2
        assertTrue(r.out().contains("tokens per sample (before truncation): min 8, p50 8, p90 " + longLength), r.out());
        assertTrue(r.out().contains("truncated at max_seq_len 16: 1 (50.0%); of those, 0 lose every supervised token"), r.out());
        assertTrue(r.out().contains("tokens after truncation: 24; supervised: 22 (91.7%)"), r.out());
        assertTrue(r.out().contains("skipped: \"text\" is not a string: 1\n  " + data + ":2: \"text\" is not a string"), r.out());
    }

    @Test
    void userMistakesAreOneErrorLine() throws Exception {
        Path data = write("sft.jsonl", sampleLines());
        Result noTokenizer = run("data", "check", "--data", data.toString(), "--tokenizer_path", dir.resolve("nope").toString());
        assertEquals(2, noTokenizer.code());
        assertTrue(noTokenizer.err().startsWith("error: --tokenizer_path " + dir.resolve("nope")), noTokenizer.err());
        Result noData = run("data", "render", "--data", dir.resolve("absent.jsonl").toString(), "--tokenizer_path", TestPaths.minimind3().toString());
        assertEquals(2, noData.code());
        assertTrue(noData.err().contains("absent.jsonl: no such file"), noData.err());
        Result tooShort = run("data", "render", "--data", data.toString(), "--tokenizer_path", TestPaths.minimind3().toString(), "--max_seq_len", "1");
        assertEquals(2, tooShort.code());
        assertTrue(tooShort.err().contains("--max_seq_len 1: must be at least 2"), tooShort.err());
        Result allBad = run("data", "check", "--data", write("bad.jsonl", List.of("x", "")).toString(), "--tokenizer_path", TestPaths.minimind3().toString());
        assertEquals(2, allBad.code());
        assertTrue(allBad.err().contains("no usable records (" + dir.resolve("bad.jsonl") + ":1: not valid JSON"), allBad.err());
    }
}
