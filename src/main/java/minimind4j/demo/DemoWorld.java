package minimind4j.demo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Random;

/**
 * The small fictional world the demo data talks about: 30 towns on 6 rivers, 12 made-up animals, the days of the
 * week and small-number arithmetic. The names and word lists are fixed; which town gets which river, craft, dish,
 * farm animal and market day (and which creature gets which colour, food, home and size) is drawn from the seed.
 * Every sentence about a fact is written by one method here, so the corpus, the answers and the tests agree.
 */
public record DemoWorld(List<Town> towns, List<Creature> creatures) {

    /** A word or phrase with its Chinese rendering. */
    public record Term(String en, String zh) {}

    /** A craft a town is known for; {@code mass} crafts (pottery, glass) take "is", the others "are". */
    public record Craft(String en, String zh, boolean mass) {}

    /** Where a creature lives: {@code en} completes "lives ..." ("in the forest"), {@code zh} completes "住在...". */
    public record Habitat(String en, String zh) {}

    public record Town(String name, String river, Term color, Craft craft, Term food, Term animal, int marketDay) {
        public Term day() {
            return DAYS.get(marketDay);
        }
    }

    public record Creature(String name, Term color, Term food, Habitat habitat, Term size) {}

    public static final List<String> TOWN_NAMES = List.of(
            "Velmora", "Quillby", "Tarnwick", "Osselt", "Brindlemoor", "Caskaro", "Dunmire", "Feldara", "Gorlan",
            "Halvenn", "Istrel", "Jorvale", "Kelmith", "Lunhaven", "Marrowdeep", "Nettlebrook", "Orvane", "Pellwick",
            "Rundaro", "Sablecross", "Thornquay", "Umberlin", "Vantoll", "Wrenmoor", "Yarrowby", "Zelkin",
            "Ambergrove", "Brackmere", "Cindervale", "Dovecrest");
    public static final List<String> RIVERS = List.of("Ash", "Lumen", "Corra", "Vey", "Tansy", "Orrin");
    /** Made-up names used to ask about towns that do not exist. */
    public static final List<String> UNKNOWN_TOWNS = List.of(
            "Zarvik", "Poldane", "Mistral Hollow", "Quenby", "Ostrava Minor", "Kellshade", "Tumbleford", "Varrow");
    public static final List<Term> COLORS = List.of(
            new Term("blue", "蓝色"), new Term("red", "红色"), new Term("green", "绿色"), new Term("yellow", "黄色"),
            new Term("white", "白色"), new Term("black", "黑色"), new Term("purple", "紫色"), new Term("orange", "橙色"));
    public static final List<Craft> CRAFTS = List.of(
            new Craft("pottery", "陶器", true), new Craft("lanterns", "灯笼", false), new Craft("glass", "玻璃", true),
            new Craft("rugs", "地毯", false), new Craft("kites", "风筝", false), new Craft("baskets", "篮子", false),
            new Craft("bells", "铃铛", false), new Craft("hats", "帽子", false), new Craft("candles", "蜡烛", false),
            new Craft("boats", "小船", false));
    public static final List<Term> DISHES = List.of(
            new Term("honey bread", "蜂蜜面包"), new Term("plum soup", "李子汤"), new Term("grilled fish", "烤鱼"),
            new Term("rice cakes", "米糕"), new Term("mushroom pie", "蘑菇派"), new Term("apple porridge", "苹果粥"),
            new Term("onion stew", "洋葱炖菜"), new Term("pear jam", "梨酱"), new Term("walnut cookies", "核桃饼干"),
            new Term("pepper noodles", "辣椒面条"), new Term("cheese dumplings", "奶酪饺子"), new Term("berry tea", "浆果茶"));
    public static final List<Term> FARM_ANIMALS = List.of(
            new Term("goats", "山羊"), new Term("geese", "鹅"), new Term("horses", "马"), new Term("bees", "蜜蜂"),
            new Term("sheep", "绵羊"), new Term("ducks", "鸭子"), new Term("pigeons", "鸽子"), new Term("cows", "奶牛"));
    public static final List<Term> DAYS = List.of(
            new Term("Monday", "星期一"), new Term("Tuesday", "星期二"), new Term("Wednesday", "星期三"),
            new Term("Thursday", "星期四"), new Term("Friday", "星期五"), new Term("Saturday", "星期六"),
            new Term("Sunday", "星期日"));
    public static final List<String> CREATURE_NAMES = List.of(
            "glimmerfox", "mossbear", "puddlehop", "thistlemole", "emberwing", "brookcat", "dapplehorn",
            "nightwhisk", "pebbleback", "lanternfly", "frostowl", "reedrunner");
    public static final List<Term> CREATURE_FOODS = List.of(
            new Term("berries", "浆果"), new Term("fish", "鱼"), new Term("seeds", "种子"), new Term("moss", "苔藓"),
            new Term("honey", "蜂蜜"), new Term("beetles", "甲虫"), new Term("leaves", "树叶"), new Term("nuts", "坚果"));
    public static final List<Habitat> HABITATS = List.of(
            new Habitat("in the forest", "森林里"), new Habitat("in the marsh", "沼泽里"),
            new Habitat("in the meadow", "草地上"), new Habitat("in the caves", "山洞里"),
            new Habitat("in the hills", "山丘上"), new Habitat("by the lake", "湖边"),
            new Habitat("in the reeds", "芦苇丛里"), new Habitat("in the mountains", "山里"));
    public static final List<Term> SIZES = List.of(new Term("small", "小"), new Term("large", "大"));
    public static final List<String> PEOPLE = List.of(
            "Mira", "Tobin", "Lysa", "Oren", "Fenna", "Jory", "Calla", "Bram", "Nessa", "Pim", "Rowan", "Idris");

    public DemoWorld {
        towns = List.copyOf(towns);
        creatures = List.copyOf(creatures);
    }

    /** Draws every assignment from {@code seed}; the same seed always gives the same world. */
    public static DemoWorld create(long seed) {
        Random random = new Random(seed);
        List<String> rivers = spread(RIVERS, TOWN_NAMES.size(), random);
        List<int[]> crafts = new ArrayList<>();
        for (int c = 0; c < COLORS.size(); c++) {
            for (int k = 0; k < CRAFTS.size(); k++) crafts.add(new int[] {c, k});
        }
        Collections.shuffle(crafts, random);
        List<Term> dishes = spread(DISHES, TOWN_NAMES.size(), random);
        List<Term> animals = spread(FARM_ANIMALS, TOWN_NAMES.size(), random);
        List<Integer> days = spread(List.of(0, 1, 2, 3, 4, 5, 6), TOWN_NAMES.size(), random);
        List<Town> towns = new ArrayList<>();
        for (int i = 0; i < TOWN_NAMES.size(); i++) {
            int[] ck = crafts.get(i);
            towns.add(new Town(TOWN_NAMES.get(i), rivers.get(i), COLORS.get(ck[0]), CRAFTS.get(ck[1]),
                    dishes.get(i), animals.get(i), days.get(i)));
        }
        List<Term> colors = spread(COLORS, CREATURE_NAMES.size(), random);
        List<Term> foods = spread(CREATURE_FOODS, CREATURE_NAMES.size(), random);
        List<Habitat> habitats = spread(HABITATS, CREATURE_NAMES.size(), random);
        List<Creature> creatures = new ArrayList<>();
        for (int i = 0; i < CREATURE_NAMES.size(); i++) {
            creatures.add(new Creature(CREATURE_NAMES.get(i), colors.get(i), foods.get(i), habitats.get(i),
                    SIZES.get(random.nextInt(SIZES.size()))));
        }
        return new DemoWorld(towns, creatures);
    }

    /** {@code n} values that use every choice about equally often, in random order. */
    private static <T> List<T> spread(List<T> choices, int n, Random random) {
        List<T> out = new ArrayList<>();
        while (out.size() < n) out.addAll(choices);
        out = new ArrayList<>(out.subList(0, n));
        Collections.shuffle(out, random);
        return out;
    }

    public Town town(String name) {
        return towns.stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new NoSuchElementException("no town " + name));
    }

    public Creature creature(String name) {
        return creatures.stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new NoSuchElementException("no creature " + name));
    }

    /** Towns by river, in town order. */
    public Map<String, List<Town>> townsByRiver() {
        Map<String, List<Town>> byRiver = new LinkedHashMap<>();
        for (String r : RIVERS) byRiver.put(r, new ArrayList<>());
        for (Town t : towns) byRiver.get(t.river()).add(t);
        return byRiver;
    }

    // ---- canonical sentences: the answers use exactly these, the corpus uses these and looser variants ----

    public static String riverEn(Town t) {
        return t.name() + " lies by the river " + t.river() + ".";
    }

    public static String knownEn(Town t) {
        return t.name() + " is known for its " + t.color().en() + " " + t.craft().en() + ".";
    }

    public static String dishEn(Town t) {
        return t.name() + " is famous for " + t.food().en() + ".";
    }

    public static String animalEn(Town t) {
        return "The people of " + t.name() + " keep " + t.animal().en() + ".";
    }

    public static String marketEn(Town t) {
        return "The market in " + t.name() + " is on " + t.day().en() + ".";
    }

    public static String riverZh(Town t) {
        return t.name() + " 在 " + t.river() + " 河边。";
    }

    public static String knownZh(Town t) {
        return t.name() + " 以" + t.color().zh() + t.craft().zh() + "闻名。";
    }

    public static String dishZh(Town t) {
        return t.name() + " 的名菜是" + t.food().zh() + "。";
    }

    public static String animalZh(Town t) {
        return t.name() + " 的人养" + t.animal().zh() + "。";
    }

    public static String marketZh(Town t) {
        return t.name() + " 的集市在" + t.day().zh() + "。";
    }

    public static String riverTownsEn(String river, List<Town> towns) {
        return "The towns by the river " + river + " are " + listEn(towns.stream().map(Town::name).toList()) + ".";
    }

    /** "a glimmerfox", "an emberwing". */
    public static String aName(String name) {
        return ("aeiou".indexOf(name.charAt(0)) >= 0 ? "an " : "a ") + name;
    }

    private static String capitalized(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    public static String creatureColorEn(Creature c) {
        return capitalized(aName(c.name())) + " is " + c.color().en() + ".";
    }

    public static String creatureFoodEn(Creature c) {
        return capitalized(aName(c.name())) + " eats " + c.food().en() + ".";
    }

    public static String creatureHomeEn(Creature c) {
        return capitalized(aName(c.name())) + " lives " + c.habitat().en() + ".";
    }

    public static String creatureSizeEn(Creature c) {
        return "The " + c.name() + " is a " + c.size().en() + " animal.";
    }

    public static String creatureAboutEn(Creature c) {
        return "The " + c.name() + " is a " + c.size().en() + " " + c.color().en() + " animal. It eats "
                + c.food().en() + " and lives " + c.habitat().en() + ".";
    }

    public static String creatureColorZh(Creature c) {
        return c.name() + " 是" + c.color().zh() + "的。";
    }

    public static String creatureFoodZh(Creature c) {
        return c.name() + " 吃" + c.food().zh() + "。";
    }

    public static String creatureHomeZh(Creature c) {
        return c.name() + " 住在" + c.habitat().zh() + "。";
    }

    public static String creatureSizeZh(Creature c) {
        return c.name() + " 是一种" + c.size().zh() + "动物。";
    }

    public static String plusEn(int a, int b) {
        return a + " plus " + b + " is " + (a + b) + ".";
    }

    public static String minusEn(int a, int b) {
        return a + " minus " + b + " is " + (a - b) + ".";
    }

    public static String timesEn(int a, int b) {
        return a + " times " + b + " is " + (a * b) + ".";
    }

    public static String plusZh(int a, int b) {
        return a + " 加 " + b + " 等于 " + (a + b) + "。";
    }

    public static String minusZh(int a, int b) {
        return a + " 减 " + b + " 等于 " + (a - b) + "。";
    }

    public static String timesZh(int a, int b) {
        return a + " 乘以 " + b + " 等于 " + (a * b) + "。";
    }

    public static String dayAfterEn(int d) {
        return "The day after " + DAYS.get(d).en() + " is " + DAYS.get((d + 1) % 7).en() + ".";
    }

    public static String dayBeforeEn(int d) {
        return "The day before " + DAYS.get(d).en() + " is " + DAYS.get((d + 6) % 7).en() + ".";
    }

    public static String dayAfterZh(int d) {
        return DAYS.get(d).zh() + "之后是" + DAYS.get((d + 1) % 7).zh() + "。";
    }

    public static String dayBeforeZh(int d) {
        return DAYS.get(d).zh() + "之前是" + DAYS.get((d + 6) % 7).zh() + "。";
    }

    /** "A", "A and B", "A, B and C". */
    public static String listEn(List<String> items) {
        if (items.size() <= 1) return String.join("", items);
        return String.join(", ", items.subList(0, items.size() - 1)) + " and " + items.get(items.size() - 1);
    }

    public static String listZh(List<String> items) {
        if (items.size() <= 1) return String.join("", items);
        return String.join("、", items.subList(0, items.size() - 1)) + "和" + items.get(items.size() - 1);
    }
}
