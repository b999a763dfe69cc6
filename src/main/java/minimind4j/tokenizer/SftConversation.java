package minimind4j.tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * One {@code "conversations"} list of an SFT jsonl line, prepared for the chat template as MiniMind's
 * {@code SFTDataset.create_chat_prompt} prepares it: a system message's {@code tools} (or {@code functions}) become
 * the template's tools, parsed when given as a JSON string; an assistant's {@code tool_calls} given as a JSON string
 * is parsed. Messages are otherwise passed through unchanged.
 *
 * @param tools null when no system message carries tools
 */
public record SftConversation(List<Map<String, Object>> messages, List<Object> tools) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param conversations the parsed {@code "conversations"} value
     * @throws IllegalArgumentException naming the message when its shape or embedded JSON is wrong
     */
    public static SftConversation fromDataset(Object conversations) {
        if (!(conversations instanceof List<?> list)) {
            throw new IllegalArgumentException("\"conversations\" must be a list of {\"role\", \"content\"} objects");
        }
        List<Map<String, Object>> messages = new ArrayList<>();
        List<Object> tools = null;
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> raw)) {
                throw new IllegalArgumentException("message " + i + " is not a JSON object");
            }
            Map<String, Object> message = new LinkedHashMap<>();
            raw.forEach((k, v) -> message.put(String.valueOf(k), v));
            if ("system".equals(message.get("role"))) {
                for (String key : List.of("tools", "functions")) {
                    Object value = message.get(key);
                    if (isTruthy(value)) tools = toolList(parseIfString(value, i, key), i, key);
                }
            }
            Object toolCalls = message.get("tool_calls");
            if (toolCalls instanceof String s && !s.isEmpty()) message.put("tool_calls", parseIfString(s, i, "tool_calls"));
            messages.add(message);
        }
        return new SftConversation(messages, tools);
    }

    private static boolean isTruthy(Object v) {
        if (v == null) return false;
        if (v instanceof String s) return !s.isEmpty();
        if (v instanceof List<?> l) return !l.isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        return true;
    }

    private static Object parseIfString(Object value, int index, String key) {
        if (!(value instanceof String s)) return value;
        try {
            return JSON.readValue(s, Object.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("message " + index + ": \"" + key + "\" is a string but not valid JSON ("
                    + e.getOriginalMessage() + ")");
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Object> toolList(Object value, int index, String key) {
        if (value instanceof List<?> l) return (List<Object>) l;
        throw new IllegalArgumentException("message " + index + ": \"" + key + "\" must be a JSON array of tool schemas");
    }
}
