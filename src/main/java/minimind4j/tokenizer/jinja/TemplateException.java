package minimind4j.tokenizer.jinja;

/**
 * A chat template that does not parse, or that fails while rendering. The message is one line naming the template
 * line; {@link #kind()} says which Python/Jinja error it corresponds to, so callers (and the parity tests) can tell a
 * template's own {@code raise_exception(...)} from a bug in the data it was given.
 */
public final class TemplateException extends RuntimeException {

    /** The Python exception Jinja2 would raise in the same situation. */
    public enum Kind {
        /** TemplateSyntaxError: the template source is malformed. */
        SYNTAX,
        /** UndefinedError: an operation on an undefined value that Jinja does not allow (attribute, +, call). */
        UNDEFINED,
        /** TypeError: e.g. {@code 'a' + 1}, {@code none + 'x'}, {@code tojson} on a value JSON cannot hold. */
        TYPE,
        /** ValueError, IndexError, KeyError, ZeroDivisionError and friends. */
        VALUE,
        /** TemplateError raised by the template itself through {@code raise_exception(message)}. */
        RAISED,
        /** SecurityError: the sandbox refuses the operation (e.g. {@code list.append}). */
        SECURITY,
        /** TemplateRuntimeError and anything else. */
        RUNTIME
    }

    private final Kind kind;
    private final int line;
    private final String detail;

    public TemplateException(Kind kind, int line, String detail) {
        super(line > 0 ? "chat template line " + line + ": " + detail : "chat template: " + detail);
        this.kind = kind;
        this.line = line;
        this.detail = detail;
    }

    public Kind kind() {
        return kind;
    }

    /** 1-based line in the template source, or 0 when unknown. */
    public int line() {
        return line;
    }

    /** The message without the line prefix; for {@link Kind#RAISED} exactly what the template passed. */
    public String detail() {
        return detail;
    }

    /** Attaches a line to an error raised where the line was not known. */
    TemplateException atLine(int newLine) {
        return line > 0 || newLine <= 0 ? this : new TemplateException(kind, newLine, detail);
    }

    static TemplateException type(String detail) {
        return new TemplateException(Kind.TYPE, 0, detail);
    }

    static TemplateException value(String detail) {
        return new TemplateException(Kind.VALUE, 0, detail);
    }
}
