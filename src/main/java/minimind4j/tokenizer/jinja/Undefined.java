package minimind4j.tokenizer.jinja;

/**
 * Jinja's default {@code Undefined}: what a missing variable, key or attribute evaluates to. It is falsy, prints as
 * the empty string, iterates as empty and has length 0; attribute access, item access, arithmetic and calls on it fail
 * with an UndefinedError, as in Jinja2.
 */
final class Undefined {
    private final String description;
    private final TemplateException.Kind kind;

    private Undefined(String description, TemplateException.Kind kind) {
        this.description = description;
        this.kind = kind;
    }

    private Undefined(String description) {
        this(description, TemplateException.Kind.UNDEFINED);
    }

    static Undefined named(String name) {
        return new Undefined("'" + name + "' is undefined");
    }

    static Undefined missingAttribute(Object owner, Object name) {
        return new Undefined("'" + Py.typeName(owner) + " object' has no attribute " + Py.repr(name));
    }

    static Undefined of(String description) {
        return new Undefined(description);
    }

    /** What the sandbox returns for an attribute it refuses (e.g. {@code list.append}): using it is a SecurityError. */
    static Undefined unsafe(Object owner, String name) {
        return new Undefined("access to attribute '" + name + "' of '" + Py.typeName(owner) + "' object is unsafe.",
                TemplateException.Kind.SECURITY);
    }

    TemplateException error() {
        return new TemplateException(kind, 0, description);
    }

    @Override
    public String toString() {
        return "";
    }
}
