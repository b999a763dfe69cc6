package minimind4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

import minimind4j.tokenizer.jinja.TemplateException;

/**
 * The public API, with a few readable examples. Every expected string below was printed by Python Jinja2 in the
 * transformers configuration (scripts/render_templates.py's make_environment()); the exhaustive comparisons are in
 * ChatTemplateFeaturesTest and ChatTemplateParityTest.
 */
class ChatTemplateTest {

    private static String render(String source, Map<String, Object> context) {
        return ChatTemplate.compile(source).render(context);
    }

    @Test
    void tojsonUsesPythonSeparatorsAndKeepsOrderAndNonAscii() {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("name", "北京");
        x.put("args", java.util.Arrays.asList(1, 2.5, null, true));
        assertEquals("{\"name\": \"北京\", \"args\": [1, 2.5, null, true]}", render("{{ x|tojson }}", Map.of("x", x)));

        Map<String, Object> y = new LinkedHashMap<>();
        y.put("a", List.of(1, Map.of()));
        y.put("b", "é");
        assertEquals("{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": \"é\"\n}", render("{{ x|tojson(indent=2) }}", Map.of("x", y)));
    }

    @Test
    void stringsAreSlicedByCodePoint() {
        assertEquals("😀b|🏽👍b😀a|5", render("{{ s[1:3] }}|{{ s[::-1] }}|{{ s|length }}", Map.of("s", "a😀b👍🏽")));
    }

    @Test
    void namespaceCarriesStateOutOfLoops() {
        assertEquals("6", render("{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}"
                + "{% endfor %}{{ ns.n }}", Map.of()));
    }

    @Test
    void loopVariables() {
        assertEquals("1a/2b/3c", render("{% for x in \"abc\" %}{{ loop.index }}{{ x }}{{ \"/\" if not loop.last }}"
                + "{% endfor %}", Map.of()));
    }

    @Test
    void trimBlocksAndLstripBlocks() {
        assertEquals("<ul>\n    <li>1</li>\n    <li>2</li>\n</ul>",
                render("<ul>\n  {% for x in [1, 2] %}\n    <li>{{ x }}</li>\n  {% endfor %}\n</ul>\n", Map.of()));
    }

    @Test
    void valuesPrintAsPythonPrintsThem() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("a", 1);
        d.put("b", false);
        assertEquals("{'a': 1, 'b': False}|[1.0, None, \"it's\"]",
                render("{{ d }}|{{ [1.0, None, \"it's\"] }}", Map.of("d", d)));
    }

    @Test
    void syntaxErrorsAreOneLineWithTheTemplateLine() {
        TemplateException e = assertThrows(TemplateException.class,
                () -> ChatTemplate.compile("ok\n{% for x in xs %}\n{{ x + }}\n{% endfor %}"));
        assertEquals(TemplateException.Kind.SYNTAX, e.kind());
        assertEquals(3, e.line());
        assertTrue(e.getMessage().startsWith("chat template line 3: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        ChatTemplate t = ChatTemplate.compile("{% if messages[0].role != 'user' %}\n"
                + "{{ raise_exception('first message must be from the user') }}\n{% endif %}");
        TemplateException e = assertThrows(TemplateException.class,
                () -> t.render(Map.of("messages", List.of(Map.of("role", "assistant")))));
        assertEquals(TemplateException.Kind.RAISED, e.kind());
        assertEquals("first message must be from the user", e.detail());
        assertEquals(2, e.line());
        assertEquals("", t.render(Map.of("messages", List.of(Map.of("role", "user")))));
    }

    @Test
    void oneCompiledTemplateRendersFromManyThreads() throws Exception {
        ChatTemplate t = ChatTemplate.compile("{% set ns = namespace(s='') %}{% for m in messages %}"
                + "{% set ns.s = ns.s ~ m.content %}{% endfor %}{{ ns.s }}");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int task = 0; task < 8; task++) {
                String word = "w" + task;
                results.add(pool.submit(() -> {
                    for (int i = 0; i < 200; i++) {
                        String out = t.render(Map.of("messages", List.of(Map.of("content", word), Map.of("content", i))));
                        if (!out.equals(word + i)) return false;
                    }
                    return true;
                }));
            }
            for (Future<Boolean> r : results) assertTrue(r.get());
        } finally {
            pool.shutdownNow();
        }
    }
}
