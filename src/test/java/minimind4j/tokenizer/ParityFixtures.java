package minimind4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import minimind4j.tokenizer.jinja.TemplateException;

/**
 * The template-parity fixtures: inputs under {@code src/test/resources/template-parity/} and the outputs Python Jinja2
 * produced for them ({@code scripts/render_templates.py}).
 */
final class ParityFixtures {
    static final String DIR = "/template-parity/";
    static final ObjectMapper JSON = new ObjectMapper();

    private ParityFixtures() {}

    static List<Map<String, Object>> read(String name) {
        try (InputStream in = ParityFixtures.class.getResourceAsStream(DIR + name)) {
            if (in == null) throw new IllegalStateException("missing test resource " + DIR + name);
            List<Map<String, Object>> rows = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) rows.add(JSON.readValue(line, new TypeReference<Map<String, Object>>() {}));
            }
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Python's exception type name to the kind our interpreter reports for the same failure. */
    static TemplateException.Kind kindOf(String pythonType) {
        return switch (pythonType) {
            case "TemplateSyntaxError", "TemplateAssertionError" -> TemplateException.Kind.SYNTAX;
            case "UndefinedError" -> TemplateException.Kind.UNDEFINED;
            case "TypeError" -> TemplateException.Kind.TYPE;
            case "TemplateError" -> TemplateException.Kind.RAISED;
            case "SecurityError" -> TemplateException.Kind.SECURITY;
            case "ValueError", "IndexError", "KeyError", "ZeroDivisionError", "OverflowError" ->
                    TemplateException.Kind.VALUE;
            default -> TemplateException.Kind.RUNTIME;
        };
    }

    /** Asserts that {@code render} gives exactly the expected output, or fails the way Jinja2 failed. */
    @SuppressWarnings("unchecked")
    static void assertSameAsJinja(Map<String, Object> expected, Supplier<String> render) {
        String name = (String) expected.get("name");
        if (expected.containsKey("output")) {
            assertEquals(expected.get("output"), render.get(), name);
            return;
        }
        Map<String, Object> error = (Map<String, Object>) expected.get("error");
        TemplateException e = assertThrows(TemplateException.class, render::get,
                name + ": Jinja2 raised " + error.get("type") + ": " + error.get("message"));
        assertEquals(kindOf((String) error.get("type")), e.kind(),
                name + ": Jinja2 raised " + error.get("type") + ": " + error.get("message") + "; we raised " + e);
        if (e.kind() == TemplateException.Kind.RAISED) assertEquals(error.get("message"), e.detail(), name);
        if (error.containsKey("line")) assertEquals(((Number) error.get("line")).intValue(), e.line(), name + ": line of " + e);
    }
}
