package minimind4j.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What {@code tokenizer_config.json} says about special tokens and the chat template, and the variables
 * transformers' {@code apply_chat_template} hands the template.
 *
 * @param chatTemplate the "default" template source, or null when the file has none
 */
public record TokenizerConfig(String bosToken, String eosToken, String padToken, String unkToken,
                              List<String> additionalSpecialTokens, String chatTemplate) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public TokenizerConfig {
        additionalSpecialTokens = List.copyOf(additionalSpecialTokens);
    }

    /** Where transformers 4.43 and later save the chat template, beside tokenizer_config.json (which then has none). */
    public static final String CHAT_TEMPLATE_JINJA = "chat_template.jinja";

    /**
     * The file the chat template comes from: {@code chat_template.jinja} beside {@code tokenizer_config.json} when
     * present (it wins, as in transformers), else tokenizer_config.json itself.
     */
    public static Path templateSource(Path tokenizerConfig) {
        Path jinja = tokenizerConfig.resolveSibling(CHAT_TEMPLATE_JINJA);
        return Files.isRegularFile(jinja) ? jinja : tokenizerConfig;
    }

    /**
     * Reads {@code tokenizer_config.json}; special tokens may be strings or AddedToken objects {@code {"content":...}}.
     * The chat template is {@code chat_template.jinja}'s text when that file is beside it (transformers' layout since
     * 4.43), else the file's own chat_template.
     */
    public static TokenizerConfig read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ":" + e.getLocation().getLineNr() + ": not valid JSON ("
                    + e.getOriginalMessage() + "); restore the file from the model repository", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": expected a JSON object; restore the file from the model repository");
        }
        List<String> additional = new ArrayList<>();
        JsonNode extra = root.path("additional_special_tokens");
        if (extra.isArray()) {
            for (JsonNode t : extra) {
                String content = tokenContent(t);
                if (content != null) additional.add(content);
            }
        }
        String template;
        Path source = templateSource(file);
        if (!source.equals(file)) {
            try {
                template = Files.readString(source);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + source + ": " + e.getMessage(), e);
            }
        } else {
            template = chatTemplate(file, root.get("chat_template"));
        }
        return new TokenizerConfig(tokenContent(root.get("bos_token")), tokenContent(root.get("eos_token")),
                tokenContent(root.get("pad_token")), tokenContent(root.get("unk_token")), additional, template);
    }

    private static String tokenContent(JsonNode token) {
        if (token == null || token.isNull()) return null;
        if (token.isTextual()) return token.asText();
        JsonNode content = token.get("content");
        return content != null && content.isTextual() ? content.asText() : null;
    }

    /** A string, or (newer tokenizers) a list of {name, template} of which "default" is the chat template. */
    private static String chatTemplate(Path file, JsonNode node) {
        if (node == null || node.isNull()) return null;
        if (node.isTextual()) return node.asText();
        if (node.isArray()) {
            for (JsonNode t : node) {
                if ("default".equals(t.path("name").asText(null)) && t.path("template").isTextual()) {
                    return t.get("template").asText();
                }
            }
            return null;
        }
        throw new IllegalArgumentException(file + ": chat_template must be a string or a list of {name, template}");
    }

    /**
     * The variables transformers renders a chat template with: messages, tools (None when absent), documents
     * (None), add_generation_prompt, the special tokens that are set (as in {@code special_tokens_map}), then the
     * caller's extra variables such as {@code enable_thinking}, which override the rest.
     */
    public Map<String, Object> chatContext(List<? extends Map<String, ?>> messages, List<?> tools,
                                           boolean addGenerationPrompt, Map<String, ?> extraVars) {
        Map<String, Object> context = new LinkedHashMap<>();
        context.put("messages", messages);
        context.put("tools", tools);
        context.put("documents", null);
        context.put("add_generation_prompt", addGenerationPrompt);
        putIfSet(context, "bos_token", bosToken);
        putIfSet(context, "eos_token", eosToken);
        putIfSet(context, "unk_token", unkToken);
        putIfSet(context, "pad_token", padToken);
        if (!additionalSpecialTokens.isEmpty()) context.put("additional_special_tokens", additionalSpecialTokens);
        if (extraVars != null) context.putAll(extraVars);
        return context;
    }

    private static void putIfSet(Map<String, Object> context, String key, String value) {
        if (value != null && !value.isEmpty()) context.put(key, value);
    }
}
