package minimind4j.tokenizer;

import java.util.Map;
import java.util.Objects;

import minimind4j.tokenizer.jinja.Template;
import minimind4j.tokenizer.jinja.TemplateException;

/**
 * A tokenizer's chat template, rendered exactly as Hugging Face transformers' {@code apply_chat_template} renders it
 * with Python Jinja2 (same output, byte for byte, on MiniMind's templates; see the template-parity tests).
 * Compile once, render many times, from any thread.
 */
public final class ChatTemplate {
    private final String source;
    private final Template template;

    private ChatTemplate(String source, Template template) {
        this.source = source;
        this.template = template;
    }

    /** @throws TemplateException (kind SYNTAX) naming the template line when the source is not valid Jinja */
    public static ChatTemplate compile(String source) {
        Objects.requireNonNull(source, "source");
        return new ChatTemplate(source, Template.parse(source));
    }

    /**
     * @param context template variables (messages, tools, add_generation_prompt, bos_token, ...) as Java maps,
     *                lists, strings, numbers, booleans and nulls
     * @throws TemplateException when Jinja2 would raise, including the template's own {@code raise_exception}
     */
    public String render(Map<String, Object> context) {
        return template.render(context);
    }

    public String source() {
        return source;
    }
}
