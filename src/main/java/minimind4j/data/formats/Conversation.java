package minimind4j.data.formats;


import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The canonical conversation every input format in this package is converted to: turns with
 * roles system/user/assistant/tool, tool calls, reasoning and a per-turn supervision flag, plus the tools offered.
 * {@link #messages()} is the shape the chat template takes.
 *
 * @param tools null when no tools are offered
 */
public record Conversation(List<Turn> turns, List<Object> tools) {
    public Conversation {
        turns = List.copyOf(turns);
        tools = tools == null || tools.isEmpty() ? null : List.copyOf(tools);
    }

    /** A record that cannot become a conversation; the message says why in a few words. */
    public static class Invalid extends Exception {
        public Invalid(String message) { super(message, null, false, false); }
    }

    /** Parses one JSON record in any accepted format (auto-detected) and checks that it can be trained on. */
    public static Conversation parse(String json) throws Invalid {
        Conversation c = DataFormat.AUTO.parse(json);
        c.checkTrainable();
        return c;
    }

    /**
     * A MiniMind {@code "conversations"} list made ready for the chat template as MiniMind's
     * {@code SFTDataset.create_chat_prompt} makes it, without the checks training adds.
     */
    public static Conversation prepare(List<?> conversations) throws Invalid {
        return MiniMindFormat.fromList(conversations);
    }

    /** The messages as the chat template takes them: role, content, reasoning_content, tool_calls. */
    public List<Map<String, Object>> messages() {
        List<Map<String, Object>> out = new ArrayList<>(turns.size());
        for (Turn t : turns) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("role", t.role());
            m.put("content", t.content());
            if (t.reasoning() != null) m.put("reasoning_content", t.reasoning());
            if (!t.toolCalls().isEmpty()) {
                List<Object> calls = new ArrayList<>();
                for (Turn.ToolCall c : t.toolCalls()) {
                    Map<String, Object> call = new LinkedHashMap<>();
                    call.put("name", c.name());
                    call.put("arguments", c.arguments());
                    calls.add(call);
                }
                m.put("tool_calls", calls);
            }
            out.add(m);
        }
        return out;
    }

    /** Whether each assistant turn, in order, is supervised: the k-th reply span of the rendered text is the k-th. */
    public boolean[] supervisedReplies() {
        int n = 0;
        for (Turn t : turns) if (t.role().equals("assistant")) n++;
        boolean[] out = new boolean[n];
        int k = 0;
        for (Turn t : turns) if (t.role().equals("assistant")) out[k++] = t.supervised();
        return out;
    }

    /** What training needs beyond what the template needs: a reply to learn, none of them empty. */
    public void checkTrainable() throws Invalid {
        if (turns.isEmpty()) throw new Invalid("the conversation is empty");
        boolean any = false, supervised = false;
        for (int i = 0; i < turns.size(); i++) {
            Turn t = turns.get(i);
            if (!t.role().equals("assistant")) continue;
            any = true;
            supervised |= t.supervised();
            if (t.content().isBlank() && t.toolCalls().isEmpty() && (t.reasoning() == null || t.reasoning().isBlank()))
                throw new Invalid("empty assistant reply (message " + (i + 1) + ")");
        }
        if (!any) throw new Invalid("no assistant turn: nothing to learn from this conversation");
        if (!supervised) throw new Invalid("no supervised assistant turn (every reply has weight 0)");
    }

    /** True when tools are offered: MiniMind keeps such tool-use samples exactly as given (no added system prompt). */
    public boolean hasTools() { return tools != null; }

    public boolean startsWithSystem() { return !turns.isEmpty() && turns.get(0).role().equals("system"); }

    public Conversation withSystem(String prompt) {
        List<Turn> t = new ArrayList<>(turns.size() + 1);
        t.add(Turn.of("system", prompt));
        t.addAll(turns);
        return new Conversation(t, tools);
    }
}
