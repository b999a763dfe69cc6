package minimind4j.data.formats;

import minimind4j.data.formats.Conversation.Invalid;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * MiniMind's own format, {@code {"conversations": [{"role", "content"}, ...]}}, as its SFTDataset reads it: a system
 * message's {@code tools} (MiniMind2: {@code functions}) are the tools offered, {@code tools} and {@code tool_calls}
 * may be JSON strings, replies may carry {@code reasoning_content}.
 */
public final class MiniMindFormat {
    private MiniMindFormat() {}

    static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

    static Conversation convert(Map<String, Object> record) throws Invalid {
        if (!(record.get("conversations") instanceof List<?> list))
            throw new Invalid("not a MiniMind record (no \"conversations\" list of {\"role\", \"content\"})");
        return fromList(list);
    }

    public static Conversation fromList(List<?> messages) throws Invalid {
        List<Turn> turns = new ArrayList<>(messages.size());
        List<Object> tools = null;
        for (int i = 0; i < messages.size(); i++) {
            if (!(messages.get(i) instanceof Map<?, ?> m)) throw new Invalid(Fields.where(i) + " is not a JSON object");
            Turn t = turn(m, i, m.get("role"));
            if (t.role().equals("system") && tools == null) {
                String key = Fields.isPresent(m.get("tools")) ? "tools" : "functions";
                tools = Fields.toolList(m.get(key), Fields.where(i), key);
            }
            turns.add(t);
        }
        return new Conversation(turns, tools);
    }

    /** One {role, content, ...} message; {@code role} already mapped to ours by the caller's format. */
    static Turn turn(Map<?, ?> m, int i, Object role) throws Invalid {
        String where = Fields.where(i);
        if (!(role instanceof String r) || !ROLES.contains(r))
            throw new Invalid(where + " has unknown role " + Fields.jsonOf(role) + " (expected system, user, assistant or tool)");
        StringBuilder partsReasoning = new StringBuilder();
        List<Turn.ToolCall> calls = new ArrayList<>(Fields.toolCalls(m.get("tool_calls"), where));
        String content = Fields.text(m.get("content"), where, partsReasoning, calls);
        if (content == null && calls.isEmpty()) throw new Invalid(where + " has no content");
        String reasoning = Fields.reasoningField(m, where);
        if (reasoning == null && !partsReasoning.isEmpty()) reasoning = partsReasoning.toString();
        if (!r.equals("assistant") && !calls.isEmpty()) throw new Invalid(where + ": only assistant turns can make tool calls");
        return new Turn(r, content == null ? "" : content, reasoning, calls, Fields.supervised(m, where));
    }
}
