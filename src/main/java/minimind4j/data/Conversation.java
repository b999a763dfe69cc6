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

    /** Parses one JSONL line. */
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
        List<Map<String, Object>> messages;
        if (obj.get("conversations") instanceof List<?> conv) {
            messages = conv.stream().anyMatch(m -> m instanceof Map<?, ?> mm && mm.containsKey("from") && !mm.containsKey("role"))
                    ? fromShareGpt(conv) : fromMessages(conv, "conversations");
        } else if (obj.get("messages") instanceof List<?> msgs) {
            messages = fromMessages(msgs, "messages");
        } else if (obj.containsKey("instruction") || obj.containsKey("output")) {
            messages = fromAlpaca(obj);
        } else {
            throw new Invalid("no \"conversations\" list (also accepted: \"messages\", ShareGPT, Alpaca instruction/output)");
        }
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
            if (m.get("tool_calls") instanceof String s) m.put("tool_calls", parseJson(s, "tool_calls of message " + (i + 1)));
        }
        if (!hasAssistant) throw new Invalid("no assistant turn: nothing to learn from this conversation");
        List<Object> tools = null;
        Map<String, Object> first = messages.get(0);
        if ("system".equals(first.get("role"))) {
            Object t = first.get("tools") != null ? first.get("tools") : first.get("functions");
            if (t instanceof String s) t = s.isBlank() ? null : parseJson(s, "tools of the system message");
            if (t != null) {
                if (!(t instanceof List<?> list)) throw new Invalid("tools of the system message must be a list");
                tools = (List<Object>) list;
            }
        }
        return new Conversation(messages, tools);
    }

    /** True when any message carries tools: MiniMind keeps such tool-use samples exactly as given. */
    public boolean hasTools() {
        if (tools != null) return true;
        for (Map<String, Object> m : messages) {
            Object t = m.get("tools");
            if (t != null && !(t instanceof String s && s.isBlank())) return true;
        }
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

    private static Object parseJson(String s, String what) throws Invalid {
        try {
            return JSON.readValue(s, Object.class);
        } catch (JsonProcessingException e) {
            throw new Invalid(what + " is a string that is not valid JSON");
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> fromMessages(List<?> list, String field) throws Invalid {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> m)) throw new Invalid(field + "[" + i + "] is not an object");
            out.add(new LinkedHashMap<>((Map<String, Object>) m));
        }
        return out;
    }

    private static List<Map<String, Object>> fromShareGpt(List<?> list) throws Invalid {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> m)) throw new Invalid("conversations[" + i + "] is not an object");
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
