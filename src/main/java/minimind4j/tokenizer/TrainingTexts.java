package minimind4j.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The texts a tokenizer is trained on, read the way MiniMind's get_texts reads them: a .jsonl line gives its
 * {@code text}, or else the non-empty {@code content}s of its {@code conversations} joined with "\n"; a .txt (or any
 * other) file gives one text per non-blank line. Lines that are not JSON are skipped and counted, as MiniMind does.
 */
public final class TrainingTexts {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** What a read found. {@code firstSkippedLine} is 0 when no line was skipped. */
    public record Summary(long lines, long texts, long skipped, long firstSkippedLine) {}

    private TrainingTexts() {}

    public static boolean isJsonl(Path file) {
        return file.getFileName().toString().toLowerCase().endsWith(".jsonl");
    }

    /**
     * Streams the texts of {@code file} to {@code sink}, reading at most {@code maxLines} lines (all when
     * {@code maxLines <= 0}). Bytes that are not UTF-8 are dropped ({@code errors='ignore'} in MiniMind).
     */
    public static Summary read(Path file, long maxLines, Consumer<String> sink, Consumer<String> progress)
            throws IOException {
        boolean jsonl = isJsonl(file);
        long lines = 0, texts = 0, skipped = 0, firstSkipped = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(Files.newInputStream(file),
                StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.IGNORE)
                        .onUnmappableCharacter(CodingErrorAction.IGNORE)), 1 << 16)) {
            String line;
            while ((maxLines <= 0 || lines < maxLines) && (line = in.readLine()) != null) {
                lines++;
                if (lines % 100_000 == 0) progress.accept(String.format("tokenizer: read %,d lines", lines));
                if (line.isBlank()) continue;
                String text;
                if (jsonl) {
                    try {
                        text = textOf(MAPPER.readTree(line));
                    } catch (JsonProcessingException e) {
                        skipped++;
                        if (firstSkipped == 0) firstSkipped = lines;
                        continue;
                    }
                } else {
                    text = line;
                }
                if (text == null || text.isEmpty()) continue;
                sink.accept(text);
                texts++;
            }
        }
        return new Summary(lines, texts, skipped, firstSkipped);
    }

    /** The training text of one parsed jsonl record, or null when it has none. */
    public static String textOf(JsonNode record) {
        JsonNode text = record.get("text");
        if (text != null && text.isTextual()) return text.asText();
        List<String> contents = new ArrayList<>();
        for (JsonNode turn : record.path("conversations")) {
            JsonNode content = turn.get("content");
            if (content != null && content.isTextual() && !content.asText().isEmpty()) contents.add(content.asText());
        }
        return contents.isEmpty() ? null : String.join("\n", contents);
    }
}
