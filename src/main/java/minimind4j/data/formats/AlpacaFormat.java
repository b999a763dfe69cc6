package minimind4j.data.formats;

import minimind4j.data.formats.Conversation.Invalid;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Alpaca, as LLaMA-Factory's alpaca converter reads it: {@code system}, then the {@code history} pairs, then
 * {@code instruction} with {@code input} below it (one newline between) as the user turn and {@code output} as the
 * reply.
 */
public final class AlpacaFormat {
    private AlpacaFormat() {}

    static Conversation convert(Map<String, Object> o) throws Invalid {
        List<Turn> turns = new ArrayList<>();
        if (o.get("system") instanceof String s && !s.isEmpty()) turns.add(Turn.of("system", Fields.text(s, "\"system\"", null, null)));
        if (o.get("history") instanceof List<?> h) {
            for (Object turn : h) {
                if (!(turn instanceof List<?> pair) || pair.size() != 2 || !(pair.get(0) instanceof String q) || !(pair.get(1) instanceof String a))
                    throw new Invalid("\"history\" must be a list of [question, answer] string pairs");
                turns.add(Turn.of("user", Fields.text(q, "\"history\"", null, null)));
                turns.add(Turn.of("assistant", Fields.text(a, "\"history\"", null, null)));
            }
        }
        Object instruction = o.get("instruction"), input = o.get("input"), output = o.get("output");
        if (!(instruction instanceof String ins)) throw new Invalid("Alpaca record without an \"instruction\" string");
        if (!(output instanceof String out)) throw new Invalid("Alpaca record without an \"output\" string");
        String user = input instanceof String in && !in.isEmpty() ? ins + "\n" + in : ins;
        turns.add(Turn.of("user", Fields.text(user, "\"instruction\"", null, null)));
        turns.add(Turn.of("assistant", Fields.text(out, "\"output\"", null, null)));
        return new Conversation(turns, null);
    }
}
