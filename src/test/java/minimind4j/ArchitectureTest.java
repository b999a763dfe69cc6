package minimind4j;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The package rules of ARCHITECTURE.md, read from the sources: which package uses which (imports and fully qualified
 * names in code, comments and strings left out), the graph has no cycle, nothing uses {@code cli}, the pure file
 * formats use nothing of the project but the root-level {@link UserError}, and no main file outside the Jinja
 * interpreter passes 500 lines.
 */
class ArchitectureTest {
    static final Path MAIN = Path.of("src/main/java");
    static final String ROOT = "minimind4j";
    /** Pure file-format packages: they may throw UserError and use nothing else of the project. */
    static final Set<String> PURE = Set.of("minimind4j.checkpoint.format", "minimind4j.gguf", "minimind4j.tokenizer.jinja");
    static final int MAX_LINES = 500;
    /**
     * What each package may use, as ARCHITECTURE.md's table says (the root package, with UserError, is open to all;
     * cli may use everything and is not listed). A new package must be added here, which is the point.
     */
    static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("minimind4j", Set.of()),
            Map.entry("minimind4j.gguf", Set.of()),
            Map.entry("minimind4j.tokenizer.jinja", Set.of()),
            Map.entry("minimind4j.checkpoint.format", Set.of()),
            Map.entry("minimind4j.launch", Set.of()),
            Map.entry("minimind4j.engine", Set.of()),
            Map.entry("minimind4j.data.formats", Set.of()),
            Map.entry("minimind4j.tokenizer", Set.of("minimind4j.tokenizer.jinja")),
            Map.entry("minimind4j.model", Set.of("minimind4j.engine")),
            Map.entry("minimind4j.data", Set.of("minimind4j.data.formats", "minimind4j.tokenizer")),
            Map.entry("minimind4j.demo", Set.of("minimind4j.tokenizer")),
            Map.entry("minimind4j.checkpoint", Set.of("minimind4j.checkpoint.format", "minimind4j.engine", "minimind4j.model")),
            Map.entry("minimind4j.generate", Set.of("minimind4j.engine", "minimind4j.model", "minimind4j.tokenizer")),
            Map.entry("minimind4j.train", Set.of("minimind4j.checkpoint", "minimind4j.checkpoint.format", "minimind4j.data",
                    "minimind4j.data.formats", "minimind4j.engine", "minimind4j.model", "minimind4j.tokenizer")),
            Map.entry("minimind4j.lora", Set.of("minimind4j.checkpoint", "minimind4j.checkpoint.format", "minimind4j.engine",
                    "minimind4j.model", "minimind4j.train")),
            Map.entry("minimind4j.export", Set.of("minimind4j.checkpoint", "minimind4j.checkpoint.format", "minimind4j.gguf",
                    "minimind4j.model", "minimind4j.tokenizer")),
            Map.entry("minimind4j.serve", Set.of("minimind4j.engine", "minimind4j.generate", "minimind4j.model", "minimind4j.tokenizer")),
            Map.entry("minimind4j.bench", Set.of("minimind4j.data", "minimind4j.engine", "minimind4j.lora", "minimind4j.model",
                    "minimind4j.train")));
    static final String EXEMPT_FROM_SIZE = "minimind4j/tokenizer/jinja/";

    /** A reference to another package: {@code minimind4j.pkg.Type}, lower-case segments, then a capitalised type. */
    static final Pattern REFERENCE = Pattern.compile("\\bminimind4j((?:\\.[a-z_][a-z0-9_]*)*)\\.[A-Z]");
    static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);

    /** package -> the packages its code refers to (not itself), with one file that does, for the message. */
    static Map<String, Map<String, Path>> graph() throws IOException {
        Map<String, Map<String, Path>> g = new TreeMap<>();
        for (Path f : javaFiles()) {
            String code = Files.readString(f);
            Matcher pm = PACKAGE.matcher(code);
            assertTrue(pm.find(), f + " has no package line");
            String pkg = pm.group(1);
            Map<String, Path> uses = g.computeIfAbsent(pkg, k -> new TreeMap<>());
            Matcher m = REFERENCE.matcher(codeOnly(code));
            while (m.find()) {
                String used = ROOT + m.group(1);
                if (!used.equals(pkg)) uses.putIfAbsent(used, f);
            }
        }
        return g;
    }

    static List<Path> javaFiles() throws IOException {
        try (Stream<Path> s = Files.walk(MAIN)) {
            return s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
    }

    /** The source without comments, string and character literals (so a doc link or a message is no dependency). */
    static String codeOnly(String src) {
        StringBuilder out = new StringBuilder(src.length());
        int i = 0, n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            if (c == '/' && i + 1 < n && src.charAt(i + 1) == '/') {
                while (i < n && src.charAt(i) != '\n') i++;
            } else if (c == '/' && i + 1 < n && src.charAt(i + 1) == '*') {
                int end = src.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                out.append(' ');
            } else if (src.startsWith("\"\"\"", i)) {
                int end = src.indexOf("\"\"\"", i + 3);
                i = end < 0 ? n : end + 3;
                out.append("\"\"");
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && src.charAt(j) != c) j += src.charAt(j) == '\\' ? 2 : 1;
                i = j + 1;
                out.append(c).append(c);
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** One cycle of the graph as "a -> b -> a", or null when it has none. */
    static String cycle(Map<String, ? extends Map<String, ?>> g) {
        Map<String, Integer> state = new HashMap<>();  // 1 on the current path, 2 done
        for (String start : g.keySet()) {
            Deque<String> path = new ArrayDeque<>();
            String found = visit(start, g, state, path);
            if (found != null) return found;
        }
        return null;
    }

    private static String visit(String p, Map<String, ? extends Map<String, ?>> g, Map<String, Integer> state, Deque<String> path) {
        Integer s = state.get(p);
        if (s != null && s == 2) return null;
        if (s != null) {
            List<String> loop = new ArrayList<>(path);
            loop = loop.subList(loop.indexOf(p), loop.size());
            return String.join(" -> ", loop) + " -> " + p;
        }
        state.put(p, 1);
        path.addLast(p);
        Map<String, ?> next = g.get(p);
        for (String q : next == null ? Set.<String>of() : next.keySet()) {
            String found = visit(q, g, state, path);
            if (found != null) return found;
        }
        path.removeLast();
        state.put(p, 2);
        return null;
    }

    @Test
    void thePackageGraphHasNoCycle() throws IOException {
        Map<String, Map<String, Path>> g = graph();
        assertTrue(g.size() > 10, "read the packages: " + g.keySet());
        String loop = cycle(g);
        assertNull(loop, () -> "a package cycle: " + loop + " (" + where(g, loop) + ")");
    }

    @Test
    void eachPackageUsesOnlyWhatArchitectureMdAllows() throws IOException {
        Map<String, String> violations = new TreeMap<>();
        graph().forEach((pkg, uses) -> {
            if (pkg.equals("minimind4j.cli")) return;
            Set<String> allowed = ALLOWED.get(pkg);
            if (allowed == null) {
                violations.put(pkg, "not in ARCHITECTURE.md's table (add it there and to ALLOWED)");
                return;
            }
            uses.forEach((used, file) -> {
                if (!used.equals(ROOT) && !allowed.contains(used)) violations.put(pkg + " -> " + used, file.toString());
            });
        });
        assertEquals(Map.of(), violations);
    }

    @Test
    void nothingOutsideCliUsesCli() throws IOException {
        List<String> users = new ArrayList<>();
        graph().forEach((pkg, uses) -> {
            if (!pkg.equals("minimind4j.cli") && uses.containsKey("minimind4j.cli")) users.add(pkg + " (" + uses.get("minimind4j.cli") + ")");
        });
        assertEquals(List.of(), users);
    }

    @Test
    void pureFormatsUseNothingOfTheProjectButUserError() throws IOException {
        Map<String, Map<String, Path>> g = graph();
        for (String pkg : PURE) {
            assertTrue(g.containsKey(pkg), pkg + " exists");
            Map<String, Path> uses = new TreeMap<>(g.get(pkg));
            uses.keySet().removeIf(u -> u.equals(ROOT) || u.startsWith(pkg + "."));
            assertEquals(Map.of(), uses, pkg + " must stand alone");
        }
    }

    @Test
    void noMainFileOutsideTheJinjaInterpreterPassesFiveHundredLines() throws IOException {
        Map<String, Long> big = new TreeMap<>();
        for (Path f : javaFiles()) {
            if (f.toString().replace('\\', '/').contains(EXEMPT_FROM_SIZE)) continue;
            long lines;
            try (Stream<String> s = Files.lines(f)) { lines = s.count(); }
            if (lines > MAX_LINES) big.put(MAIN.relativize(f).toString(), lines);
        }
        assertEquals(Map.of(), big);
    }

    /** The checks above can fail: a planted cycle is found, and comments and strings are no dependency. */
    @Test
    void theCheckerFindsAPlantedCycleAndIgnoresCommentsAndStrings() {
        Map<String, Map<String, Object>> g = new TreeMap<>();
        g.put("a", Map.of("b", 1));
        g.put("b", Map.of("c", 1));
        g.put("c", Map.of("a", 1));
        assertEquals("a -> b -> c -> a", cycle(g));
        g.put("c", Map.of());
        assertNull(cycle(g));

        String src = "package minimind4j.x;\n/** {@link minimind4j.cli.Minimind} */\n// minimind4j.serve.ChatServer\n"
                + "class A { String s = \"minimind4j.train.Trainer\"; minimind4j.model.MiniMindLM m; }";
        Set<String> found = new TreeSet<>();
        Matcher m = REFERENCE.matcher(codeOnly(src));
        while (m.find()) found.add(ROOT + m.group(1));
        assertEquals(Set.of("minimind4j.model"), found);
    }

    private static String where(Map<String, Map<String, Path>> g, String loop) {
        if (loop == null) return "";
        String[] p = loop.split(" -> ");
        StringBuilder s = new StringBuilder();
        for (int i = 0; i + 1 < p.length; i++) s.append(p[i]).append(" uses ").append(p[i + 1]).append(" in ").append(g.get(p[i]).get(p[i + 1])).append("; ");
        return s.toString();
    }
}
