package minimind4j.data.formats;

import minimind4j.data.formats.Conversation.Invalid;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Preference records (DPO pairs) converted to two canonical conversations, chosen and rejected, each through the
 * SFT converters of {@link DataFormat}:
 * <ul>
 * <li>MiniMind's {@code {"chosen": [messages], "rejected": [messages]}} (also TRL's conversational format with an
 * implicit prompt): each list is a whole conversation and, as MiniMind's DPODataset masks them, every assistant turn in
 * it counts;</li>
 * <li>TRL's explicit prompt, {@code {"prompt", "chosen", "rejected"}}, standard (strings) or conversational (message
 * lists): the prompt followed by the reply;</li>
 * <li>LLaMA-Factory's ShareGPT ({@code "conversations"} of {@code from/value} plus a {@code chosen}/{@code rejected}
 * message) and OpenAI-style {@code "messages"} with chosen/rejected; its Alpaca-style ({@code instruction},
 * {@code input}, {@code chosen}, {@code rejected}); its v1 {@code chosen_messages}/{@code rejected_messages}.</li>
 * </ul>
 * A reply may be a string, one message or a list of messages. Where a prompt is separate, only the reply is
 * supervised. Records without a pair (SFT conversations, KTO labels, pretrain text) refuse the whole input.
 */
public final class PreferenceFormat {
    private PreferenceFormat() {}

    /** A preference pair: the same prompt, answered well (chosen) and badly (rejected). */
    public record Pair(Conversation chosen, Conversation rejected) {}

    /** Data that is not preference pairs: refuses the whole input, as {@link NotSftData} does for SFT. */
    public static final class NotPreferenceData extends Invalid {
        public NotPreferenceData(String message) { super(message); }
    }

    public static Pair parse(String json) throws Invalid {
        return convert(Fields.object(json));
    }

    public static Pair convert(Map<String, Object> r) throws Invalid {
        for (String k : List.of("images", "videos", "audios", "image", "video", "audio"))
            if (Fields.isPresent(r.get(k)))
                throw new NotPreferenceData("multimodal preference data: the \"" + k + "\" field refers to media a text model cannot see; drop those records");
        if (r.containsKey("chosen_messages") || r.containsKey("rejected_messages")) {
            return new Pair(OpenAiFormat.fromList(list(r, "chosen_messages"), r), OpenAiFormat.fromList(list(r, "rejected_messages"), r));
        }
        if (!r.containsKey("chosen") || !r.containsKey("rejected")) {
            if (r.get("label") instanceof Boolean || r.get("kto_tag") instanceof Boolean)
                throw new NotPreferenceData("KTO data (one reply with a true/false label), not preference pairs: records need \"chosen\" and \"rejected\" replies");
            if (r.containsKey("conversations") || r.containsKey("messages") || r.containsKey("instruction") || r.containsKey("completion"))
                throw new NotPreferenceData("SFT conversations, not preference pairs (no \"chosen\"/\"rejected\"): train them with `minimind sft`");
            if (r.containsKey("text"))
                throw new NotPreferenceData("pretrain text, not preference pairs: train it with `minimind pretrain`");
            throw new Invalid("no preference pair found (keys: " + String.join(", ", new TreeSet<>(r.keySet()))
                    + "); expected \"chosen\" and \"rejected\" (with \"prompt\", \"conversations\", \"messages\" or \"instruction\" when the prompt is separate)");
        }
        Object chosen = r.get("chosen"), rejected = r.get("rejected");
        boolean separatePrompt = r.containsKey("prompt") || r.containsKey("conversations") || r.containsKey("messages") || r.containsKey("instruction");
        if (!separatePrompt) {
            if (!(chosen instanceof List<?> c) || !(rejected instanceof List<?> j))
                throw new Invalid("\"chosen\" and \"rejected\" without a prompt must be whole conversations (lists of messages)");
            return new Pair(MiniMindFormat.fromList(c), MiniMindFormat.fromList(j));
        }
        return new Pair(side(r, chosen, "\"chosen\""), side(r, rejected, "\"rejected\""));
    }

    private static List<?> list(Map<String, Object> r, String key) throws Invalid {
        if (!(r.get(key) instanceof List<?> l)) throw new Invalid("\"" + key + "\" must be a list of messages");
        return l;
    }

    /** The prompt of {@code r} answered by {@code reply}; only the reply is supervised. */
    private static Conversation side(Map<String, Object> r, Object reply, String what) throws Invalid {
        Map<String, Object> rec = new LinkedHashMap<>(r);
        rec.remove("chosen");
        rec.remove("rejected");
        int promptTurns;
        Conversation c;
        if (rec.containsKey("prompt")) {
            Object prompt = rec.get("prompt");
            if (prompt instanceof String && reply instanceof String) {
                rec.put("completion", reply);
            } else {
                List<Object> p = prompt instanceof List<?> l ? new ArrayList<>(l) : new ArrayList<>(List.of(Map.of("role", "user", "content", prompt)));
                rec.put("prompt", p);
                rec.put("completion", messages(reply, "role", "content", "assistant", what));
            }
            c = DataFormat.PROMPT_COMPLETION.convert(rec);
            return c;  // PromptCompletionFormat supervises the completion only
        } else if (rec.containsKey("instruction")) {
            Object text = reply instanceof Map<?, ?> m ? (m.containsKey("content") ? m.get("content") : m.get("value")) : reply;
            if (!(text instanceof String)) throw new Invalid(what + " must be a string or one message in an instruction record");
            rec.put("output", text);
            c = DataFormat.ALPACA.convert(rec);
            promptTurns = c.turns().size() - 1;
        } else {
            String key = rec.containsKey("conversations") ? "conversations" : "messages";
            if (!(rec.get(key) instanceof List<?> prompt)) throw new Invalid("\"" + key + "\" must be a list of messages");
            boolean speakers = !prompt.isEmpty() && prompt.get(0) instanceof Map<?, ?> m0 && m0.containsKey("from") && !m0.containsKey("role");
            List<Object> all = new ArrayList<>(prompt);
            all.addAll(speakers ? messages(reply, "from", "value", "gpt", what) : messages(reply, "role", "content", "assistant", what));
            rec.put(key, all);
            c = DataFormat.AUTO.convert(rec);
            promptTurns = c.turns().size() - (reply instanceof List<?> l ? l.size() : 1);
        }
        List<Turn> turns = new ArrayList<>(c.turns().size());
        for (int i = 0; i < c.turns().size(); i++) {
            Turn t = c.turns().get(i);
            turns.add(i < promptTurns ? new Turn(t.role(), t.content(), t.reasoning(), t.toolCalls(), false) : t);
        }
        return new Conversation(turns, c.tools());
    }

    /** A reply as a list of messages: a string becomes one assistant message under the record's key names. */
    private static List<Object> messages(Object reply, String roleKey, String contentKey, String assistant, String what) throws Invalid {
        if (reply instanceof String s) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(roleKey, assistant);
            m.put(contentKey, s);
            return List.of(m);
        }
        if (reply instanceof Map<?, ?> m) return List.of(m);
        if (reply instanceof List<?> l) return new ArrayList<>(l);
        throw new Invalid(what + " must be a string, a message or a list of messages");
    }
}
