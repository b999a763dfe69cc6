package minimind4j.demo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.demo.DemoWorld.Creature;
import minimind4j.demo.DemoWorld.Town;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The demo's preference pairs (dpo.jsonl, MiniMind's DPO format): an English question about a town or a creature, the
 * true sentence as the chosen reply, and the same sentence with another town's or creature's value (a false fact) as
 * the rejected one. The questions are those of the SFT data's kinds; some ask about facts sft_eval.jsonl holds out
 * from SFT, so DPO on them is not evaluated on held-out facts.
 */
final class DemoPreferences {
    static final int PAIRS = 400;

    private DemoPreferences() {}

    /** One line per pair, drawn from {@code r}. */
    static String jsonl(DemoWorld world, Random r, int count) {
        ObjectMapper json = new ObjectMapper();
        StringBuilder out = new StringBuilder();
        int made = 0;
        while (made < count) {
            String question, good, bad;
            if (r.nextInt(3) < 2) {
                Town t = world.towns().get(r.nextInt(world.towns().size())), o = world.towns().get(r.nextInt(world.towns().size()));
                String kind = DemoFacts.TOWN_FACTS.get(r.nextInt(DemoFacts.TOWN_FACTS.size()));
                Town wrong = new Town(t.name(), o.river(), o.color(), o.craft(), o.food(), o.animal(), o.marketDay());
                question = DemoFacts.townQuestionEn(kind, t.name(), r.nextInt(DemoFacts.townQuestionVariantsEn(kind)));
                good = DemoFacts.townAnswerEn(kind, t);
                bad = DemoFacts.townAnswerEn(kind, wrong);
            } else {
                Creature c = world.creatures().get(r.nextInt(world.creatures().size())), o = world.creatures().get(r.nextInt(world.creatures().size()));
                String kind = DemoFacts.CREATURE_FACTS.get(r.nextInt(DemoFacts.CREATURE_FACTS.size()));
                Creature wrong = new Creature(c.name(), o.color(), o.food(), o.habitat(), o.size());
                question = DemoFacts.creatureQuestionEn(kind, c.name(), r.nextInt(2));
                good = DemoFacts.creatureAnswerEn(kind, c);
                bad = DemoFacts.creatureAnswerEn(kind, wrong);
            }
            if (good.equals(bad)) continue;  // the other one shares the value: not a false fact
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("chosen", List.of(msg("user", question), msg("assistant", good)));
            line.put("rejected", List.of(msg("user", question), msg("assistant", bad)));
            try {
                out.append(json.writeValueAsString(line)).append('\n');
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            made++;
        }
        return out.toString();
    }

    private static Map<String, Object> msg(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }
}
