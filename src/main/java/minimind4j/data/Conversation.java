package minimind4j.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One chat sample in the shape the chat template takes: messages (role, content and any other fields such as
 * tool_calls or reasoning_content) and the tools offered. Parses the formats users bring: MiniMind's
 * {@code {"conversations":[{"role","content"}]}}, OpenAI's {@code {"messages":[...]}}, ShareGPT
 * ({@code {"conversations":[{"from","value"}]}}) and Alpaca ({@code instruction/input/output}, optional
 * {@code system} and {@code history}).
 *
 * @param tools null when no system message offers tools
 */
public record Conversation(List<Map<String, Object>> messages, List<Object> tools) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");
    private static final Map<String, String> SHAREGPT_ROLES = Map.of(
            "human", "user", "user", "user", "gpt", "assistant", "assistant", "assistant", "chatgpt", "assistant",
            "system", "system", "function_call", "assistant", "observation", "tool", "tool", "tool");

    /** A line that cannot become a conversation; the message says why in a few words. */
    public static final class Invalid extends Exception {
        public Invalid(String message) { super(message, null, false, false); }
    }

    /** Parses one JSONL line in any accepted format and checks that it can be trained on. */
    @SuppressWarnings("unchecked")
    public static Conversation parse(String line) throws Invalid {
        Object root;
        try {
            root = JSON.readValue(line, Object.class);
        } catch (JsonProcessingException e) {
            throw new Invalid("not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (!(root instanceof Map)) throw new Invalid("expected a JSON object");
        Map<String, Object> obj = (Map<String, Object>) root;
        List<?> messages;
        if (obj.get("conversations") instanceof List<?> conv) {
            messages = conv.stream().anyMatch(m -> m instanceof Map<?, ?> mm && mm.containsKey("from") && !mm.containsKey("role"))
                    ? fromShareGpt(conv) : conv;
        } else if (obj.get("messages") instanceof List<?> msgs) {
            messages = msgs;
        } else if (obj.containsKey("instruction") || obj.containsKey("output")) {
            messages = fromAlpaca(obj);
        } else {
            throw new Invalid("no \"conversations\" list (also accepted: \"messages\", ShareGPT, Alpaca instruction/output)");
        }
        Conversation c = prepare(messages);
        c.checkTrainable();
        return c;
    }

    /**
     * A {@code "conversations"} list made ready for the chat template as MiniMind's
     * {@code SFTDataset.create_chat_prompt} makes it: a system message's {@code tools} (MiniMind2: {@code functions})
     * become the template's tools, and {@code tools} or {@code tool_calls} given as JSON strings are parsed. Nothing
     * else is checked: the template decides what it accepts.
     */
    public static Conversation prepare(List<?> conversations) throws Invalid {
        List<Map<String, Object>> messages = new ArrayList<>(conversations.size());
        List<Object> tools = null;
        for (int i = 0; i < conversations.size(); i++) {
            if (!(conversations.get(i) instanceof Map<?, ?> raw)) throw new Invalid("message " + (i + 1) + " is not a JSON object");
            Map<String, Object> m = new LinkedHashMap<>();
            raw.forEach((k, v) -> m.put(String.valueOf(k), v));
            if ("system".equals(m.get("role"))) {
                String key = isPresent(m.get("tools")) ? "tools" : "functions";
                if (isPresent(m.get(key))) tools = toolList(parseIfString(m.get(key), i, key), i, key);
            }
            // MiniMind parses a tool_calls string only when it is non-empty; an empty one renders as no calls
            if (m.get("tool_calls") instanceof String s && !s.isBlank()) m.put("tool_calls", parseIfString(s, i, "tool_calls"));
            messages.add(m);
        }
        return new Conversation(messages, tools == null || tools.isEmpty() ? null : tools);
    }

    /** What training needs beyond what the template needs: known roles, string contents, something to learn. */
    private void checkTrainable() throws Invalid {
        if (messages.isEmpty()) throw new Invalid("the conversation is empty");
        boolean hasAssistant = false;
        for (int i = 0; i < messages.size(); i++) {
            Map<String, Object> m = messages.get(i);
            Object role = m.get("role");
            if (!(role instanceof String r) || !ROLES.contains(r))
                throw new Invalid("message " + (i + 1) + " has unknown role " + JSON.valueToTree(role) + " (expected system, user, assistant or tool)");
            Object content = m.get("content");
            if (content != null && !(content instanceof String))
                throw new Invalid("message " + (i + 1) + ": content must be a string");
            if (content == null && !m.containsKey("tool_calls"))
                throw new Invalid("message " + (i + 1) + " has no content");
            if (r.equals("assistant")) hasAssistant = true;
        }
        if (!hasAssistant) throw new Invalid("no assistant turn: nothing to learn from this conversation");
    }

    /** True when any message carries tools: MiniMind keeps such tool-use samples exactly as given. */
    public boolean hasTools() {
        if (tools != null) return true;
        for (Map<String, Object> m : messages) if (isPresent(m.get("tools"))) return true;
        return false;
    }

    public Conversation withSystem(String prompt) {
        List<Map<String, Object>> m = new ArrayList<>(messages.size() + 1);
        Map<String, Object> sys = new LinkedHashMap<>();
        sys.put("role", "system");
        sys.put("content", prompt);
        m.add(sys);
        m.addAll(messages);
        return new Conversation(m, tools);
    }

    /** Python truthiness, as MiniMind's {@code if message.get("tools")} tests it. */
    private static boolean isPresent(Object v) {
        if (v == null) return false;
        if (v instanceof String s) return !s.isBlank();
        if (v instanceof List<?> l) return !l.isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        return true;
    }

    private static Object parseIfString(Object value, int index, String key) throws Invalid {
        if (!(value instanceof String s)) return value;
        try {
            return JSON.readValue(s, Object.class);
        } catch (JsonProcessingException e) {
            throw new Invalid("message " + (index + 1) + ": \"" + key + "\" is a string but not valid JSON (" + e.getOriginalMessage() + ")");
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Object> toolList(Object value, int index, String key) throws Invalid {
        if (value instanceof List<?> l) return (List<Object>) l;
        throw new Invalid("message " + (index + 1) + ": \"" + key + "\" must be a JSON array of tool schemas");
    }

    private static List<Map<String, Object>> fromShareGpt(List<?> list) throws Invalid {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> m)) throw new Invalid("message " + (i + 1) + " is not a JSON object");
            Object from = m.get("from");
            String role = from instanceof String f ? SHAREGPT_ROLES.get(f) : null;
            if (role == null) throw new Invalid("message " + (i + 1) + " has unknown ShareGPT speaker " + JSON.valueToTree(from) + " (expected human, gpt, system, observation)");
            out.add(message(role, m.get("value")));
        }
        return out;
    }

    private static List<Map<String, Object>> fromAlpaca(Map<String, Object> o) throws Invalid {
        List<Map<String, Object>> out = new ArrayList<>();
        if (o.get("system") instanceof String s && !s.isEmpty()) out.add(message("system", s));
        if (o.get("history") instanceof List<?> h) {
            for (Object turn : h) {
                if (!(turn instanceof List<?> pair) || pair.size() != 2) throw new Invalid("history must be a list of [question, answer] pairs");
                out.add(message("user", pair.get(0)));
                out.add(message("assistant", pair.get(1)));
            }
        }
        Object instruction = o.get("instruction"), input = o.get("input"), output = o.get("output");
        if (!(instruction instanceof String ins)) throw new Invalid("Alpaca line without an \"instruction\" string");
        if (!(output instanceof String)) throw new Invalid("Alpaca line without an \"output\" string");
        // Alpaca's own prompt puts the input below the instruction; LLaMA-Factory joins them with one newline too
        String user = input instanceof String in && !in.isEmpty() ? ins + "\n" + in : ins;
        out.add(message("user", user));
        out.add(message("assistant", output));
        return out;
    }

    private static Map<String, Object> message(String role, Object content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }
}
