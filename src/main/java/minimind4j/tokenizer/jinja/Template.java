package minimind4j.tokenizer.jinja;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A parsed Jinja2 template, rendered with Python semantics in the environment Hugging Face transformers uses for chat
 * templates: trim_blocks, lstrip_blocks, loop controls, an immutable sandbox, {@code tojson} as
 * {@code json.dumps(ensure_ascii=False)} and the globals {@code raise_exception}, {@code strftime_now},
 * {@code namespace}, {@code range} and {@code dict}. Immutable: parse once, render from any number of threads.
 */
public final class Template {
    private final List<Ast.Stmt> body;

    private Template(List<Ast.Stmt> body) {
        this.body = body;
    }

    /** @throws TemplateException of kind SYNTAX, with the template line, when the source does not parse */
    public static Template parse(String source) {
        Objects.requireNonNull(source, "source");
        return new Template(List.copyOf(Parser.parse(source)));
    }

    /**
     * @param context variables: Java {@code Map}, {@code List}, {@code String}, integral numbers, floating
     *                numbers, {@code Boolean} and {@code null}, nested freely
     * @throws TemplateException when rendering fails as Jinja2 would fail (or the template raised)
     */
    public String render(Map<String, ?> context) {
        return new Interpreter().render(body, context);
    }
}
