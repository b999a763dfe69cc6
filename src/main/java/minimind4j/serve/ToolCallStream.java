package minimind4j.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * For streamed replies to requests with tools, OpenAI's streaming semantics: text inside
 * {@code <tool_call>…</tool_call>} never reaches {@code content}; each span, once closed, becomes one
 * {@code tool_calls} delta (a fresh {@code call_} id, its index among this reply's calls). Text that could be the start
 * of the opening tag is held back until the next piece says whether it is. A span that is not a JSON object, or one
 * still open when the reply ends, was not a tool call after all and is released as content, as written.
 */
final class ToolCallStream {
    private static final String OPEN = "<tool_call>";
    private static final String CLOSE = "</tool_call>";

    /** What one piece adds: content text (maybe empty) and the tool calls completed in it (maybe none). */
    record Delta(String content, List<Map<String, Object>> calls) {}

    private final StringBuilder pending = new StringBuilder();
    private boolean inside;
    private int calls;

    Delta accept(String piece) {
        pending.append(piece);
        StringBuilder content = new StringBuilder();
        List<Map<String, Object>> done = new ArrayList<>();
        while (true) {
            if (!inside) {
                int at = pending.indexOf(OPEN);
                if (at < 0) {
                    int release = pending.length() - partialOpenSuffix();
                    content.append(pending, 0, release);
                    pending.delete(0, release);
                    break;
                }
                content.append(pending, 0, at);
                pending.delete(0, at + OPEN.length());
                inside = true;
            } else {
                int end = pending.indexOf(CLOSE);
                if (end < 0) break;
                String span = pending.substring(0, end);
                pending.delete(0, end + CLOSE.length());
                inside = false;
                Map<String, Object> call = AssistantReply.toolCall(span, AssistantReply.newCallId());
                if (call == null) content.append(OPEN).append(span).append(CLOSE);
                else {
                    call.put("index", calls++);
                    done.add(call);
                }
            }
        }
        return new Delta(content.toString(), done);
    }

    /** The end of the reply: whatever is held back is content. */
    String finish() {
        String rest = (inside ? OPEN : "") + pending;
        pending.setLength(0);
        inside = false;
        return rest;
    }

    /** Tool calls streamed so far. */
    int calls() { return calls; }

    private int partialOpenSuffix() {
        for (int k = Math.min(OPEN.length() - 1, pending.length()); k > 0; k--) {
            if (pending.substring(pending.length() - k).equals(OPEN.substring(0, k))) return k;
        }
        return 0;
    }
}
