package minimind4j.demo;

import minimind4j.demo.DemoWorld.Creature;
import minimind4j.demo.DemoWorld.Town;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static minimind4j.demo.DemoWorld.DAYS;
import static minimind4j.demo.DemoWorld.PEOPLE;

/**
 * The pretraining text: short documents (one jsonl line each, roughly 40-150 tokens) that state every fact of the
 * world many times, in varied wording and order, in English and some Chinese. Canonical sentences (the ones SFT
 * answers use) appear often, looser paraphrases keep the text from being a single repeated pattern.
 */
final class DemoCorpus {
    private final DemoWorld world;
    private final Random random;
    private final DemoStories stories;

    DemoCorpus(DemoWorld world, Random random) {
        this.world = world;
        this.random = random;
        this.stories = new DemoStories(world, random, key -> true);
    }

    /** Documents until their UTF-8 size reaches {@code targetBytes}. */
    List<String> documents(long targetBytes) {
        List<String> docs = new ArrayList<>();
        long bytes = 0;
        while (bytes < targetBytes) {
            String doc = document();
            docs.add(doc);
            bytes += doc.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 12;
        }
        return docs;
    }

    /**
     * One document: segments (a town description, some sums, a story, ...) stitched together until a length
     * drawn between 45 and 135 tokens is reached, never past about 150, so a short context window sees whole
     * documents and topics mix the way they do in real pretraining text.
     */
    private String document() {
        int target = 45 + random.nextInt(91);
        StringBuilder doc = new StringBuilder();
        int tokens = 0;
        while (tokens < target) {
            String segment = segment();
            int n = estimateTokens(segment);
            if (tokens > 0 && tokens + n > 150) break;
            if (doc.length() > 0) doc.append(doc.charAt(doc.length() - 1) == '。' ? "" : " ");
            doc.append(segment);
            tokens += n;
        }
        return doc.toString();
    }

    /**
     * Roughly what the demo tokenizer makes of a text: one token per pre-token (the corpus's words are all in its
     * vocabulary), plus one per three CJK characters, since a Chinese run is one pre-token but several tokens.
     */
    static int estimateTokens(String text) {
        int cjk = (int) text.codePoints().filter(c -> Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN).count();
        return minimind4j.tokenizer.ByteLevel.split(text).size() + cjk / 3;
    }

    private String segment() {
        int r = random.nextInt(100);
        if (r < 22) return townsEn();
        if (r < 30) return townsZh();
        if (r < 35) return riverEn();
        if (r < 45) return creaturesEn();
        if (r < 49) return creaturesZh();
        if (r < 63) return mathEn();
        if (r < 68) return mathZh();
        if (r < 74) return calendar(random.nextInt(4) == 0);
        boolean zh = r >= 94;
        return stories.any(zh, pick(PEOPLE)).text();
    }

    private <T> T pick(List<T> list) {
        return list.get(random.nextInt(list.size()));
    }

    private boolean chance(double p) {
        return random.nextDouble() < p;
    }

    // ---- towns ----

    private String townSentenceEn(String kind, Town t) {
        if (chance(0.4)) return DemoFacts.townAnswerEn(kind, t);
        String n = t.name(), made = t.color().en() + " " + t.craft().en();
        return switch (kind) {
            case "river" -> pick(List.of("The town of " + n + " lies by the river " + t.river() + ".",
                    n + " is a town on the river " + t.river() + ".",
                    "The river " + t.river() + " flows past " + n + "."));
            case "known" -> pick(List.of("People come to " + n + " for its " + made + ".",
                    "The " + made + " of " + n + (t.craft().mass() ? " is" : " are") + " famous.",
                    n + " makes fine " + made + "."));
            case "dish" -> pick(List.of("In " + n + ", everyone loves " + t.food().en() + ".",
                    "The best dish in " + n + " is " + t.food().en() + ".",
                    "If you visit " + n + ", try the " + t.food().en() + "."));
            case "animal" -> pick(List.of("Many " + t.animal().en() + " live on the farms around " + n + ".",
                    "In " + n + " you will see " + t.animal().en() + " everywhere.",
                    "Farmers in " + n + " raise " + t.animal().en() + "."));
            case "market" -> pick(List.of("Every " + t.day().en() + ", " + n + " holds its market.",
                    n + " has its market day on " + t.day().en() + ".",
                    "On " + t.day().en() + " the market in " + n + " is open."));
            default -> throw new IllegalArgumentException(kind);
        };
    }

    private String townSentenceZh(String kind, Town t) {
        if (chance(0.5)) return DemoFacts.townAnswerZh(kind, t);
        String n = t.name(), made = t.color().zh() + t.craft().zh();
        return switch (kind) {
            case "river" -> pick(List.of(n + " 是 " + t.river() + " 河边的一个小镇。", t.river() + " 河流过 " + n + "。"));
            case "known" -> pick(List.of(n + " 的" + made + "很有名。", "人们去 " + n + " 买" + made + "。"));
            case "dish" -> pick(List.of("在 " + n + "，大家都爱吃" + t.food().zh() + "。",
                    "去 " + n + " 一定要尝尝" + t.food().zh() + "。"));
            case "animal" -> pick(List.of(n + " 的农场里有很多" + t.animal().zh() + "。",
                    "在 " + n + " 到处都能看到" + t.animal().zh() + "。"));
            case "market" -> pick(List.of("每个" + t.day().zh() + "，" + n + " 都有集市。",
                    n + " 的集市日是" + t.day().zh() + "。"));
            default -> throw new IllegalArgumentException(kind);
        };
    }

    private List<String> someTownFacts(int min) {
        List<String> kinds = new ArrayList<>(DemoFacts.TOWN_FACTS);
        Collections.shuffle(kinds, random);
        return kinds.subList(0, min + random.nextInt(DemoFacts.TOWN_FACTS.size() - min + 1));
    }

    private String townsEn() {
        Town t = pick(world.towns());
        StringBuilder s = new StringBuilder(pick(List.of("", "", "Here is what travellers say about " + t.name() + ". ",
                "Let me tell you about " + t.name() + ". ", t.name() + " is one of the towns of the valley. ")));
        for (String kind : someTownFacts(3)) s.append(townSentenceEn(kind, t)).append(' ');
        if (chance(0.5)) {
            Town u = pick(world.towns());
            if (u != t) {
                s.append(pick(List.of("Not far from " + t.name() + " is " + u.name() + ". ",
                        "Another town is " + u.name() + ". ", "Travellers often go on to " + u.name() + ". ")));
                for (String kind : someTownFacts(2)) s.append(townSentenceEn(kind, u)).append(' ');
            }
        }
        return s.toString().strip();
    }

    private String townsZh() {
        Town t = pick(world.towns());
        StringBuilder s = new StringBuilder(pick(List.of("", t.name() + " 是山谷里的一个小镇。", "我们来说说 " + t.name() + "。")));
        for (String kind : someTownFacts(3)) s.append(townSentenceZh(kind, t));
        if (chance(0.4)) {
            Town u = pick(world.towns());
            if (u != t) {
                s.append("离 ").append(t.name()).append(" 不远是 ").append(u.name()).append("。");
                for (String kind : someTownFacts(2)) s.append(townSentenceZh(kind, u));
            }
        }
        return s.toString();
    }

    private String riverEn() {
        String river = pick(DemoWorld.RIVERS);
        List<Town> towns = world.townsByRiver().get(river);
        StringBuilder s = new StringBuilder();
        s.append(chance(0.5) ? DemoWorld.riverTownsEn(river, towns)
                : "The river " + river + " flows past " + DemoWorld.listEn(towns.stream().map(Town::name).toList()) + ".");
        List<Town> some = new ArrayList<>(towns);
        Collections.shuffle(some, random);
        for (Town t : some.subList(0, 2)) {
            s.append(' ').append(DemoWorld.riverEn(t));
            String kind = pick(DemoFacts.TOWN_FACTS);
            if (!kind.equals("river")) s.append(' ').append(townSentenceEn(kind, t));
        }
        return s.toString();
    }

    // ---- creatures ----

    private String creatureSentenceEn(String kind, Creature c) {
        if (chance(0.4)) return DemoFacts.creatureAnswerEn(kind, c);
        String n = c.name();
        return switch (kind) {
            case "color" -> pick(List.of("The " + n + " is " + c.color().en() + " all over.",
                    "You can tell " + DemoWorld.aName(n) + " by its " + c.color().en() + " color."));
            case "food" -> pick(List.of("The " + n + " likes to eat " + c.food().en() + ".",
                    "The favorite food of the " + n + " is " + c.food().en() + "."));
            case "home" -> pick(List.of("The " + n + " makes its home " + c.habitat().en() + ".",
                    "You can find the " + n + " " + c.habitat().en() + "."));
            case "size" -> pick(List.of("The " + n + " is " + c.size().en() + ".",
                    "The " + n + " is a " + c.size().en() + " animal."));
            default -> throw new IllegalArgumentException(kind);
        };
    }

    private String creaturesEn() {
        StringBuilder s = new StringBuilder();
        int count = 1 + random.nextInt(2);
        for (int i = 0; i < count; i++) {
            Creature c = pick(world.creatures());
            if (chance(0.3)) {
                s.append(DemoWorld.creatureAboutEn(c)).append(' ');
                continue;
            }
            if (chance(0.3)) s.append("The ").append(c.name()).append(" is an animal of the valley. ");
            List<String> kinds = new ArrayList<>(DemoFacts.CREATURE_FACTS);
            Collections.shuffle(kinds, random);
            for (String kind : kinds.subList(0, 2 + random.nextInt(3))) s.append(creatureSentenceEn(kind, c)).append(' ');
        }
        return s.toString().strip();
    }

    private String creaturesZh() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 2; i++) {
            Creature c = pick(world.creatures());
            List<String> kinds = new ArrayList<>(DemoFacts.CREATURE_FACTS);
            Collections.shuffle(kinds, random);
            for (String kind : kinds.subList(0, 2 + random.nextInt(3))) s.append(DemoFacts.creatureAnswerZh(kind, c));
        }
        return s.toString();
    }

    // ---- arithmetic ----

    private String arithmeticEn() {
        int op = random.nextInt(3);
        if (op == 0) {
            int a = random.nextInt(21), b = random.nextInt(21);
            return chance(0.7) ? DemoWorld.plusEn(a, b) : pick(List.of(a + " plus " + b + " equals " + (a + b) + ".",
                    "If you add " + a + " and " + b + ", you get " + (a + b) + "."));
        } else if (op == 1) {
            int a = random.nextInt(21), b = random.nextInt(a + 1);
            return chance(0.7) ? DemoWorld.minusEn(a, b) : pick(List.of(a + " minus " + b + " equals " + (a - b) + ".",
                    "Take " + b + " away from " + a + " and you have " + (a - b) + "."));
        }
        int a = 1 + random.nextInt(10), b = 1 + random.nextInt(10);
        return chance(0.7) ? DemoWorld.timesEn(a, b) : a + " times " + b + " makes " + (a * b) + ".";
    }

    private String mathEn() {
        int kind = random.nextInt(5);
        if (kind == 0) {
            int a = 1 + random.nextInt(10);
            StringBuilder s = new StringBuilder("The " + a + " times table: ");
            for (int b = 1; b <= 10; b++) s.append(DemoWorld.timesEn(a, b)).append(b < 10 ? " " : "");
            return s.toString();
        }
        if (kind == 1) {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < 3; i++) {
                String p = pick(PEOPLE);
                String things = pick(List.of("apples", "pears", "shells", "coins", "eggs", "stones"));
                int a = random.nextInt(11), b = random.nextInt(11);
                s.append(p).append(" has ").append(a).append(' ').append(things).append(" and gets ").append(b)
                        .append(" more, so ").append(p).append(" has ").append(a + b).append(' ').append(things)
                        .append(". ");
            }
            return s.toString().strip();
        }
        StringBuilder s = new StringBuilder(pick(List.of("", "Here are some sums. ", "Let us practice. ",
                "Some arithmetic facts: ", "Count carefully. ")));
        int n = 6 + random.nextInt(7);
        for (int i = 0; i < n; i++) s.append(arithmeticEn()).append(' ');
        return s.toString().strip();
    }

    private String mathZh() {
        StringBuilder s = new StringBuilder(pick(List.of("", "我们来做算术。", "下面是一些算式。")));
        int n = 6 + random.nextInt(7);
        for (int i = 0; i < n; i++) {
            int op = random.nextInt(3);
            if (op == 0) {
                s.append(DemoWorld.plusZh(random.nextInt(21), random.nextInt(21)));
            } else if (op == 1) {
                int a = random.nextInt(21);
                s.append(DemoWorld.minusZh(a, random.nextInt(a + 1)));
            } else {
                s.append(DemoWorld.timesZh(1 + random.nextInt(10), 1 + random.nextInt(10)));
            }
        }
        return s.toString();
    }

    // ---- days and market days ----

    private String calendar(boolean zh) {
        StringBuilder s = new StringBuilder();
        if (zh) {
            if (chance(0.5)) {
                s.append("一个星期有七天：")
                        .append(DemoWorld.listZh(DAYS.stream().map(DemoWorld.Term::zh).toList())).append("。");
            }
            for (int i = 0; i < 4; i++) {
                int d = random.nextInt(7);
                s.append(chance(0.5) ? DemoWorld.dayAfterZh(d) : DemoWorld.dayBeforeZh(d));
            }
            for (int i = 0; i < 2; i++) s.append(DemoWorld.marketZh(pick(world.towns())));
            return s.toString();
        }
        if (chance(0.5)) {
            s.append("A week has seven days: ")
                    .append(DemoWorld.listEn(DAYS.stream().map(DemoWorld.Term::en).toList())).append(". ");
        }
        int n = 2 + random.nextInt(3);
        for (int i = 0; i < n; i++) {
            int d = random.nextInt(7);
            s.append(chance(0.5) ? DemoWorld.dayAfterEn(d) : DemoWorld.dayBeforeEn(d)).append(' ');
        }
        int d = random.nextInt(7);
        List<String> open = world.towns().stream().filter(t -> t.marketDay() == d).map(Town::name).toList();
        if (!open.isEmpty()) {
            s.append("On ").append(DAYS.get(d).en()).append(" the market is open in ")
                    .append(DemoWorld.listEn(open)).append(". ");
            for (String name : open.subList(0, Math.min(2, open.size()))) {
                s.append(DemoWorld.marketEn(world.town(name))).append(' ');
            }
        }
        return s.toString().strip();
    }
}
