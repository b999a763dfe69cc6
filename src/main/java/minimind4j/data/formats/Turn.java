package minimind4j.data.formats;

import java.util.List;

/**
 * One message of a canonical conversation.
 *
 * @param role       system, user, assistant or tool
 * @param content    the text (parts already joined); "" when a reply is only tool calls
 * @param reasoning  the reply's thinking (MiniMind's {@code reasoning_content}), or null
 * @param toolCalls  the functions an assistant turn calls; empty for none
 * @param supervised whether the loss covers this reply (only assistant turns are ever supervised)
 */
public record Turn(String role, String content, String reasoning, List<ToolCall> toolCalls, boolean supervised) {
    public Turn {
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
        if (!role.equals("assistant")) supervised = false;
    }

    public static Turn of(String role, String content) {
        return new Turn(role, content, null, List.of(), role.equals("assistant"));
    }

    /**
     * A function call. {@code arguments} is what the data gave: a JSON object (rendered with tojson) or a string
     * (rendered as it is, as OpenAI's {@code "arguments": "{...}"} renders through the template).
     */
    public record ToolCall(String name, Object arguments) {}
}
