package minimind4j.data.formats;

import minimind4j.data.formats.Conversation.Invalid;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's chat format, {@code {"messages": [...], "tools": [...]}} (also TRL's conversational format and
 * LLaMA-Factory's v1 format with content parts): {@code developer} is the system role, {@code function} (legacy) the
 * tool role, a legacy {@code function_call} is a tool call, {@code weight: 0} leaves a reply unsupervised. Tools come
 * from the top-level {@code tools} (or {@code functions}), else from a system message as in MiniMind's format.
 */
public final class OpenAiFormat {
    private OpenAiFormat() {}

    static Conversation convert(Map<String, Object> record) throws Invalid {
        if (!(record.get("messages") instanceof List<?> list))
            throw new Invalid("not an OpenAI record (no \"messages\" list of {\"role\", \"content\"})");
        return fromList(list, record);
    }

    /** Messages in OpenAI's shape; {@code record} supplies the top-level tools (may be null). */
    static Conversation fromList(List<?> messages, Map<String, Object> record) throws Invalid {
        List<Turn> turns = new ArrayList<>(messages.size());
        List<Object> tools = null;
        if (record != null) {
            String key = Fields.isPresent(record.get("tools")) ? "tools" : "functions";
            tools = Fields.toolList(record.get(key), "the record", key);
        }
        for (int i = 0; i < messages.size(); i++) {
            if (!(messages.get(i) instanceof Map<?, ?> m)) throw new Invalid(Fields.where(i) + " is not a JSON object");
            Object role = m.get("role");
            if ("developer".equals(role)) role = "system";
            if ("function".equals(role)) role = "tool";
            Turn t = MiniMindFormat.turn(m, i, role);
            if (m.get("function_call") instanceof Map<?, ?> legacy) {
                List<Turn.ToolCall> calls = new ArrayList<>(t.toolCalls());
                calls.addAll(Fields.toolCalls(legacy, Fields.where(i)));
                t = new Turn(t.role(), t.content(), t.reasoning(), calls, t.supervised());
            }
            if (t.role().equals("system") && tools == null) {
                String key = Fields.isPresent(m.get("tools")) ? "tools" : "functions";
                tools = Fields.toolList(m.get(key), Fields.where(i), key);
            }
            turns.add(t);
        }
        return new Conversation(turns, tools);
    }
}
