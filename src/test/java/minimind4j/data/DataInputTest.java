package minimind4j.data;

import minimind4j.UserError;
import minimind4j.data.formats.DataFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.zip.GZIPOutputStream;

import static minimind4j.data.Jsonl.conversations;
import static minimind4j.data.Jsonl.msg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What --data_path takes: JSON arrays, gzip, directories, globs, several paths; record locations in the user's files. */
class DataInputTest {
    @TempDir
    Path dir;

    private static String chat(int i) { return conversations(msg("user", "q" + i), msg("assistant", "a" + i)); }

    private Path write(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    private Path gzip(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(p))) {
            out.write(content.getBytes(StandardCharsets.UTF_8));
        }
        return p;
    }

    private static List<String> lines(JsonlIndex idx) {
        return IntStream.range(0, idx.size()).mapToObj(idx::line).toList();
    }

    /** The real LLaMA-Factory array, pretty-printed over many lines, read record by record by offset. */
    @Test
    void aJsonArrayIsStreamedAndItsRecordsNamedByLineAndNumber() throws IOException {
        Path f = DatasetFixturesTest.fixture("alpaca_en_demo.json");
        try (JsonlIndex idx = SftDataset.index(f, true)) {
            assertEquals(4, idx.size());
            assertEquals(f + ":2 (record 1)", idx.location(0));
            assertEquals(f + ":17 (record 4)", idx.location(3));
            assertTrue(idx.line(1).startsWith("{") && idx.line(1).endsWith("}") && idx.line(1).contains("\"running\""), idx.line(1));
        }
        // a bad element is skipped with its record number; a broken array is one line with line:column
        Path mixed = write("mixed.json", "[\n" + chat(1) + ",\n  {\"conversations\": []},\n 7,\n" + chat(2) + "\n]\n");
        try (JsonlIndex idx = SftDataset.index(mixed, false)) {
            assertEquals(2, idx.size());
            assertEquals(List.of(mixed + ":3 (record 2)", mixed + ":4 (record 3)"), idx.firstBad().stream().map(JsonlIndex.BadLine::where).toList());
            assertEquals(List.of("the conversation is empty", "expected a JSON object"), idx.firstBad().stream().map(JsonlIndex.BadLine::reason).toList());
            assertEquals(mixed + ":5 (record 4)", idx.location(1));
        }
        Path broken = write("broken.json", "[\n" + chat(1) + ",\n" + chat(2).substring(0, 20));
        UserError e = assertThrows(UserError.class, () -> SftDataset.index(broken, false));
        assertTrue(e.getMessage().startsWith(broken + ":3:") && e.getMessage().contains("not a valid JSON array"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        // a .json file holding one object per line is JSONL
        Path perLine = write("lines.json", chat(1) + "\n" + chat(2) + "\n");
        try (JsonlIndex idx = SftDataset.index(perLine, true)) {
            assertEquals(List.of(chat(1), chat(2)), lines(idx));
            assertEquals(perLine + ":2", idx.location(1));
        }
    }

    @Test
    void gzipFilesReadAsTheirContentAndAreNamedInMessages() throws IOException {
        String jsonl = chat(1) + "\nnot json\n" + chat(2) + "\n";
        Path gz = gzip("d.jsonl.gz", jsonl);
        try (JsonlIndex idx = SftDataset.index(gz, false)) {
            assertEquals(List.of(chat(1), chat(2)), lines(idx));
            assertEquals(gz + ":2", idx.firstBad().get(0).where());
            assertEquals(gz + ":3", idx.location(1));
        }
        Path gzArray = gzip("a.json.gz", Files.readString(DatasetFixturesTest.fixture("alpaca_en_demo.json")));
        try (JsonlIndex plain = SftDataset.index(DatasetFixturesTest.fixture("alpaca_en_demo.json"), true);
             JsonlIndex idx = SftDataset.index(gzArray, true)) {
            assertEquals(lines(plain), lines(idx));
            assertEquals(gzArray + ":2 (record 1)", idx.location(0));
        }
        Path cut = dir.resolve("cut.jsonl.gz");
        byte[] whole = Files.readAllBytes(gz);
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length / 2));
        UserError e = assertThrows(UserError.class, () -> SftDataset.index(cut, false));
        assertTrue(e.getMessage().startsWith(cut + ": not a complete gzip file"), e.getMessage());
    }

    @Test
    void directoriesGlobsAndSeveralPathsInNameOrder() throws IOException {
        write("set/b.jsonl", chat(2) + "\n");
        write("set/a.json", "[" + chat(1) + "]");
        gzip("set/c.jsonl.gz", chat(3) + "\n");
        write("set/README.md", "not data\n");
        write("set/.hidden.jsonl", "x\n");
        try (JsonlIndex idx = SftDataset.index(List.of(dir.resolve("set")), true, DataFormat.AUTO)) {
            assertEquals(List.of(chat(1), chat(2), chat(3)), lines(idx));
            assertEquals(dir.resolve("set/b.jsonl") + ":1", idx.location(1));
            assertEquals("3 files (" + dir.resolve("set/a.json") + ", ...)", idx.name());
        }
        try (JsonlIndex idx = SftDataset.index(List.of(dir.resolve("set/*.json*")), true, DataFormat.AUTO)) {
            assertEquals(List.of(chat(1), chat(2), chat(3)), lines(idx));
        }
        try (JsonlIndex idx = SftDataset.index(List.of(dir.resolve("set/c.jsonl.gz"), dir.resolve("set/a.json")), true, DataFormat.AUTO)) {
            assertEquals(List.of(chat(3), chat(1)), lines(idx), "several paths: in the order given");
        }
        UserError none = assertThrows(UserError.class, () -> SftDataset.index(List.of(dir.resolve("set/*.parquet")), true, DataFormat.AUTO));
        assertEquals(dir.resolve("set/*.parquet") + ": no file matches this pattern", none.getMessage());
        UserError missing = assertThrows(UserError.class, () -> SftDataset.index(List.of(dir.resolve("nope")), true, DataFormat.AUTO));
        assertTrue(missing.getMessage().startsWith(dir.resolve("nope") + ": no such file or directory"), missing.getMessage());
    }

    @Test
    void parquetAndOtherBinariesAreRefusedWithHowToConvert() throws IOException {
        Path pq = dir.resolve("train-00000.parquet");
        Files.write(pq, new byte[]{'P', 'A', 'R', '1', 0, 0, 0, 0});
        UserError e = assertThrows(UserError.class, () -> SftDataset.index(pq, false));
        assertEquals(pq + ": Parquet is not supported; convert it to JSONL first, e.g. python3 -c \"import pandas as pd; pd.read_parquet('"
                + pq + "').to_json('train-00000.jsonl', orient='records', lines=True, force_ascii=False)\"", e.getMessage());
        // also by content, whatever the name; and a directory of parquet files says the same
        Path disguised = dir.resolve("pq/data.bin");
        Files.createDirectories(disguised.getParent());
        Files.write(disguised, new byte[]{'P', 'A', 'R', '1', 1, 2, 3});
        e = assertThrows(UserError.class, () -> SftDataset.index(List.of(disguised.getParent()), false, DataFormat.AUTO));
        assertTrue(e.getMessage().startsWith(disguised + ": Parquet is not supported"), e.getMessage());
    }

    @Test
    void manyRecordsAcrossChunksKeepTheirOrderAndLineNumbers() throws IOException {
        List<String> ls = new ArrayList<>();
        for (int i = 0; i < 5000; i++) ls.add(i % 997 == 0 ? "{}" : chat(i));
        Path p = write("many.jsonl", String.join("\n", ls) + "\n");
        try (JsonlIndex idx = SftDataset.index(p, false)) {
            assertEquals(5000 - 6, idx.size());
            assertEquals(6, idx.skipped());
            assertEquals(List.of(1, 998, 1995, 2992, 3989), idx.firstBad().stream().map(JsonlIndex.BadLine::line).toList());
            for (int i = 0; i < idx.size(); i++) assertEquals(ls.get(idx.lineNumber(i) - 1), idx.line(i));
        }
    }
}
