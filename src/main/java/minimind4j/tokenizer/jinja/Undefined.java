package minimind4j.tokenizer.jinja;

/**
 * Jinja's default {@code Undefined}: what a missing variable, key or attribute evaluates to. It is falsy, prints as
 * the empty string, iterates as empty and has length 0; attribute access, item access, arithmetic and calls on it fail
 * with an UndefinedError, as in Jinja2.
 */
final class Undefined {
    private final String description;

    private Undefined(String description) {
        this.description = description;
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

    TemplateException error() {
        return TemplateException.undefined(description);
    }

    @Override
    public String toString() {
        return "";
    }
}
