package minimind4j.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.UserError;
import minimind4j.gguf.GgufWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A byte-level BPE {@code tokenizer.json} as llama.cpp's {@code gpt2} tokenizer: every id's token text (byte-level
 * symbols, as in the vocab), its type, the merges as "left right", the special ids, nothing added at BOS or EOS.
 * Added tokens marked special, or that look special ({@code <|...|>}), are CONTROL; other added tokens (minimind-3's
 * {@code <think>}, {@code <tool_call>}) are USER_DEFINED, matched whole in text as transformers does; as
 * convert_hf_to_gguf.py decides. Ids the model has beyond the tokenizer's are UNUSED {@code [PAD{id}]} tokens.
 */
public final class GgufVocab {
    private GgufVocab() {}

    // llama.cpp's llama_token_type
    static final int NORMAL = 1, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5;

    /**
     * The pre-tokenizer llama.cpp applies before BPE. MiniMind's tokenizer.json has a ByteLevel pre-tokenizer with
     * use_regex: GPT-2's split pattern, which llama.cpp's "gpt2" type applies; measured against the alternatives in
     * GgufLlamaCppTest (qwen2 and llama-bpe split digits and punctuation otherwise).
     */
    public static final String PRE = "gpt-2";

    public static void write(GgufWriter g, Path tokenizerJson, int modelVocab, int bos, int eos, int pad, String chatTemplate, String pre) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(tokenizerJson.toFile());
        } catch (IOException e) {
            throw new UserError(tokenizerJson + ": not readable (" + e.getMessage() + ")");
        }
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText()))
            throw new UserError(tokenizerJson + ": GGUF export needs a BPE tokenizer, this one is " + model.path("type").asText("?"));
        String[] tokens = new String[modelVocab];
        int[] types = new int[modelVocab];
        for (Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            put(tokenizerJson, tokens, types, e.getValue().asInt(), e.getKey(), NORMAL);
        }
        for (JsonNode t : root.path("added_tokens")) {
            String content = t.path("content").asText();
            boolean control = t.path("special").asBoolean(false) || (content.startsWith("<|") && content.endsWith("|>"));
            put(tokenizerJson, tokens, types, t.path("id").asInt(), content, control ? CONTROL : USER_DEFINED);
        }
        for (int i = 0; i < modelVocab; i++) {
            if (tokens[i] == null) {
                tokens[i] = "[PAD" + i + "]";
                types[i] = UNUSED;
            }
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        g.putString("tokenizer.ggml.model", "gpt2");
        g.putString("tokenizer.ggml.pre", pre);
        g.putStrings("tokenizer.ggml.tokens", Arrays.asList(tokens));
        g.putInt32s("tokenizer.ggml.token_type", types);
        g.putStrings("tokenizer.ggml.merges", merges);
        g.putUint32("tokenizer.ggml.bos_token_id", bos);
        g.putUint32("tokenizer.ggml.eos_token_id", eos);
        g.putUint32("tokenizer.ggml.padding_token_id", pad);
        g.putBool("tokenizer.ggml.add_bos_token", false);
        g.putBool("tokenizer.ggml.add_eos_token", false);
        if (chatTemplate != null) g.putString("tokenizer.chat_template", chatTemplate);
    }

    private static void put(Path file, String[] tokens, int[] types, int id, String text, int type) {
        if (id < 0 || id >= tokens.length)
            throw new UserError(file + ": token id " + id + " (" + text + ") is beyond the model's vocab_size " + tokens.length);
        tokens[id] = text;
        types[id] = type;
    }
}
