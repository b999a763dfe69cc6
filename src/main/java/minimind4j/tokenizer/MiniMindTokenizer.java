package minimind4j.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import minimind4j.tokenizer.jinja.TemplateException;

/**
 * MiniMind's tokenizer: the Hugging Face {@code tokenizer.json} run by the Rust tokenizers library (through DJL), plus
 * {@code tokenizer_config.json}'s special tokens and chat template, rendered as transformers renders it.
 *
 * <p>Text is encoded as {@code tokenizer(text, add_special_tokens=False)} encodes it in Python: nothing is added,
 * truncated or padded (DJL would otherwise cut at 512 tokens).
 *
 * <p>Thread safety: {@link #encode}, {@link #decode} and {@link #applyChatTemplate} may be called from several threads
 * at once: DJL hands every call the same native Rust {@code Tokenizer}, whose encode and decode only read it, and
 * the chat template is immutable. {@link #close()} must not run concurrently with them.
 */
public final class MiniMindTokenizer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer tokenizer;
    private final TokenizerConfig config;
    private final ChatTemplate chatTemplate;
    private final Map<String, Integer> vocabulary;
    private final int vocabSize;

    private MiniMindTokenizer(HuggingFaceTokenizer tokenizer, TokenizerConfig config, ChatTemplate chatTemplate,
                              Map<String, Integer> vocabulary) {
        this.tokenizer = tokenizer;
        this.config = config;
        this.chatTemplate = chatTemplate;
        this.vocabulary = vocabulary;
        this.vocabSize = vocabulary.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    }

    /**
     * Loads {@code dir/tokenizer.json} and {@code dir/tokenizer_config.json}.
     *
     * @throws minimind4j.UserError when a file is missing, malformed or unreadable, or the chat template does not
     *                                   parse (one line naming the file and what to do)
     */
    public static MiniMindTokenizer load(Path dir) {
        try {
            return loadChecked(dir);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new minimind4j.UserError("--tokenizer_path " + e.getMessage(), e);
        }
    }

    private static MiniMindTokenizer loadChecked(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + ": not a directory; pass the folder holding tokenizer.json"
                    + " and tokenizer_config.json");
        }
        Path tokenizerJson = dir.resolve("tokenizer.json");
        Path configJson = dir.resolve("tokenizer_config.json");
        for (Path required : List.of(tokenizerJson, configJson)) {
            if (!Files.isRegularFile(required)) {
                throw new IllegalArgumentException(required + ": missing; copy it from the model repository (e.g."
                        + " MiniMind's model/ folder)");
            }
        }
        TokenizerConfig config = TokenizerConfig.read(configJson);
        ChatTemplate template = null;
        if (config.chatTemplate() != null) {
            try {
                template = ChatTemplate.compile(config.chatTemplate());
            } catch (TemplateException e) {
                Path source = TokenizerConfig.templateSource(configJson);
                throw new IllegalArgumentException(source + (source.equals(configJson) ? ": chat_template: " : ": ") + e.getMessage(), e);
            }
        }
        Map<String, Integer> vocabulary = readVocabulary(tokenizerJson);
        HuggingFaceTokenizer tokenizer;
        try {
            tokenizer = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(tokenizerJson)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load " + tokenizerJson + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(tokenizerJson + ": the tokenizers library rejected it (" + e.getMessage()
                    + "); restore the file from the model repository", e);
        }
        return new MiniMindTokenizer(tokenizer, config, template, vocabulary);
    }

    /** Token string to id, from the model vocabulary and the added tokens of tokenizer.json. */
    private static Map<String, Integer> readVocabulary(Path tokenizerJson) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(tokenizerJson));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(tokenizerJson + ":" + e.getLocation().getLineNr() + ": not valid JSON ("
                    + e.getOriginalMessage() + "); restore the file from the model repository", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + tokenizerJson + ": " + e.getMessage(), e);
        }
        JsonNode vocab = root == null ? null : root.path("model").get("vocab");
        if (vocab == null || !vocab.isObject()) {
            throw new IllegalArgumentException(tokenizerJson + ": no model.vocab object; expected a Hugging Face"
                    + " tokenizer.json (BPE) such as MiniMind's model/tokenizer.json");
        }
        Map<String, Integer> ids = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            ids.put(e.getKey(), e.getValue().asInt());
        }
        for (JsonNode added : root.path("added_tokens")) {
            ids.put(added.path("content").asText(), added.path("id").asInt());
        }
        return Collections.unmodifiableMap(ids);
    }

    /** Token ids of {@code text}, special-token strings in it included as their ids, nothing added or cut. */
    public int[] encode(String text) {
        long[] ids = tokenizer.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) longs[i] = ids[i];
        return tokenizer.decode(longs, skipSpecialTokens);
    }

    /** @throws IllegalArgumentException when the token is not in the vocabulary */
    public int tokenToId(String token) {
        Integer id = vocabulary.get(token);
        if (id == null) throw new IllegalArgumentException("token " + token + " is not in the tokenizer's vocabulary");
        return id;
    }

    public String bosToken() {
        return config.bosToken();
    }

    public String eosToken() {
        return config.eosToken();
    }

    public String padToken() {
        return config.padToken();
    }

    public int bosId() {
        return specialId(config.bosToken(), "bos_token");
    }

    public int eosId() {
        return specialId(config.eosToken(), "eos_token");
    }

    public int padId() {
        return specialId(config.padToken(), "pad_token");
    }

    private int specialId(String token, String field) {
        if (token == null) throw new IllegalStateException("tokenizer_config.json sets no " + field);
        return tokenToId(token);
    }

    /** Number of ids, as Python's {@code len(tokenizer)}: the vocabulary plus added tokens beyond it. */
    public int vocabSize() {
        return vocabSize;
    }

    public TokenizerConfig config() {
        return config;
    }

    /** The chat template (chat_template.jinja, else tokenizer_config.json's). @throws IllegalStateException when there is none */
    public ChatTemplate chatTemplate() {
        if (chatTemplate == null) throw new IllegalStateException("tokenizer_config.json has no chat_template and there is no chat_template.jinja beside it");
        return chatTemplate;
    }

    /**
     * {@code tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=..., tokenize=False,
     * **extraVars)}: the prompt text, byte for byte as transformers renders it.
     *
     * @param messages  {role, content, ...} maps; content, tool_calls, reasoning_content as in the dataset
     * @param tools     tool schemas, or null for none
     * @param extraVars extra template variables such as {@code enable_thinking} or {@code open_thinking}; may be null
     * @throws TemplateException when the template raises (e.g. {@code raise_exception}) or the messages do not fit
     */
    public String applyChatTemplate(List<Map<String, Object>> messages, List<Object> tools, boolean addGenerationPrompt,
                                    Map<String, Object> extraVars) {
        return chatTemplate().render(config.chatContext(messages, tools, addGenerationPrompt, extraVars));
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
