package minimind4j.data.formats;

import minimind4j.data.formats.Conversation.Invalid;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ShareGPT, as LLaMA-Factory's sharegpt converter reads it: {@code {"conversations": [{"from", "value"}], "system",
 * "tools"}} with speakers human, gpt, system, function_call (the assistant calling a tool; the value is the call's
 * JSON) and observation (the tool's answer). {@code tools} is usually a JSON string of bare function schemas; each is
 * wrapped as {@code {"type": "function", "function": ...}}, as LLaMA-Factory's Qwen tool formatter does, which is
 * also the shape the served API passes on.
 */
public final class ShareGptFormat {
    private ShareGptFormat() {}

    private static final Map<String, String> SPEAKERS = Map.of(
            "human", "user", "user", "user", "gpt", "assistant", "assistant", "assistant", "chatgpt", "assistant",
            "system", "system", "function_call", "assistant", "observation", "tool", "tool", "tool", "function", "tool");

    static Conversation convert(Map<String, Object> record) throws Invalid {
        Object list = record.containsKey("conversations") ? record.get("conversations") : record.get("messages");
        if (!(list instanceof List<?> messages))
            throw new Invalid("not a ShareGPT record (no \"conversations\" list of {\"from\", \"value\"})");
        List<Turn> turns = new ArrayList<>();
        if (record.get("system") instanceof String s && !s.isEmpty()) turns.add(Turn.of("system", Fields.text(s, "\"system\"", null, null)));
        for (int i = 0; i < messages.size(); i++) {
            String where = Fields.where(i);
            if (!(messages.get(i) instanceof Map<?, ?> m)) throw new Invalid(where + " is not a JSON object");
            Object from = m.get("from");
            String role = from instanceof String f ? SPEAKERS.get(f) : null;
            if (role == null)
                throw new Invalid(where + " has unknown ShareGPT speaker " + Fields.jsonOf(from) + " (expected human, gpt, system, function_call, observation)");
            boolean supervised = Fields.supervised(m, where);
            if ("function_call".equals(from)) {
                turns.add(new Turn("assistant", "", null, Fields.toolCalls(m.get("value"), where), supervised));
                continue;
            }
            String text = Fields.text(m.get("value"), where, null, null);
            if (text == null) throw new Invalid(where + " has no \"value\"");
            turns.add(new Turn(role, text, null, List.of(), supervised));
        }
        List<Object> tools = Fields.toolList(record.get("tools"), "the record", "tools");
        if (tools != null) {
            List<Object> wrapped = new ArrayList<>(tools.size());
            for (Object t : tools) wrapped.add(t instanceof Map<?, ?> m && !"function".equals(m.get("type")) ? function(m) : t);
            tools = wrapped;
        }
        return new Conversation(turns, tools);
    }

    private static Map<String, Object> function(Map<?, ?> schema) {
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("type", "function");
        w.put("function", schema);
        return w;
    }
}
