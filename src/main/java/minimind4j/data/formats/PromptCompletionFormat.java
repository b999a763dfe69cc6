package minimind4j.data.formats;

import minimind4j.data.formats.Conversation.Invalid;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * TRL's prompt/completion format, standard ({@code {"prompt": "...", "completion": "..."}}) or conversational (both
 * lists of messages). The loss covers the completion only, as TRL's {@code completion_only_loss}: every turn of the
 * prompt, replies included, is unsupervised. A standard record becomes one user turn and one reply, so that the
 * model learns it through its chat template like the rest of its SFT data.
 */
public final class PromptCompletionFormat {
    private PromptCompletionFormat() {}

    static Conversation convert(Map<String, Object> o) throws Invalid {
        Object prompt = o.get("prompt"), completion = o.get("completion");
        if (prompt == null || completion == null) throw new Invalid("not a prompt/completion record (needs \"prompt\" and \"completion\")");
        if (prompt instanceof String p && completion instanceof String c) {
            return new Conversation(List.of(Turn.of("user", Fields.text(p, "\"prompt\"", null, null)),
                    Turn.of("assistant", Fields.text(c, "\"completion\"", null, null))), null);
        }
        if (!(prompt instanceof List<?> pl) || !(completion instanceof List<?> cl))
            throw new Invalid("\"prompt\" and \"completion\" must both be strings (standard) or both lists of messages (conversational)");
        List<Object> all = new ArrayList<>(pl);
        all.addAll(cl);
        Conversation c = OpenAiFormat.fromList(all, o);
        List<Turn> turns = new ArrayList<>(c.turns().size());
        for (int i = 0; i < c.turns().size(); i++) {
            Turn t = c.turns().get(i);
            boolean inCompletion = i >= pl.size();
            turns.add(new Turn(t.role(), t.content(), t.reasoning(), t.toolCalls(), inCompletion && t.supervised()));
        }
        return new Conversation(turns, c.tools());
    }
}
