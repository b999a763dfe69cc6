package minimind4j.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.tokenizer.MiniMindTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds JSONL test lines from Java values, and datasets over them. */
final class Jsonl {
    static final ObjectMapper JSON = new ObjectMapper();

    private Jsonl() {}

    /** A message; {@code more} are extra key/value pairs (tool_calls, reasoning_content, tools, ...). */
    static Map<String, Object> msg(String role, Object content, Object... more) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        for (int i = 0; i < more.length; i += 2) m.put((String) more[i], more[i + 1]);
        return m;
    }

    /** {@code {"conversations": [...]}} as one line. */
    @SafeVarargs
    static String conversations(Map<String, Object>... messages) {
        return json(Map.of("conversations", List.of(messages)));
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path write(Path file, List<String> lines) {
        try {
            Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** An SFT dataset over {@code lines} written to {@code file}, skipping bad lines. */
    static SftDataset sft(Path file, MiniMindTokenizer tok, int maxSeqLen, double addSystemRatio, double emptyThinkRatio,
                          long seed, List<String> lines) {
        return new SftDataset(SftDataset.index(write(file, lines), false), tok, maxSeqLen, addSystemRatio, emptyThinkRatio, seed);
    }
}
