package minimind4j.demo;

import minimind4j.demo.DemoFacts.Qa;
import minimind4j.demo.DemoWorld.Creature;
import minimind4j.demo.DemoWorld.Town;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static minimind4j.demo.DemoWorld.DAYS;
import static minimind4j.demo.DemoWorld.PEOPLE;

/**
 * The SFT conversations, the held-out evaluation conversations and the demo prompts.
 *
 * <p>Held out means: every fact an evaluation question (or a prompt) asks about is never stated in any SFT
 * conversation, in any wording or language. The pretraining corpus states all facts, so the evaluation set measures
 * whether SFT taught the model to answer from what it read, not whether it memorised the SFT answers.
 */
final class DemoConversations {
    record Turn(String role, String content) {}

    record Conversation(List<Turn> turns) {
        Conversation {
            turns = List.copyOf(turns);
        }
    }

    record Split(List<Conversation> sft, List<Conversation> eval, List<String> prompts) {}

    /** How many evaluation questions each category gets (sums to 100). */
    private static final Map<String, Integer> EVAL_QUOTA = orderedMap(
            "town", 25, "town-zh", 10, "reverse", 4, "creature", 10, "creature-zh", 4,
            "plus", 12, "minus", 10, "times", 10, "math-zh", 8, "day", 4, "day-zh", 3);

    /** Relative weights of single-question categories in the SFT set. */
    private static final Map<String, Integer> SINGLE_WEIGHT = orderedMap(
            "town", 22, "town-zh", 8, "reverse", 4, "creature", 10, "creature-zh", 3,
            "plus", 10, "minus", 7, "times", 7, "math-zh", 6, "day", 3, "day-zh", 2, "week", 1);

    private static final List<String> SYSTEM_PROMPTS = List.of(
            "You are a helpful assistant.",
            "You are a guide to the towns of the valley. Answer in one sentence.",
            "You answer questions about the valley and simple arithmetic.",
            "Answer briefly and correctly.",
            "你是一个乐于助人的助手。",
            "你是山谷小镇的向导，回答要简短。");

    private static final List<String> GREETINGS = List.of("Hello!", "Hi!", "Hi there.", "Good morning!", "Hey!");
    private static final String GREETING_ANSWER =
            "Hello! I can tell you about the towns, rivers and animals of the valley, and I can do small sums.";
    private static final List<String> IDENTITY = List.of("Who are you?", "What are you?", "What can you do?",
            "What do you know about?");
    private static final String IDENTITY_ANSWER = "I am a small language model trained with minimind4j. I know the "
            + "towns, rivers, creatures and days of the valley, and I can add, subtract and multiply small numbers.";
    private static final List<String> THANKS = List.of("Thank you!", "Thanks.", "Thanks a lot!");

    private final DemoWorld world;
    private final Random random;
    private final List<Qa> all;
    private final Set<String> heldOut = new HashSet<>();

    private DemoConversations(DemoWorld world, Random random) {
        this.world = world;
        this.random = random;
        this.all = DemoFacts.all(world);
    }

    static Split build(DemoWorld world, Random random, int sftCount) {
        DemoConversations c = new DemoConversations(world, random);
        List<String> prompts = c.prompts();
        List<Conversation> eval = c.eval(prompts);
        List<Conversation> sft = c.sft(sftCount);
        return new Split(sft, eval, prompts);
    }

    private <T> T pick(List<T> list) {
        return list.get(random.nextInt(list.size()));
    }

    private boolean chance(double p) {
        return random.nextDouble() < p;
    }

    private static Conversation qa(String question, String answer) {
        return new Conversation(List.of(new Turn("user", question), new Turn("assistant", answer)));
    }

    // ---- held out: prompts and evaluation ----

    /** Six questions for showing a pretrained model's continuation next to the SFT model's answer. */
    private List<String> prompts() {
        List<Town> towns = new ArrayList<>(world.towns());
        Collections.shuffle(towns, random);
        Creature x = pick(world.creatures());
        int a = 2 + random.nextInt(8), b = 2 + random.nextInt(8), d = random.nextInt(7);
        List<String> prompts = List.of(
                DemoFacts.townQuestionEn("known", towns.get(0).name(), 0),
                DemoFacts.townQuestionZh("known", towns.get(1).name(), 0),
                DemoFacts.creatureQuestionEn("food", x.name(), 0),
                "What is " + a + " plus " + b + "?",
                "What day comes after " + DAYS.get(d).en() + "?",
                DemoFacts.townQuestionEn("river", towns.get(2).name(), 0));
        holdOut(DemoFacts.key("known", towns.get(0).name()), DemoFacts.key("known", towns.get(1).name()),
                DemoFacts.key("food", x.name()), DemoFacts.key("plus", a, b), DemoFacts.key("after", d),
                DemoFacts.key("river", towns.get(2).name()));
        return prompts;
    }

    private void holdOut(String... keys) {
        heldOut.addAll(List.of(keys));
    }

    private List<Conversation> eval(List<String> prompts) {
        List<Conversation> eval = new ArrayList<>();
        for (Map.Entry<String, Integer> quota : EVAL_QUOTA.entrySet()) {
            List<Qa> candidates = new ArrayList<>(all.stream().filter(q -> q.category().equals(quota.getKey())
                    && q.factKeys().size() == 1 && !prompts.contains(q.question())).toList());
            Collections.shuffle(candidates, random);
            int taken = 0;
            for (Qa q : candidates) {
                if (taken == quota.getValue()) break;
                String key = q.factKeys().iterator().next();
                if (heldOut.contains(key)) continue;
                heldOut.add(key);
                eval.add(qa(q.question(), q.answer()));
                taken++;
            }
        }
        return eval;
    }

    private boolean allowed(Set<String> keys) {
        for (String k : keys) if (heldOut.contains(k)) return false;
        return true;
    }

    // ---- SFT ----

    private List<Conversation> sft(int count) {
        Map<String, Deck<Qa>> decks = new LinkedHashMap<>();
        for (String category : SINGLE_WEIGHT.keySet()) {
            decks.put(category, new Deck<>(all.stream()
                    .filter(q -> q.category().equals(category) && allowed(q.factKeys())).toList(), random));
        }
        DemoStories stories = new DemoStories(world, random, key -> !heldOut.contains(key));
        Set<Conversation> out = new LinkedHashSet<>();
        for (int attempt = 0; out.size() < count && attempt < count * 20; attempt++) {
            int r = random.nextInt(100);
            Conversation c;
            if (r < 56) c = single(decks);
            else if (r < 70) c = townChat();
            else if (r < 76) c = creatureChat();
            else if (r < 85) c = mixedChat(decks);
            else if (r < 92) c = story(stories);
            else c = smallTalk();
            if (c == null) continue;
            if (chance(0.15)) {
                List<Turn> turns = new ArrayList<>();
                turns.add(new Turn("system", pick(SYSTEM_PROMPTS)));
                turns.addAll(c.turns());
                c = new Conversation(turns);
            }
            out.add(c);
        }
        return new ArrayList<>(out);
    }

    private Qa drawSingle(Map<String, Deck<Qa>> decks) {
        int total = SINGLE_WEIGHT.values().stream().mapToInt(Integer::intValue).sum();
        int r = random.nextInt(total);
        for (Map.Entry<String, Integer> e : SINGLE_WEIGHT.entrySet()) {
            r -= e.getValue();
            if (r < 0) return decks.get(e.getKey()).deal();
        }
        throw new IllegalStateException();
    }

    private Conversation single(Map<String, Deck<Qa>> decks) {
        Qa q = drawSingle(decks);
        return q == null ? null : qa(q.question(), q.answer());
    }

    private Conversation mixedChat(Map<String, Deck<Qa>> decks) {
        List<Turn> turns = new ArrayList<>();
        int n = 2 + random.nextInt(2);
        for (int i = 0; i < n; i++) {
            Qa q = drawSingle(decks);
            if (q == null) return null;
            turns.add(new Turn("user", q.question()));
            turns.add(new Turn("assistant", q.answer()));
        }
        return new Conversation(turns);
    }

    /** Two or three questions about one town; follow-ups say "it"/"there", answers name the town. */
    private Conversation townChat() {
        Town t = pick(world.towns());
        List<String> kinds = new ArrayList<>(DemoFacts.TOWN_FACTS.stream()
                .filter(k -> !heldOut.contains(DemoFacts.key(k, t.name()))).toList());
        if (kinds.size() < 2) return null;
        Collections.shuffle(kinds, random);
        kinds = kinds.subList(0, Math.min(kinds.size(), 2 + random.nextInt(2)));
        boolean zh = chance(0.25);
        List<Turn> turns = new ArrayList<>();
        for (int i = 0; i < kinds.size(); i++) {
            String kind = kinds.get(i);
            String question = zh
                    ? (i == 0 ? DemoFacts.townQuestionZh(kind, t.name(), random.nextInt(2))
                            : DemoFacts.townFollowUpZh(kind))
                    : (i == 0 ? DemoFacts.townQuestionEn(kind, t.name(), random.nextInt(4))
                            : DemoFacts.townFollowUpEn(kind, random.nextInt(2)));
            turns.add(new Turn("user", question));
            turns.add(new Turn("assistant", zh ? DemoFacts.townAnswerZh(kind, t) : DemoFacts.townAnswerEn(kind, t)));
        }
        if (!zh && chance(0.2)) {
            turns.add(new Turn("user", pick(THANKS)));
            turns.add(new Turn("assistant", "You are welcome!"));
        }
        return new Conversation(turns);
    }

    private Conversation creatureChat() {
        Creature c = pick(world.creatures());
        List<String> kinds = new ArrayList<>(DemoFacts.CREATURE_FACTS.stream()
                .filter(k -> !heldOut.contains(DemoFacts.key(k, c.name()))).toList());
        if (kinds.size() < 2) return null;
        Collections.shuffle(kinds, random);
        kinds = kinds.subList(0, Math.min(kinds.size(), 2 + random.nextInt(2)));
        List<Turn> turns = new ArrayList<>();
        for (int i = 0; i < kinds.size(); i++) {
            String kind = kinds.get(i);
            turns.add(new Turn("user", i == 0 ? DemoFacts.creatureQuestionEn(kind, c.name(), random.nextInt(2))
                    : DemoFacts.creatureFollowUpEn(kind)));
            turns.add(new Turn("assistant", DemoFacts.creatureAnswerEn(kind, c)));
        }
        return new Conversation(turns);
    }

    private Conversation story(DemoStories stories) {
        boolean zh = chance(0.25);
        String person = pick(PEOPLE);
        DemoStories.Story s = stories.any(zh, person);
        if (s == null) return null;
        String question = zh
                ? pick(List.of("讲一个关于 " + person + " 的故事。", "给我讲一个 " + person + " 的小故事。"))
                : pick(List.of("Tell me a short story about " + person + ".", "Write a short story about " + person + ".",
                        "Can you tell me a story about " + person + "?"));
        return qa(question, s.text());
    }

    private Conversation smallTalk() {
        return switch (random.nextInt(6)) {
            case 0 -> qa(pick(GREETINGS), GREETING_ANSWER);
            case 1 -> qa(pick(IDENTITY), IDENTITY_ANSWER);
            case 2 -> qa("你好", "你好！我可以告诉你山谷里的小镇、河流和动物，也会做简单的算术。");
            case 3 -> qa("你是谁？", "我是用 minimind4j 训练的一个小模型。我知道山谷里的小镇、河流、动物和星期，也会做简单的加减乘法。");
            case 4 -> {
                String name = pick(DemoWorld.UNKNOWN_TOWNS);
                yield qa(DemoFacts.townQuestionEn(pick(DemoFacts.TOWN_FACTS), name, random.nextInt(3)),
                        "I do not know a town called " + name + ". I only know the towns of the valley.");
            }
            default -> {
                String name = pick(DemoWorld.UNKNOWN_TOWNS);
                yield qa(DemoFacts.townQuestionZh("known", name, 0),
                        "我不知道叫 " + name + " 的小镇。我只知道山谷里的小镇。");
            }
        };
    }

    /** Deals items in shuffled order, reshuffling when it runs out, so every item is used before any repeats. */
    private static final class Deck<T> {
        private final List<T> items;
        private final Random random;
        private int next;

        Deck(List<T> items, Random random) {
            this.items = new ArrayList<>(items);
            this.random = random;
            this.next = this.items.size();
        }

        T deal() {
            if (items.isEmpty()) return null;
            if (next == items.size()) {
                Collections.shuffle(items, random);
                next = 0;
            }
            return items.get(next++);
        }
    }

    private static Map<String, Integer> orderedMap(Object... pairs) {
        Map<String, Integer> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) map.put((String) pairs[i], (Integer) pairs[i + 1]);
        return map;
    }
}
