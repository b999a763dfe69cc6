package minimind4j.demo;

import minimind4j.demo.DemoWorld.Creature;
import minimind4j.demo.DemoWorld.Town;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads the fact sentences the demo answers use back out of text and checks each against the world, written
 * independently of the generator's sentence builders (patterns here, truths straight from the world's records).
 */
final class DemoFactChecker {
    /** A fact stated in a text: its key (river:Velmora, plus:3:4, ...) and whether the world agrees. */
    record Claim(String key, boolean holds, String sentence) {}

    /** {@code keyword}: a literal every match contains, to skip the regex on texts that cannot match. */
    private record Rule(String keyword, Pattern pattern, Function<Matcher, Optional<Claim>> check) {}

    private final DemoWorld world;
    private final List<Rule> rules = new ArrayList<>();

    DemoFactChecker(DemoWorld world) {
        this.world = world;
        String name = "([A-Z][a-z]+)";
        String han = "(\\p{IsHan}+?)";
        town(" lies by the river ", name + " lies by the river (\\w+)\\.", "river", (t, m) -> t.river().equals(m.group(2)));
        town(" is known for its ", name + " is known for its (\\w+) (\\w+)\\.", "known",
                (t, m) -> t.color().en().equals(m.group(2)) && t.craft().en().equals(m.group(3)));
        town(" is famous for ", name + " is famous for ([a-z ]+)\\.", "dish", (t, m) -> t.food().en().equals(m.group(2)));
        town("The people of ", "The people of " + name + " keep (\\w+)\\.", "animal", (t, m) -> t.animal().en().equals(m.group(2)));
        town("The market in ", "The market in " + name + " is on (\\w+)\\.", "market", (t, m) -> t.day().en().equals(m.group(2)));
        town(" 河边。", name + " 在 (\\w+) 河边。", "river", (t, m) -> t.river().equals(m.group(2)));
        town("闻名。", name + " 以" + han + "闻名。", "known", (t, m) -> (t.color().zh() + t.craft().zh()).equals(m.group(2)));
        town(" 的名菜是", name + " 的名菜是" + han + "。", "dish", (t, m) -> t.food().zh().equals(m.group(2)));
        town(" 的人养", name + " 的人养" + han + "。", "animal", (t, m) -> t.animal().zh().equals(m.group(2)));
        town(" 的集市在", name + " 的集市在(星期.)。", "market", (t, m) -> t.day().zh().equals(m.group(2)));
        rules.add(new Rule("The towns by the river ", Pattern.compile("The towns by the river (\\w+) are ([A-Za-z, ]+)\\."), m -> {
            List<String> truth = world.townsByRiver().get(m.group(1)).stream().map(Town::name).sorted().toList();
            List<String> said = Arrays.stream(m.group(2).split(", | and ")).sorted().toList();
            return Optional.of(new Claim("river-towns:" + m.group(1), truth.equals(said), m.group()));
        }));

        String creature = "([a-z]+)";
        creature(" is ", "An? " + creature + " is (\\w+)\\.", "color", (c, m) -> c.color().en().equals(m.group(2)));
        creature(" eats ", "An? " + creature + " eats (\\w+)\\.", "food", (c, m) -> c.food().en().equals(m.group(2)));
        creature(" lives ", "An? " + creature + " lives ((?:in|by) the \\w+)\\.", "home", (c, m) -> c.habitat().en().equals(m.group(2)));
        creature(" animal", "The " + creature + " is a (small|large) animal\\.", "size", (c, m) -> c.size().en().equals(m.group(2)));
        creature(" and lives ", "The " + creature + " is a (small|large) (\\w+) animal\\. It eats (\\w+) and lives ((?:in|by) the \\w+)\\.",
                "about", (c, m) -> c.size().en().equals(m.group(2)) && c.color().en().equals(m.group(3))
                        && c.food().en().equals(m.group(4)) && c.habitat().en().equals(m.group(5)));
        creature("的。", creature + " 是" + han + "的。", "color", (c, m) -> c.color().zh().equals(m.group(2)));
        creature(" 吃", creature + " 吃" + han + "。", "food", (c, m) -> c.food().zh().equals(m.group(2)));
        creature(" 住在", creature + " 住在" + han + "。", "home", (c, m) -> c.habitat().zh().equals(m.group(2)));
        creature(" 是一种", creature + " 是一种(.)动物。", "size", (c, m) -> c.size().zh().equals(m.group(2)));

        arithmetic(" plus ", "(\\d+) plus (\\d+) is (\\d+)\\.", "plus", (a, b) -> a + b);
        arithmetic(" minus ", "(\\d+) minus (\\d+) is (\\d+)\\.", "minus", (a, b) -> a - b);
        arithmetic(" times ", "(\\d+) times (\\d+) is (\\d+)\\.", "times", (a, b) -> a * b);
        arithmetic(" 加 ", "(\\d+) 加 (\\d+) 等于 (\\d+)。", "plus", (a, b) -> a + b);
        arithmetic(" 减 ", "(\\d+) 减 (\\d+) 等于 (\\d+)。", "minus", (a, b) -> a - b);
        arithmetic(" 乘以 ", "(\\d+) 乘以 (\\d+) 等于 (\\d+)。", "times", (a, b) -> a * b);

        Map<String, Integer> dayEn = dayIndex(true), dayZh = dayIndex(false);
        day("The day after ", "The day after (\\w+) is (\\w+)\\.", "after", dayEn, 1);
        day("The day before ", "The day before (\\w+) is (\\w+)\\.", "before", dayEn, 6);
        day("之后是", "(星期.)之后是(星期.)。", "after", dayZh, 1);
        day("之前是", "(星期.)之前是(星期.)。", "before", dayZh, 6);
    }

    private interface TownTest {
        boolean holds(Town t, Matcher m);
    }

    private interface CreatureTest {
        boolean holds(Creature c, Matcher m);
    }

    private void town(String keyword, String regex, String kind, TownTest test) {
        rules.add(new Rule(keyword, Pattern.compile(regex), m -> world.towns().stream()
                .filter(t -> t.name().equals(m.group(1))).findFirst()
                .map(t -> new Claim(kind + ":" + t.name(), test.holds(t, m), m.group()))));
    }

    private void creature(String keyword, String regex, String kind, CreatureTest test) {
        rules.add(new Rule(keyword, Pattern.compile(regex), m -> world.creatures().stream()
                .filter(c -> c.name().equals(m.group(1))).findFirst()
                .map(c -> new Claim(kind + ":" + c.name(), test.holds(c, m), m.group()))));
    }

    private void arithmetic(String keyword, String regex, String op, java.util.function.IntBinaryOperator f) {
        rules.add(new Rule(keyword, Pattern.compile("(?<![\\d.])" + regex), m -> {
            int a = Integer.parseInt(m.group(1)), b = Integer.parseInt(m.group(2));
            return Optional.of(new Claim(op + ":" + a + ":" + b, f.applyAsInt(a, b) == Integer.parseInt(m.group(3)), m.group()));
        }));
    }

    private void day(String keyword, String regex, String kind, Map<String, Integer> index, int offset) {
        rules.add(new Rule(keyword, Pattern.compile(regex), m -> {
            Integer d = index.get(m.group(1)), e = index.get(m.group(2));
            if (d == null || e == null) return Optional.of(new Claim(kind + ":?", false, m.group()));
            return Optional.of(new Claim(kind + ":" + d, (d + offset) % 7 == e, m.group()));
        }));
    }

    private static Map<String, Integer> dayIndex(boolean english) {
        return java.util.stream.IntStream.range(0, 7).boxed().collect(Collectors.toMap(
                i -> english ? DemoWorld.DAYS.get(i).en() : DemoWorld.DAYS.get(i).zh(), i -> i));
    }

    /** Every recognised fact sentence in {@code text}. */
    List<Claim> claims(String text) {
        List<Claim> out = new ArrayList<>();
        for (Rule rule : rules) {
            if (!text.contains(rule.keyword())) continue;
            Matcher m = rule.pattern().matcher(text);
            while (m.find()) rule.check().apply(m).ifPresent(out::add);
        }
        return out;
    }
}
