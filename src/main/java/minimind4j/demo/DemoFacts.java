package minimind4j.demo;

import minimind4j.demo.DemoWorld.Creature;
import minimind4j.demo.DemoWorld.Town;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static minimind4j.demo.DemoWorld.DAYS;

/**
 * Every single-turn question the demo asks, with its one correct answer and the facts the answer states.
 * A fact key names one fact: {@code river:Velmora}, {@code color:glimmerfox}, {@code plus:3:4}, {@code after:0}.
 * Holding a fact out of the SFT set means dropping every question whose answer states it.
 */
final class DemoFacts {
    /** One question and its answer; {@code category} groups questions for sampling and evaluation. */
    record Qa(String category, String question, String answer, Set<String> factKeys) {}

    static final List<String> TOWN_FACTS = List.of("river", "known", "dish", "animal", "market");
    static final List<String> CREATURE_FACTS = List.of("color", "food", "home", "size");

    private DemoFacts() {}

    static String key(String kind, Object... subject) {
        return kind + ":" + Stream.of(subject).map(String::valueOf).collect(Collectors.joining(":"));
    }

    static String townQuestionEn(String kind, String town, int variant) {
        List<String> q = switch (kind) {
            case "river" -> List.of("Which river does %s lie by?", "What river flows past %s?", "Where is %s?",
                    "Which river is %s on?");
            case "known" -> List.of("What is %s known for?", "What does %s make?", "What is special about %s?",
                    "Why do people visit %s?");
            case "dish" -> List.of("What food is %s famous for?", "What should I eat in %s?",
                    "What is the famous dish of %s?");
            case "animal" -> List.of("What animals do people keep in %s?", "Which animals do the farmers of %s raise?",
                    "What animals live on the farms of %s?");
            case "market" -> List.of("When is the market in %s?", "On which day is the market in %s?",
                    "What day is market day in %s?");
            default -> throw new IllegalArgumentException(kind);
        };
        return String.format(q.get(variant % q.size()), town);
    }

    static int townQuestionVariantsEn(String kind) {
        return kind.equals("river") || kind.equals("known") ? 4 : 3;
    }

    static String townQuestionZh(String kind, String town, int variant) {
        List<String> q = switch (kind) {
            case "river" -> List.of("%s 在哪条河边？", "哪条河流过 %s？");
            case "known" -> List.of("%s 以什么闻名？", "%s 有什么特产？");
            case "dish" -> List.of("%s 的名菜是什么？", "在 %s 应该吃什么？");
            case "animal" -> List.of("%s 的人养什么动物？");
            case "market" -> List.of("%s 的集市在星期几？", "%s 哪天有集市？");
            default -> throw new IllegalArgumentException(kind);
        };
        return String.format(q.get(variant % q.size()), town);
    }

    static int townQuestionVariantsZh(String kind) {
        return kind.equals("animal") ? 1 : 2;
    }

    static String townAnswerEn(String kind, Town t) {
        return switch (kind) {
            case "river" -> DemoWorld.riverEn(t);
            case "known" -> DemoWorld.knownEn(t);
            case "dish" -> DemoWorld.dishEn(t);
            case "animal" -> DemoWorld.animalEn(t);
            case "market" -> DemoWorld.marketEn(t);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    static String townAnswerZh(String kind, Town t) {
        return switch (kind) {
            case "river" -> DemoWorld.riverZh(t);
            case "known" -> DemoWorld.knownZh(t);
            case "dish" -> DemoWorld.dishZh(t);
            case "animal" -> DemoWorld.animalZh(t);
            case "market" -> DemoWorld.marketZh(t);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /** A follow-up that refers back to the town with "it"/"there" (它/那里). */
    static String townFollowUpEn(String kind, int variant) {
        List<String> q = switch (kind) {
            case "river" -> List.of("And which river is it on?", "Which river does it lie by?");
            case "known" -> List.of("What is it known for?", "And what does it make?");
            case "dish" -> List.of("What food is it famous for?", "And what should I eat there?");
            case "animal" -> List.of("What animals do people keep there?", "And which animals do they raise?");
            case "market" -> List.of("When is its market?", "And on which day is the market there?");
            default -> throw new IllegalArgumentException(kind);
        };
        return q.get(variant % q.size());
    }

    static String townFollowUpZh(String kind) {
        return switch (kind) {
            case "river" -> "它在哪条河边？";
            case "known" -> "它以什么闻名？";
            case "dish" -> "那里的名菜是什么？";
            case "animal" -> "那里的人养什么动物？";
            case "market" -> "那里的集市在星期几？";
            default -> throw new IllegalArgumentException(kind);
        };
    }

    static String creatureQuestionEn(String kind, String name, int variant) {
        String a = DemoWorld.aName(name), the = "the " + name;
        List<String> q = switch (kind) {
            case "color" -> List.of("What color is " + a + "?", "What color is " + the + "?");
            case "food" -> List.of("What does " + a + " eat?", "What is the favorite food of " + the + "?");
            case "home" -> List.of("Where does " + a + " live?", "Where can I find " + a + "?");
            case "size" -> List.of("Is " + the + " big or small?", "How big is " + a + "?");
            default -> throw new IllegalArgumentException(kind);
        };
        return q.get(variant % q.size());
    }

    static String creatureFollowUpEn(String kind) {
        return switch (kind) {
            case "color" -> "What color is it?";
            case "food" -> "What does it eat?";
            case "home" -> "Where does it live?";
            case "size" -> "Is it big or small?";
            default -> throw new IllegalArgumentException(kind);
        };
    }

    static String creatureAnswerEn(String kind, Creature c) {
        return switch (kind) {
            case "color" -> DemoWorld.creatureColorEn(c);
            case "food" -> DemoWorld.creatureFoodEn(c);
            case "home" -> DemoWorld.creatureHomeEn(c);
            case "size" -> DemoWorld.creatureSizeEn(c);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    static String creatureQuestionZh(String kind, String name) {
        return switch (kind) {
            case "color" -> name + " 是什么颜色的？";
            case "food" -> name + " 吃什么？";
            case "home" -> name + " 住在哪里？";
            case "size" -> name + " 是大动物还是小动物？";
            default -> throw new IllegalArgumentException(kind);
        };
    }

    static String creatureAnswerZh(String kind, Creature c) {
        return switch (kind) {
            case "color" -> DemoWorld.creatureColorZh(c);
            case "food" -> DemoWorld.creatureFoodZh(c);
            case "home" -> DemoWorld.creatureHomeZh(c);
            case "size" -> DemoWorld.creatureSizeZh(c);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /** All single-turn questions, in a fixed order. */
    static List<Qa> all(DemoWorld world) {
        List<Qa> out = new ArrayList<>();
        for (Town t : world.towns()) {
            for (String kind : TOWN_FACTS) {
                Set<String> keys = Set.of(key(kind, t.name()));
                for (int v = 0; v < townQuestionVariantsEn(kind); v++) {
                    out.add(new Qa("town", townQuestionEn(kind, t.name(), v), townAnswerEn(kind, t), keys));
                }
                for (int v = 0; v < townQuestionVariantsZh(kind); v++) {
                    out.add(new Qa("town-zh", townQuestionZh(kind, t.name(), v), townAnswerZh(kind, t), keys));
                }
            }
            String made = t.color().en() + " " + t.craft().en();
            Set<String> known = Set.of(key("known", t.name()));
            out.add(new Qa("reverse", "Which town is known for its " + made + "?", DemoWorld.knownEn(t), known));
            out.add(new Qa("reverse", "Where can I buy " + made + "?", DemoWorld.knownEn(t), known));
            out.add(new Qa("reverse", "哪个小镇以" + t.color().zh() + t.craft().zh() + "闻名？", DemoWorld.knownZh(t), known));
        }
        for (Map.Entry<String, List<Town>> e : world.townsByRiver().entrySet()) {
            Set<String> keys = new LinkedHashSet<>();
            e.getValue().forEach(t -> keys.add(key("river", t.name())));
            out.add(new Qa("reverse", "Which towns lie by the river " + e.getKey() + "?",
                    DemoWorld.riverTownsEn(e.getKey(), e.getValue()), keys));
        }
        for (Creature c : world.creatures()) {
            for (String kind : CREATURE_FACTS) {
                Set<String> keys = Set.of(key(kind, c.name()));
                for (int v = 0; v < 2; v++) {
                    out.add(new Qa("creature", creatureQuestionEn(kind, c.name(), v), creatureAnswerEn(kind, c), keys));
                }
                out.add(new Qa("creature-zh", creatureQuestionZh(kind, c.name()), creatureAnswerZh(kind, c), keys));
            }
            Set<String> all = new LinkedHashSet<>();
            CREATURE_FACTS.forEach(k -> all.add(key(k, c.name())));
            out.add(new Qa("creature", "Tell me about the " + c.name() + ".", DemoWorld.creatureAboutEn(c), all));
            out.add(new Qa("creature", "What is " + DemoWorld.aName(c.name()) + "?", DemoWorld.creatureAboutEn(c), all));
        }
        for (int a = 0; a <= 20; a++) {
            for (int b = 0; b <= 20; b++) {
                Set<String> plus = Set.of(key("plus", a, b));
                out.add(new Qa("plus", "What is " + a + " plus " + b + "?", DemoWorld.plusEn(a, b), plus));
                out.add(new Qa("plus", "How much is " + a + " + " + b + "?", DemoWorld.plusEn(a, b), plus));
                out.add(new Qa("plus", "What is " + a + " + " + b + "?", DemoWorld.plusEn(a, b), plus));
                out.add(new Qa("plus", "Add " + a + " and " + b + ".", DemoWorld.plusEn(a, b), plus));
                out.add(new Qa("math-zh", a + " 加 " + b + " 等于多少？", DemoWorld.plusZh(a, b), plus));
                if (b <= a) {
                    Set<String> minus = Set.of(key("minus", a, b));
                    out.add(new Qa("minus", "What is " + a + " minus " + b + "?", DemoWorld.minusEn(a, b), minus));
                    out.add(new Qa("minus", "How much is " + a + " - " + b + "?", DemoWorld.minusEn(a, b), minus));
                    out.add(new Qa("minus", "Subtract " + b + " from " + a + ".", DemoWorld.minusEn(a, b), minus));
                    out.add(new Qa("math-zh", a + " 减 " + b + " 等于多少？", DemoWorld.minusZh(a, b), minus));
                }
            }
        }
        for (int a = 1; a <= 10; a++) {
            for (int b = 1; b <= 10; b++) {
                Set<String> times = Set.of(key("times", a, b));
                out.add(new Qa("times", "What is " + a + " times " + b + "?", DemoWorld.timesEn(a, b), times));
                out.add(new Qa("times", "How much is " + a + " × " + b + "?", DemoWorld.timesEn(a, b), times));
                out.add(new Qa("times", "What is " + a + " * " + b + "?", DemoWorld.timesEn(a, b), times));
                out.add(new Qa("times", "Multiply " + a + " by " + b + ".", DemoWorld.timesEn(a, b), times));
                out.add(new Qa("math-zh", a + " 乘以 " + b + " 等于多少？", DemoWorld.timesZh(a, b), times));
            }
        }
        for (int d = 0; d < 7; d++) {
            String day = DAYS.get(d).en(), zh = DAYS.get(d).zh();
            Set<String> after = Set.of(key("after", d)), before = Set.of(key("before", d));
            out.add(new Qa("day", "What day comes after " + day + "?", DemoWorld.dayAfterEn(d), after));
            out.add(new Qa("day", "What is the day after " + day + "?", DemoWorld.dayAfterEn(d), after));
            out.add(new Qa("day", "What day comes before " + day + "?", DemoWorld.dayBeforeEn(d), before));
            out.add(new Qa("day", "What is the day before " + day + "?", DemoWorld.dayBeforeEn(d), before));
            out.add(new Qa("day-zh", zh + "之后是星期几？", DemoWorld.dayAfterZh(d), after));
            out.add(new Qa("day-zh", zh + "之前是星期几？", DemoWorld.dayBeforeZh(d), before));
        }
        String week = "A week has seven days: " + DemoWorld.listEn(DAYS.stream().map(DemoWorld.Term::en).toList()) + ".";
        out.add(new Qa("week", "How many days are in a week?", week, Set.of()));
        out.add(new Qa("week", "What are the days of the week?", week, Set.of()));
        out.add(new Qa("week", "一个星期有几天？",
                "一个星期有七天：" + DemoWorld.listZh(DAYS.stream().map(DemoWorld.Term::zh).toList()) + "。", Set.of()));
        return out;
    }
}
