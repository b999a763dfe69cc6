package minimind4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The bytes each token id stands for, read from tokenizer.json alone: vocabulary entries are spelled in GPT-2's
 * byte-level alphabet (each byte shown as one printable character), added tokens are their own UTF-8 text. Used to
 * place tokens in the rendered text without the code under test (no LossMask, no decode).
 */
final class TokenBytes {
    private final Map<Integer, byte[]> bytes = new HashMap<>();

    private TokenBytes() {}

    static TokenBytes load(Path tokenizerDir) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(tokenizerDir.resolve("tokenizer.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<Integer, Integer> charToByte = gpt2CharToByte();
        TokenBytes t = new TokenBytes();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.path("model").path("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            boolean byteLevel = e.getKey().codePoints().allMatch(charToByte::containsKey);
            // an entry outside the byte alphabet can only be an added token, spelled below
            if (!byteLevel) continue;
            e.getKey().codePoints().forEach(cp -> b.write(charToByte.get(cp)));
            t.bytes.put(e.getValue().asInt(), b.toByteArray());
        }
        for (JsonNode added : root.path("added_tokens"))
            t.bytes.put(added.path("id").asInt(), added.path("content").asText().getBytes(StandardCharsets.UTF_8));
        return t;
    }

    /** GPT-2's bytes_to_unicode, inverted: printable bytes stand for themselves, the others for 256, 257, ... */
    private static Map<Integer, Integer> gpt2CharToByte() {
        Map<Integer, Integer> m = new HashMap<>();
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            m.put(printable ? b : next++, b);
        }
        return m;
    }

    byte[] of(int id) {
        byte[] b = bytes.get(id);
        if (b == null) throw new IllegalArgumentException("id " + id + " is not in tokenizer.json");
        return b;
    }

    /** Byte offset where each token starts, plus the end of the last one: {@code ids.length + 1} entries. */
    int[] starts(int[] ids) {
        int[] at = new int[ids.length + 1];
        for (int k = 0; k < ids.length; k++) at[k + 1] = at[k] + of(ids[k]).length;
        return at;
    }

    /** The bytes of a token sequence. */
    byte[] concat(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) out.writeBytes(of(id));
        return out.toByteArray();
    }
}
