package minimind4j.tokenizer.jinja;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** Jinja's tests ({@code x is defined}, {@code x is string}, ...), with Jinja2's definitions. */
final class Tests {
    private Tests() {}

    private static final Set<String> NAMES = Set.of(
            "defined", "undefined", "none", "string", "mapping", "iterable", "sequence", "number", "integer", "float",
            "boolean", "true", "false", "callable", "odd", "even", "divisibleby", "eq", "equalto", "==", "ne", "!=",
            "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "sameas", "lower", "upper",
            "escaped", "filter", "test");

    static boolean exists(String name) {
        return NAMES.contains(name);
    }

    static boolean apply(String name, Object v, List<Object> args, Map<String, Object> kwargs) {
        switch (name) {
            case "defined":
                return !(v instanceof Undefined);
            case "undefined":
                return v instanceof Undefined;
            case "none":
                return v == null;
            case "string":
                return v instanceof String;
            case "mapping":
                return v instanceof Map;
            case "iterable":
                return Py.isIterable(v);
            case "sequence":
                // Jinja: len(value) and value.__getitem__ both exist (true for str, list, tuple, dict, undefined)
                return v instanceof String || v instanceof List || v instanceof Map || v instanceof Undefined;
            case "number":
                return Py.isNumber(v);
            case "integer":
                return Py.isInt(v);
            case "float":
                return Py.isFloat(v);
            case "boolean":
                return v instanceof Boolean;
            case "true":
                return Boolean.TRUE.equals(v);
            case "false":
                return Boolean.FALSE.equals(v);
            case "callable":
                return v instanceof JinjaCallable;
            case "odd":
            case "even": {
                Object m = Py.mod(v, 2L);
                return name.equals("odd") == Py.truthy(m);
            }
            case "lower":
                return PyStrings.isLower(Py.str(v));
            case "upper":
                return PyStrings.isUpper(Py.str(v));
            case "escaped":
                return false;
            case "filter":
                return v instanceof String s && Filters.exists(s);
            case "test":
                return v instanceof String s && exists(s);
            default:
                break;
        }
        Object other = Args.bind(name, List.of(name.equals("divisibleby") ? "num" : name.equals("in") ? "seq" : "other"),
                new Object[] {Args.REQUIRED}, args, kwargs)[0];
        return switch (name) {
            case "divisibleby" -> Py.eq(Py.mod(v, other), 0L);
            case "eq", "equalto", "==" -> Py.eq(v, other);
            case "ne", "!=" -> !Py.eq(v, other);
            case "lt", "lessthan", "<" -> Py.compare(v, other, "<") < 0;
            case "le", "<=" -> Py.compare(v, other, "<=") <= 0;
            case "gt", "greaterthan", ">" -> Py.compare(v, other, ">") > 0;
            case "ge", ">=" -> Py.compare(v, other, ">=") >= 0;
            case "in" -> Py.contains(other, v);
            case "sameas" -> v == other || (v != null && Py.isIntLike(v) && Py.isIntLike(other) && Py.eq(v, other)
                    && v.getClass() == other.getClass());
            default -> throw new TemplateException(TemplateException.Kind.RUNTIME, 0, "No test named '" + name + "'.");
        };
    }
}
