package minimind4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import minimind4j.TestPaths;

/**
 * Renders every conversation of {@code conversations.jsonl} with MiniMind's two real chat templates and compares
 * with what Python Jinja2 rendered, configured as transformers configures it (the checked-in expected-*.jsonl).
 */
class ChatTemplateParityTest {

    @TestFactory
    Stream<DynamicTest> minimind3MatchesJinja() {
        return cases(TestPaths.minimind3(), "expected-minimind3.jsonl");
    }

    @TestFactory
    Stream<DynamicTest> minimind2MatchesJinja() {
        return cases(TestPaths.minimind2(), "expected-minimind2.jsonl");
    }

    @SuppressWarnings("unchecked")
    private static Stream<DynamicTest> cases(Path tokenizerDir, String expectedFile) {
        TokenizerConfig config = TokenizerConfig.read(tokenizerDir.resolve("tokenizer_config.json"));
        ChatTemplate template = ChatTemplate.compile(config.chatTemplate());
        List<Map<String, Object>> conversations = ParityFixtures.read("conversations.jsonl");
        List<Map<String, Object>> expected = ParityFixtures.read(expectedFile);
        assertEquals(conversations.size(), expected.size(), expectedFile + " is stale: rerun scripts/render_templates.py");
        assertTrue(conversations.size() >= 24, "the parity set should stay varied");
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < conversations.size(); i++) {
            Map<String, Object> c = conversations.get(i);
            Map<String, Object> e = expected.get(i);
            assertEquals(c.get("name"), e.get("name"), expectedFile + " is stale: rerun scripts/render_templates.py");
            tests.add(DynamicTest.dynamicTest((String) c.get("name"), () -> ParityFixtures.assertSameAsJinja(e,
                    () -> template.render(config.chatContext((List<Map<String, Object>>) c.get("messages"),
                            (List<Object>) c.get("tools"), (Boolean) c.get("add_generation_prompt"),
                            (Map<String, Object>) c.get("extra"))))));
        }
        return tests.stream();
    }
}
