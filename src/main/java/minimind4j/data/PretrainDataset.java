package minimind4j.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.UserError;
import minimind4j.tokenizer.MiniMindTokenizer;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * MiniMind's PretrainDataset: {@code {"text": ...}} lines become {@code [bos] + tokens[:max_len-2] + [eos]};
 * labels are the ids, with pad-id positions ignored.
 */
public final class PretrainDataset implements TokenDataset {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JsonlIndex index;
    private final MiniMindTokenizer tokenizer;
    private final int maxSeqLen;

    public PretrainDataset(JsonlIndex index, MiniMindTokenizer tokenizer, int maxSeqLen) {
        this.index = index;
        this.tokenizer = tokenizer;
        this.maxSeqLen = maxSeqLen;
    }

    public static JsonlIndex index(Path path, boolean strict) {
        return index(java.util.List.of(path), strict);
    }

    public static JsonlIndex index(java.util.List<Path> paths, boolean strict) {
        return JsonlIndex.build(paths, line -> {
            try {
                JsonNode n = JSON.readTree(line);
                if (!n.isObject()) return "expected a JSON object";
                if (!n.has("text")) return "no \"text\" field";
                // MiniMind would train on str(None) and the like; a non-string text is a mistake in the data
                if (!n.get("text").isTextual()) return "\"text\" is not a string";
                return null;
            } catch (JsonProcessingException e) {
                return "not valid JSON (" + e.getOriginalMessage() + ")";
            }
        }, strict);
    }

    @Override
    public int size() { return index.size(); }

    @Override
    public int padId() { return tokenizer.padId(); }

    @Override
    public JsonlIndex index() { return index; }

    @Override
    public Sample get(int i, int epoch) {
        String text;
        try {
            text = JSON.readTree(index.line(i)).get("text").asText();
        } catch (JsonProcessingException e) {
            throw new UserError(index.location(i) + ": not valid JSON (the file changed since it was indexed?)");
        }
        int[] body = tokenizer.encode(text);
        int n = Math.min(body.length, Math.max(0, maxSeqLen - 2));
        int[] ids = new int[n + 2];
        ids[0] = tokenizer.bosId();
        System.arraycopy(body, 0, ids, 1, n);
        ids[n + 1] = tokenizer.eosId();
        int[] labels = Arrays.copyOf(ids, ids.length);
        for (int k = 0; k < labels.length; k++) if (ids[k] == tokenizer.padId()) labels[k] = LossMask.IGNORE;
        return new Sample(i, text, ids, labels, body.length + 2);
    }

    @Override
    public void close() { index.close(); }
}
