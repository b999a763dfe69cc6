package minimind4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.cli.UserError;
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
        return JsonlIndex.build(path, line -> {
            try {
                JsonNode n = JSON.readTree(line);
                if (!n.isObject()) return "expected a JSON object";
                if (!n.has("text")) return "no \"text\" field";
                return null;
            } catch (Exception e) {
                return "not valid JSON";
            }
        }, strict);
    }

    @Override
    public int size() { return index.size(); }

    @Override
    public int padId() { return tokenizer.padId(); }

    @Override
    public Sample get(int i, int epoch) {
        String text;
        try {
            JsonNode t = JSON.readTree(index.line(i)).get("text");
            // MiniMind tokenizes str(sample['text'])
            text = t.isTextual() ? t.asText() : t.toString();
        } catch (Exception e) {
            throw new UserError(index.path() + ":" + index.lineNumber(i) + ": not valid JSON");
        }
        int[] body = tokenizer.encode(text);
        int n = Math.min(body.length, Math.max(0, maxSeqLen - 2));
        int[] ids = new int[n + 2];
        ids[0] = tokenizer.bosId();
        System.arraycopy(body, 0, ids, 1, n);
        ids[n + 1] = tokenizer.eosId();
        int[] labels = Arrays.copyOf(ids, ids.length);
        for (int k = 0; k < labels.length; k++) if (ids[k] == tokenizer.padId()) labels[k] = LossMask.IGNORE;
        return new Sample(i, text, ids, labels);
    }

    @Override
    public void close() { index.close(); }
}
