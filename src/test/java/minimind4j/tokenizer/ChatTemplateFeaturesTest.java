package minimind4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import minimind4j.tokenizer.jinja.Template;

/**
 * One small template per interpreter feature (whitespace control, slicing with emoji, tojson spacing, namespace, loop
 * variables, filters, tests, errors...), each compared with Python Jinja2's output in {@code expected-features.jsonl}.
 */
class ChatTemplateFeaturesTest {

    @TestFactory
    @SuppressWarnings("unchecked")
    Stream<DynamicTest> everyFeatureRendersAsJinja() {
        List<Map<String, Object>> features = ParityFixtures.read("features.jsonl");
        List<Map<String, Object>> expected = ParityFixtures.read("expected-features.jsonl");
        assertEquals(features.size(), expected.size(), "expected-features.jsonl is stale: rerun scripts/render_templates.py");
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < features.size(); i++) {
            Map<String, Object> f = features.get(i);
            Map<String, Object> e = expected.get(i);
            assertEquals(f.get("name"), e.get("name"), "expected-features.jsonl is stale: rerun scripts/render_templates.py");
            tests.add(DynamicTest.dynamicTest((String) f.get("name"), () -> ParityFixtures.assertSameAsJinja(e,
                    () -> Template.parse((String) f.get("template")).render((Map<String, Object>) f.get("context")))));
        }
        return tests.stream();
    }
}
