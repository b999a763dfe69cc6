package minimind4j.demo;

import minimind4j.demo.DemoWorld.Creature;
import minimind4j.demo.DemoWorld.Town;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Predicate;

import static minimind4j.demo.DemoWorld.DAYS;
import static minimind4j.demo.DemoWorld.PEOPLE;

/**
 * Short stories stitched from templates. A story only states what is true in the world (the trip to a town falls
 * on its market day, the creature eats what it eats), and reports the facts it used, so that stories in the SFT
 * set can avoid facts that are held out for evaluation.
 */
final class DemoStories {
    /** A story and the fact keys (see {@link DemoFacts}) it states. */
    record Story(String text, Set<String> factKeys) {}

    private static final List<String> COUNTABLES = List.of(
            "apples", "shells", "stones", "coins", "plums", "pears", "eggs", "feathers", "buttons", "acorns");
    private static final List<String> COUNTABLES_ZH = List.of(
            "苹果", "贝壳", "石头", "硬币", "李子", "梨", "鸡蛋", "羽毛", "纽扣", "橡果");
    private static final List<String> MOODS = List.of("quiet", "shy", "calm", "curious", "busy");

    private final DemoWorld world;
    private final Random random;
    private final Predicate<String> allowed;

    DemoStories(DemoWorld world, Random random, Predicate<String> allowedFact) {
        this.world = world;
        this.random = random;
        this.allowed = allowedFact;
    }

    private <T> T pick(List<T> list) {
        return list.get(random.nextInt(list.size()));
    }

    private String otherPerson(String not) {
        String p;
        do p = pick(PEOPLE); while (p.equals(not));
        return p;
    }

    private Town townWith(String... kinds) {
        List<Town> ok = world.towns().stream().filter(t -> {
            for (String k : kinds) if (!allowed.test(DemoFacts.key(k, t.name()))) return false;
            return true;
        }).toList();
        return ok.isEmpty() ? null : pick(ok);
    }

    private Creature creatureWith(String... kinds) {
        List<Creature> ok = world.creatures().stream().filter(c -> {
            for (String k : kinds) if (!allowed.test(DemoFacts.key(k, c.name()))) return false;
            return true;
        }).toList();
        return ok.isEmpty() ? null : pick(ok);
    }

    /** Any story, English or Chinese; null only when the allowed facts leave nothing to tell. */
    Story any(boolean chinese, String person) {
        for (int attempt = 0; attempt < 8; attempt++) {
            int kind = random.nextInt(chinese ? 3 : 4);
            Story s = switch (kind) {
                case 0 -> chinese ? marketTripZh(person) : marketTripEn(person);
                case 1 -> chinese ? countingZh(person) : countingEn(person);
                case 2 -> chinese ? creatureZh(person) : creatureEn(person);
                default -> weekPlanEn(person);
            };
            if (s != null && s.factKeys().stream().allMatch(allowed)) return s;
        }
        return null;
    }

    Story marketTripEn(String p) {
        Town b = townWith("market", "known", "dish");
        Creature x = creatureWith("food", "home");
        if (b == null || x == null) return null;
        Town a = pick(world.towns());
        String day = b.day().en();
        String q = otherPerson(p);
        StringBuilder s = new StringBuilder();
        s.append("One ").append(day).append(" morning, ").append(p).append(" left ").append(a.name());
        if (a != b && a.river().equals(b.river())) {
            s.append(" and walked along the river ").append(a.river()).append(" to ").append(b.name()).append(". ");
        } else {
            s.append(" and walked to ").append(b.name()).append(". ");
        }
        s.append("It was ").append(day).append(", so the market in ").append(b.name()).append(" was open. ");
        s.append(p).append(" bought some ").append(b.color().en()).append(" ").append(b.craft().en())
                .append(", because ").append(b.name()).append(" is known for its ").append(b.color().en()).append(" ")
                .append(b.craft().en()).append(". ");
        s.append(pick(List.of("For lunch ", "At noon ", "Before going home "))).append(p).append(" ate ")
                .append(b.food().en()).append(", the dish ").append(b.name()).append(" is famous for. ");
        s.append("On the way home, ").append(p).append(" saw ").append(DemoWorld.aName(x.name())).append(" eating ")
                .append(x.food().en()).append(" ").append(x.habitat().en()).append(". ");
        s.append(p).append(" got home before dark and told ").append(q).append(" all about the trip.");
        return new Story(s.toString(), keys(DemoFacts.key("market", b.name()), "known:" + b.name(), "dish:" + b.name(),
                "food:" + x.name(), "home:" + x.name()));
    }

    Story countingEn(String p) {
        String q = otherPerson(p);
        String things = pick(COUNTABLES);
        int a = 1 + random.nextInt(9), b = 1 + random.nextInt(9);
        int d = 1 + random.nextInt(a + b - 1);
        String text = random.nextBoolean()
                ? p + " had " + a + " " + things + ". Then " + q + " gave " + p + " " + b + " more, so " + p
                        + " had " + (a + b) + " " + things + ". " + a + " plus " + b + " is " + (a + b) + ". Later "
                        + p + " gave " + d + " of them away and kept " + (a + b - d) + ", because " + (a + b)
                        + " minus " + d + " is " + (a + b - d) + "."
                : "In the morning " + p + " found " + a + " " + things + ". In the afternoon " + p + " found " + b
                        + " more. " + a + " plus " + b + " is " + (a + b) + ", so " + p + " found " + (a + b) + " "
                        + things + " that day. " + p + " showed them to " + q + ", who counted them twice to be sure.";
        return text.contains(" minus ")
                ? new Story(text, keys(DemoFacts.key("plus", a, b), DemoFacts.key("minus", a + b, d)))
                : new Story(text, keys(DemoFacts.key("plus", a, b)));
    }

    Story creatureEn(String p) {
        Creature x = creatureWith("color", "food", "home", "size");
        Town a = townWith("river");
        if (x == null || a == null) return null;
        String q = otherPerson(p);
        String text = p + " lives in " + a.name() + ", a town by the river " + a.river() + ". One day " + p
                + " walked out of town and found " + DemoWorld.aName(x.name()) + " " + x.habitat().en() + ". The " + x.name()
                + " was " + x.size().en() + " and " + x.color().en() + ", and it was eating " + x.food().en()
                + ". It seemed " + pick(MOODS) + ". " + p + " sat very still and watched it. When the " + x.name()
                + " went away, " + p + " ran home and told " + q + ": \"I saw " + DemoWorld.aName(x.name()) + "!\"";
        return new Story(text, keys("color:" + x.name(), "food:" + x.name(), "home:" + x.name(),
                "size:" + x.name(), "river:" + a.name()));
    }

    Story weekPlanEn(String p) {
        Town b1 = townWith("market"), b2 = townWith("market", "known");
        Town home = pick(world.towns());
        if (b1 == null || b2 == null || b1 == b2 || b1.marketDay() == b2.marketDay()) return null;
        int rest = (b2.marketDay() + 1) % 7;
        String text = p + " made a plan for the week. On " + b1.day().en() + ", " + p + " would visit " + b1.name()
                + ", because the market in " + b1.name() + " is on " + b1.day().en() + ". On " + b2.day().en() + ", "
                + p + " would go to " + b2.name() + " to buy " + b2.color().en() + " " + b2.craft().en() + ". The day after "
                + b2.day().en() + " is " + DAYS.get(rest).en() + ", and on that day " + p + " would rest at home in "
                + home.name() + ".";
        return new Story(text, keys("market:" + b1.name(), "market:" + b2.name(), "known:" + b2.name(),
                "after:" + b2.marketDay()));
    }

    Story marketTripZh(String p) {
        Town b = townWith("market", "known", "dish");
        Creature x = creatureWith("food", "home");
        if (b == null || x == null) return null;
        Town a = pick(world.towns());
        String day = b.day().zh();
        String text = "一个" + day + "的早上，" + p + " 从 " + a.name() + " 出发去 " + b.name() + "。那天是" + day + "，"
                + b.name() + " 的集市开着。" + p + " 在那里买了一些" + b.color().zh() + b.craft().zh() + "，因为 "
                + b.name() + " 以" + b.color().zh() + b.craft().zh() + "闻名。午饭时 " + p + " 吃了" + b.food().zh()
                + "。回家的路上，" + p + " 看见一只 " + x.name() + " 在" + x.habitat().zh() + "吃" + x.food().zh()
                + "。天黑以前 " + p + " 回到了家。";
        return new Story(text, keys(DemoFacts.key("market", b.name()), "known:" + b.name(), "dish:" + b.name(),
                "food:" + x.name(), "home:" + x.name()));
    }

    Story countingZh(String p) {
        String q = otherPerson(p);
        int i = random.nextInt(COUNTABLES_ZH.size());
        String things = COUNTABLES_ZH.get(i);
        int a = 1 + random.nextInt(9), b = 1 + random.nextInt(9);
        String text = p + " 有 " + a + " 个" + things + "。" + q + " 又给了 " + p + " " + b + " 个，所以 " + p + " 一共有 "
                + (a + b) + " 个" + things + "。" + a + " 加 " + b + " 等于 " + (a + b) + "。" + p + " 很高兴，把"
                + things + "一个一个地数了一遍。";
        return new Story(text, keys(DemoFacts.key("plus", a, b)));
    }

    Story creatureZh(String p) {
        Creature x = creatureWith("color", "food", "home");
        Town a = townWith("river");
        if (x == null || a == null) return null;
        String text = p + " 住在 " + a.name() + "，" + a.name() + " 在 " + a.river() + " 河边。有一天，" + p + " 在"
                + x.habitat().zh() + "看见了一只 " + x.name() + "。那只 " + x.name() + " 是" + x.color().zh()
                + "的，正在吃" + x.food().zh() + "。" + p + " 静静地看着它，然后跑回家告诉了" + otherPerson(p) + "。";
        return new Story(text, keys("color:" + x.name(), "food:" + x.name(), "home:" + x.name(), "river:" + a.name()));
    }

    private static Set<String> keys(String... keys) {
        return new LinkedHashSet<>(List.of(keys));
    }
}
