package minimind4j.tokenizer.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Python methods of str, dict and list that a template can call ({@code content.split('</think>')},
 * {@code tool.items()}). Methods that would modify a value are refused as Jinja's ImmutableSandboxedEnvironment
 * refuses them.
 */
final class Methods {
    private Methods() {}

    private static final Set<String> STR = Set.of(
            "startswith", "endswith", "split", "rsplit", "splitlines", "strip", "lstrip", "rstrip", "replace", "lower",
            "upper", "title", "capitalize", "swapcase", "casefold", "format", "join", "find", "rfind", "index",
            "rindex", "count", "isdigit", "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "islower",
            "isupper", "istitle", "center", "ljust", "rjust", "zfill", "partition", "rpartition", "removeprefix",
            "removesuffix", "encode", "expandtabs", "format_map", "isascii", "isidentifier", "isprintable",
            "maketrans", "translate");
    private static final Set<String> DICT = Set.of("items", "keys", "values", "get", "copy", "fromkeys");
    private static final Set<String> DICT_MUTATING = Set.of("pop", "popitem", "setdefault", "update", "clear");
    private static final Set<String> LIST = Set.of("index", "count", "copy");
    private static final Set<String> LIST_MUTATING =
            Set.of("append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear");

    /** Whether {@code obj.name} is a method the immutable sandbox refuses (it would modify obj). */
    static boolean isMutating(Object obj, String name) {
        return obj instanceof Map ? DICT_MUTATING.contains(name)
                : obj instanceof List && !(obj instanceof PyTuple) && LIST_MUTATING.contains(name);
    }

    /** {@code obj.name} when it names a method of obj's Python type, else null. */
    static JinjaCallable bind(Object obj, String name) {
        boolean known = obj instanceof String ? STR.contains(name)
                : obj instanceof Map ? DICT.contains(name) || DICT_MUTATING.contains(name)
                : obj instanceof List ? LIST.contains(name) || (!(obj instanceof PyTuple) && LIST_MUTATING.contains(name))
                : false;
        if (!known) return null;
        return (interp, args, kwargs) -> call(obj, name, args, kwargs);
    }

    private static Object call(Object obj, String name, List<Object> args, Map<String, Object> kwargs) {
        if (obj instanceof String s) return str(s, name, args, kwargs);
        if (obj instanceof Map<?, ?> m) return dict(m, name, args, kwargs);
        return list((List<?>) obj, name, args, kwargs);
    }

    private static TemplateException unsafe(Object obj, String name) {
        return new TemplateException(TemplateException.Kind.SECURITY, 0,
                "access to attribute '" + name + "' of '" + Py.typeName(obj) + "' object is unsafe.");
    }

    private static String strArg(String fn, Object v) {
        if (v instanceof String s) return s;
        throw TemplateException.type(fn + " arg must be None or str, not " + Py.typeName(v));
    }

    private static String optStr(String fn, Object v) {
        return v == null ? null : strArg(fn, v);
    }

    private static int intArg(Object v) {
        return Py.index(v, "argument");
    }

    // ---------------------------------------------------------------- str

    private static Object str(String s, String name, List<Object> args, Map<String, Object> kwargs) {
        switch (name) {
            case "startswith":
            case "endswith": {
                Object[] a = Args.bind(name, args, kwargs, "prefix", Args.REQUIRED, "start", null, "end", null);
                String part = a[1] == null && a[2] == null ? s : PyStrings.slice(s, a[1], a[2], null);
                List<Object> options = a[0] instanceof PyTuple t ? t : List.of(a[0]);
                for (Object o : options) {
                    if (!(o instanceof String p)) {
                        throw TemplateException.type(name + " first arg must be str or a tuple of str, not "
                                + Py.typeName(o));
                    }
                    if (name.equals("startswith") ? part.startsWith(p) : part.endsWith(p)) return true;
                }
                return false;
            }
            case "split":
            case "rsplit": {
                Object[] a = Args.bind(name, args, kwargs, "sep", null, "maxsplit", -1L);
                String sep = optStr(name, a[0]);
                return name.equals("split") ? PyStrings.split(s, sep, intArg(a[1])) : PyStrings.rsplit(s, sep, intArg(a[1]));
            }
            case "splitlines":
                return PyStrings.splitlines(s, Py.truthy(Args.bind(name, args, kwargs, "keepends", false)[0]));
            case "strip":
                return PyStrings.strip(s, optStr(name, Args.bind(name, args, kwargs, "chars", null)[0]));
            case "lstrip":
                return PyStrings.lstrip(s, optStr(name, Args.bind(name, args, kwargs, "chars", null)[0]));
            case "rstrip":
                return PyStrings.rstrip(s, optStr(name, Args.bind(name, args, kwargs, "chars", null)[0]));
            case "replace": {
                Object[] a = Args.bind(name, args, kwargs, "old", Args.REQUIRED, "new", Args.REQUIRED, "count", -1L);
                return PyStrings.replace(s, strArg(name, a[0]), strArg(name, a[1]), intArg(a[2]));
            }
            case "lower":
                Args.none(name, args, kwargs);
                return PyStrings.lower(s);
            case "casefold":
                Args.none(name, args, kwargs);
                return PyStrings.lower(s);
            case "upper":
                Args.none(name, args, kwargs);
                return PyStrings.upper(s);
            case "title":
                Args.none(name, args, kwargs);
                return PyStrings.title(s);
            case "capitalize":
                Args.none(name, args, kwargs);
                return PyStrings.capitalize(s);
            case "swapcase":
                Args.none(name, args, kwargs);
                return PyStrings.swapcase(s);
            case "format":
                return PyStrings.format(s, args, kwargs);
            case "format_map": {
                Object m = Args.bind(name, args, kwargs, "mapping", Args.REQUIRED)[0];
                Map<String, Object> values = new LinkedHashMap<>();
                if (m instanceof Map<?, ?> map) map.forEach((k, v) -> values.put(String.valueOf(k), v));
                return PyStrings.format(s, List.of(), values);
            }
            case "join": {
                Object iterable = Args.bind(name, args, kwargs, "iterable", Args.REQUIRED)[0];
                StringBuilder out = new StringBuilder();
                List<Object> items = Py.iterate(iterable);
                for (int i = 0; i < items.size(); i++) {
                    if (!(items.get(i) instanceof String item)) {
                        throw TemplateException.type("sequence item " + i + ": expected str instance, "
                                + Py.typeName(items.get(i)) + " found");
                    }
                    if (i > 0) out.append(s);
                    out.append(item);
                }
                return out.toString();
            }
            case "find":
            case "rfind":
            case "index":
            case "rindex":
            case "count": {
                Object[] a = Args.bind(name, args, kwargs, "sub", Args.REQUIRED, "start", null, "end", null);
                String sub = strArg(name, a[0]);
                int[] range = PyStrings.sliceIndices(Py.len(s), a[1], a[2], null);
                int from = Math.min(range[0], range[1]);
                if (a[1] != null && range[0] > range[1]) return name.equals("count") ? 0L : notFound(name);
                String part = PyStrings.slice(s, (long) from, (long) range[1], null);
                if (name.equals("count")) {
                    if (sub.isEmpty()) return (long) Py.len(part) + 1;
                    long n = 0;
                    for (int at = part.indexOf(sub); at >= 0; at = part.indexOf(sub, at + sub.length())) n++;
                    return n;
                }
                int at = name.startsWith("r") ? part.lastIndexOf(sub) : part.indexOf(sub);
                if (at < 0) return notFound(name);
                return (long) (from + PyStrings.cpIndex(part, at));
            }
            case "isdigit":
            case "isdecimal":
            case "isnumeric":
                Args.none(name, args, kwargs);
                return !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha":
                Args.none(name, args, kwargs);
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum":
                Args.none(name, args, kwargs);
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isspace":
                Args.none(name, args, kwargs);
                return PyStrings.isAllWhitespace(s);
            case "islower":
                Args.none(name, args, kwargs);
                return PyStrings.isLower(s);
            case "isupper":
                Args.none(name, args, kwargs);
                return PyStrings.isUpper(s);
            case "istitle":
                Args.none(name, args, kwargs);
                return !s.isEmpty() && s.equals(PyStrings.title(s)) && s.codePoints().anyMatch(Character::isLetter);
            case "isascii":
                Args.none(name, args, kwargs);
                return s.chars().allMatch(c -> c < 0x80);
            case "isidentifier":
                Args.none(name, args, kwargs);
                return !s.isEmpty() && (Character.isUnicodeIdentifierStart(s.codePointAt(0)) || s.startsWith("_"))
                        && s.codePoints().allMatch(c -> Character.isUnicodeIdentifierPart(c) || c == '_');
            case "isprintable":
                Args.none(name, args, kwargs);
                return s.codePoints().allMatch(PyStrings::isPrintable);
            case "center":
            case "ljust":
            case "rjust": {
                Object[] a = Args.bind(name, args, kwargs, "width", Args.REQUIRED, "fillchar", " ");
                String fill = strArg(name, a[1]);
                if (fill.codePointCount(0, fill.length()) != 1) {
                    throw TemplateException.type("The fill character must be exactly one character long");
                }
                int width = intArg(a[0]);
                int n = Py.len(s);
                if (width <= n) return s;
                int total = width - n;
                if (name.equals("ljust")) return s + fill.repeat(total);
                if (name.equals("rjust")) return fill.repeat(total) + s;
                int left = total / 2 + (total & width & 1); // CPython's centering rule
                return fill.repeat(left) + s + fill.repeat(total - left);
            }
            case "zfill": {
                int width = intArg(Args.bind(name, args, kwargs, "width", Args.REQUIRED)[0]);
                int n = Py.len(s);
                if (width <= n) return s;
                String zeros = "0".repeat(width - n);
                if (s.startsWith("+") || s.startsWith("-")) return s.charAt(0) + zeros + s.substring(1);
                return zeros + s;
            }
            case "partition":
            case "rpartition": {
                String sep = strArg(name, Args.bind(name, args, kwargs, "sep", Args.REQUIRED)[0]);
                if (sep.isEmpty()) throw TemplateException.value("empty separator");
                int at = name.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
                if (at < 0) return name.equals("partition") ? PyTuple.of(s, "", "") : PyTuple.of("", "", s);
                return PyTuple.of(s.substring(0, at), sep, s.substring(at + sep.length()));
            }
            case "removeprefix": {
                String p = strArg(name, Args.bind(name, args, kwargs, "prefix", Args.REQUIRED)[0]);
                return s.startsWith(p) ? s.substring(p.length()) : s;
            }
            case "removesuffix": {
                String p = strArg(name, Args.bind(name, args, kwargs, "suffix", Args.REQUIRED)[0]);
                return !p.isEmpty() && s.endsWith(p) ? s.substring(0, s.length() - p.length()) : s;
            }
            case "expandtabs": {
                int size = intArg(Args.bind(name, args, kwargs, "tabsize", 8L)[0]);
                StringBuilder out = new StringBuilder();
                int column = 0;
                for (int cp : PyStrings.codePoints(s)) {
                    if (cp == '\t') {
                        int spaces = size > 0 ? size - column % size : 0;
                        out.append(" ".repeat(spaces));
                        column += spaces;
                    } else {
                        out.appendCodePoint(cp);
                        column = cp == '\n' || cp == '\r' ? 0 : column + 1;
                    }
                }
                return out.toString();
            }
            default:
                throw new TemplateException(TemplateException.Kind.RUNTIME, 0,
                        "str." + name + "() is not supported by this chat-template interpreter");
        }
    }

    private static Object notFound(String name) {
        if (name.endsWith("find")) return -1L;
        throw TemplateException.value("substring not found");
    }

    // ---------------------------------------------------------------- dict

    private static Object dict(Map<?, ?> m, String name, List<Object> args, Map<String, Object> kwargs) {
        switch (name) {
            case "items": {
                Args.none(name, args, kwargs);
                List<Object> out = new ArrayList<>();
                m.forEach((k, v) -> out.add(PyTuple.of(k, v)));
                return out;
            }
            case "keys":
                Args.none(name, args, kwargs);
                return new ArrayList<Object>(m.keySet());
            case "values":
                Args.none(name, args, kwargs);
                return new ArrayList<Object>(m.values());
            case "get": {
                Object[] a = Args.bind(name, args, kwargs, "key", Args.REQUIRED, "default", null);
                Object key = Py.findKey(m, a[0]);
                return Py.hasKey(m, a[0]) ? m.get(key) : a[1];
            }
            case "copy":
                Args.none(name, args, kwargs);
                return new LinkedHashMap<Object, Object>(m);
            default:
                throw unsafe(m, name);
        }
    }

    // ---------------------------------------------------------------- list

    private static Object list(List<?> l, String name, List<Object> args, Map<String, Object> kwargs) {
        switch (name) {
            case "index": {
                Object x = Args.bind(name, args, kwargs, "value", Args.REQUIRED)[0];
                for (int i = 0; i < l.size(); i++) if (Py.eq(l.get(i), x)) return (long) i;
                throw TemplateException.value(Py.repr(x) + " is not in list");
            }
            case "count": {
                Object x = Args.bind(name, args, kwargs, "value", Args.REQUIRED)[0];
                return l.stream().filter(o -> Py.eq(o, x)).count();
            }
            case "copy":
                Args.none(name, args, kwargs);
                return new ArrayList<Object>(l);
            default:
                throw unsafe(l, name);
        }
    }
}
