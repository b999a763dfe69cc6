package minimind4j.tokenizer.jinja;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jinja2's built-in filters that chat templates use, with Jinja's definitions, plus transformers' {@code tojson}
 * (Python {@code json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}).
 * There is no autoescaping: {@code safe} returns its input and {@code escape} returns the HTML-escaped text as a
 * plain string.
 */
final class Filters {
    private Filters() {}

    private static final Set<String> NAMES = Set.of(
            "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first",
            "float", "forceescape", "format", "indent", "int", "items", "join", "last", "length", "list", "lower", "map",
            "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort",
            "string", "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "wordcount");

    static boolean exists(String name) {
        return NAMES.contains(name);
    }

    static Object apply(Interpreter interp, String name, Object v, List<Object> args, Map<String, Object> kwargs) {
        switch (name) {
            case "tojson": {
                Object[] a = Args.bind(name, args, kwargs, "ensure_ascii", false, "indent", null, "separators", null,
                        "sort_keys", false);
                return Json.dumps(v, Py.truthy(a[0]), a[1], a[2], Py.truthy(a[3]));
            }
            case "length":
            case "count":
                Args.bind(name, args, kwargs);
                return (long) Py.len(v);
            case "string":
                Args.bind(name, args, kwargs);
                return Py.str(v);
            case "safe":
                Args.bind(name, args, kwargs);
                return v instanceof String ? v : Py.str(v);
            case "e":
            case "escape":
            case "forceescape":
                Args.bind(name, args, kwargs);
                return escapeHtml(Py.str(v));
            case "trim":
                return PyStrings.strip(Py.str(v), optStr(Args.bind(name, args, kwargs, "chars", null)[0]));
            case "lower":
                Args.bind(name, args, kwargs);
                return PyStrings.lower(Py.str(v));
            case "upper":
                Args.bind(name, args, kwargs);
                return PyStrings.upper(Py.str(v));
            case "title":
                Args.bind(name, args, kwargs);
                return PyStrings.title(Py.str(v));
            case "capitalize":
                Args.bind(name, args, kwargs);
                return PyStrings.capitalize(Py.str(v));
            case "replace": {
                Object[] a = Args.bind(name, args, kwargs, "old", Args.REQUIRED, "new", Args.REQUIRED, "count", null);
                return PyStrings.replace(Py.str(v), Py.str(a[0]), Py.str(a[1]),
                        a[2] == null ? -1 : Py.index(a[2], "count"));
            }
            case "d":
            case "default": {
                Object[] a = Args.bind(name, args, kwargs, "default_value", "", "boolean", false);
                if (v instanceof Undefined || (Py.truthy(a[1]) && !Py.truthy(v))) return a[0];
                return v;
            }
            case "first": {
                Args.bind(name, args, kwargs);
                List<Object> items = Py.iterate(v);
                return items.isEmpty() ? Undefined.of("No first item, sequence was empty.") : items.get(0);
            }
            case "last": {
                Args.bind(name, args, kwargs);
                if (!(v instanceof String || v instanceof List || v instanceof Map || v instanceof Undefined)) {
                    throw TemplateException.type("'" + Py.typeName(v) + "' object is not reversible");
                }
                List<Object> items = Py.iterate(v);
                return items.isEmpty() ? Undefined.of("No last item, sequence was empty.") : items.get(items.size() - 1);
            }
            case "join": {
                Object[] a = Args.bind(name, args, kwargs, "d", "", "attribute", null);
                List<Object> items = Py.iterate(v);
                StringBuilder out = new StringBuilder();
                String sep = Py.str(a[0]);
                for (int i = 0; i < items.size(); i++) {
                    if (i > 0) out.append(sep);
                    Object item = a[1] == null ? items.get(i) : attribute(interp, items.get(i), a[1]);
                    out.append(Py.str(item));
                }
                return out.toString();
            }
            case "list":
                Args.bind(name, args, kwargs);
                return Py.iterate(v);
            case "items": {
                Args.bind(name, args, kwargs);
                if (v instanceof Undefined) return new ArrayList<>();
                if (!(v instanceof Map<?, ?> m)) throw TemplateException.type("Can only get item pairs from a mapping.");
                List<Object> out = new ArrayList<>();
                m.forEach((k, val) -> out.add(PyTuple.of(k, val)));
                return out;
            }
            case "int": {
                Object[] a = Args.bind(name, args, kwargs, "default", 0L, "base", 10L);
                return toInt(v, a[0], Py.index(a[1], "base"));
            }
            case "float": {
                Object[] a = Args.bind(name, args, kwargs, "default", 0.0);
                return toFloat(v, a[0]);
            }
            case "abs": {
                Args.bind(name, args, kwargs);
                if (Py.isIntLike(v)) return Py.normalize(Py.toBig(v).abs());
                if (Py.isFloat(v)) return Math.abs(Py.toDouble(v));
                throw TemplateException.type("bad operand type for abs(): '" + Py.typeName(v) + "'");
            }
            case "round": {
                Object[] a = Args.bind(name, args, kwargs, "precision", 0L, "method", "common");
                return round(v, Py.index(a[0], "precision"), Py.str(a[1]));
            }
            case "reverse": {
                Args.bind(name, args, kwargs);
                if (v instanceof String s) return PyStrings.slice(s, null, null, -1L);
                List<Object> items = Py.iterate(v);
                Collections.reverse(items);
                return items;
            }
            case "sort": {
                Object[] a = Args.bind(name, args, kwargs, "reverse", false, "case_sensitive", false, "attribute", null);
                List<Object> items = Py.iterate(v);
                Comparator<Object> order = (x, y) -> Py.compare(sortKey(interp, x, a[2], a[1]),
                        sortKey(interp, y, a[2], a[1]), "<");
                items.sort(Py.truthy(a[0]) ? order.reversed() : order);
                return items;
            }
            case "dictsort": {
                Object[] a = Args.bind(name, args, kwargs, "case_sensitive", false, "by", "key", "reverse", false);
                if (!(v instanceof Map<?, ?> m)) throw TemplateException.type("You can only sort by either \"key\" or \"value\"");
                int pos = switch (Py.str(a[1])) {
                    case "key" -> 0;
                    case "value" -> 1;
                    default -> throw TemplateException.value("You can only sort by either \"key\" or \"value\"");
                };
                List<Object> items = new ArrayList<>();
                m.forEach((k, val) -> items.add(PyTuple.of(k, val)));
                Comparator<Object> order = (x, y) -> Py.compare(caseKey(((List<?>) x).get(pos), a[0]),
                        caseKey(((List<?>) y).get(pos), a[0]), "<");
                items.sort(Py.truthy(a[2]) ? order.reversed() : order);
                return items;
            }
            case "unique": {
                Object[] a = Args.bind(name, args, kwargs, "case_sensitive", false, "attribute", null);
                List<Object> out = new ArrayList<>();
                List<Object> seen = new ArrayList<>();
                for (Object item : Py.iterate(v)) {
                    Object key = sortKey(interp, item, a[1], a[0]);
                    if (seen.stream().noneMatch(s -> Py.eq(s, key))) {
                        seen.add(key);
                        out.add(item);
                    }
                }
                return out;
            }
            case "min":
            case "max": {
                Object[] a = Args.bind(name, args, kwargs, "case_sensitive", false, "attribute", null);
                List<Object> items = Py.iterate(v);
                if (items.isEmpty()) return Undefined.of("No aggregated item, sequence was empty.");
                Object best = items.get(0);
                for (Object item : items.subList(1, items.size())) {
                    int c = Py.compare(sortKey(interp, item, a[1], a[0]), sortKey(interp, best, a[1], a[0]), "<");
                    if (name.equals("min") ? c < 0 : c > 0) best = item;
                }
                return best;
            }
            case "sum": {
                Object[] a = Args.bind(name, args, kwargs, "attribute", null, "start", 0L);
                Object total = a[1];
                for (Object item : Py.iterate(v)) total = Py.add(total, a[0] == null ? item : attribute(interp, item, a[0]));
                return total;
            }
            case "map":
                return map(interp, v, args, kwargs);
            case "select":
            case "reject":
            case "selectattr":
            case "rejectattr":
                return select(interp, name, v, args, kwargs);
            case "attr": {
                Object[] a = Args.bind(name, args, kwargs, "name", Args.REQUIRED);
                return interp.getAttr(v, Py.str(a[0]));
            }
            case "batch": {
                Object[] a = Args.bind(name, args, kwargs, "linecount", Args.REQUIRED, "fill_with", null);
                int size = Py.index(a[0], "linecount");
                if (size <= 0) throw TemplateException.value("linecount must be positive");
                List<Object> out = new ArrayList<>();
                List<Object> row = new ArrayList<>();
                for (Object item : Py.iterate(v)) {
                    row.add(item);
                    if (row.size() == size) {
                        out.add(row);
                        row = new ArrayList<>();
                    }
                }
                if (!row.isEmpty()) {
                    if (a[1] != null) while (row.size() < size) row.add(a[1]);
                    out.add(row);
                }
                return out;
            }
            case "center": {
                Object[] a = Args.bind(name, args, kwargs, "width", 80L);
                return Methods.bind(Py.str(v), "center").call(interp, List.of(a[0]), Map.of());
            }
            case "indent": {
                Object[] a = Args.bind(name, args, kwargs, "width", 4L, "first", false, "blank", false);
                return indent(Py.str(v), a[0], Py.truthy(a[1]), Py.truthy(a[2]));
            }
            case "format":
                if (!args.isEmpty() && !kwargs.isEmpty()) {
                    throw TemplateException.value("can't handle positional and keyword arguments at the same time");
                }
                return PyStrings.percentFormat(Py.str(v), kwargs.isEmpty() ? new PyTuple(args) : kwargs);
            case "truncate": {
                Object[] a = Args.bind(name, args, kwargs, "length", 255L, "killwords", false, "end", "...", "leeway", null);
                return truncate(Py.str(v), Py.index(a[0], "length"), Py.truthy(a[1]), Py.str(a[2]),
                        a[3] == null ? 5 : Py.index(a[3], "leeway"));
            }
            case "wordcount": {
                Args.bind(name, args, kwargs);
                Matcher m = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS).matcher(Py.str(v));
                long n = 0;
                while (m.find()) n++;
                return n;
            }
            default:
                throw new TemplateException(TemplateException.Kind.RUNTIME, 0, "No filter named '" + name + "'.");
        }
    }

    private static String optStr(Object v) {
        return v == null ? null : Py.str(v);
    }

    /** Jinja's attribute lookup for {@code attribute=} arguments: dotted paths, digits as indices. */
    static Object attribute(Interpreter interp, Object item, Object path) {
        if (Py.isIntLike(path)) return interp.getItem(item, path);
        Object value = item;
        for (String part : Py.str(path).split("\\.")) {
            Object key = part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? (Object) Long.parseLong(part) : part;
            value = interp.getItem(value, key);
        }
        return value;
    }

    private static Object caseKey(Object v, Object caseSensitive) {
        return !Py.truthy(caseSensitive) && v instanceof String s ? PyStrings.lower(s) : v;
    }

    private static Object sortKey(Interpreter interp, Object item, Object attributePath, Object caseSensitive) {
        Object key = attributePath == null ? item : attribute(interp, item, attributePath);
        return caseKey(key, caseSensitive);
    }

    private static Object map(Interpreter interp, Object v, List<Object> args, Map<String, Object> kwargs) {
        List<Object> out = new ArrayList<>();
        List<Object> items = Py.iterate(v);
        if (args.isEmpty() && kwargs.containsKey("attribute")) {
            Object path = kwargs.get("attribute");
            boolean hasDefault = kwargs.containsKey("default");
            for (Object item : items) {
                Object value = attribute(interp, item, path);
                out.add(hasDefault && value instanceof Undefined ? kwargs.get("default") : value);
            }
            return out;
        }
        if (args.isEmpty()) throw TemplateException.type("map requires a filter argument");
        String filter = Py.str(args.get(0));
        if (!exists(filter)) throw new TemplateException(TemplateException.Kind.RUNTIME, 0, "No filter named '" + filter + "'.");
        for (Object item : items) out.add(apply(interp, filter, item, args.subList(1, args.size()), kwargs));
        return out;
    }

    private static Object select(Interpreter interp, String name, Object v, List<Object> args,
                                 Map<String, Object> kwargs) {
        boolean byAttribute = name.endsWith("attr");
        boolean keep = name.startsWith("select");
        int next = 0;
        Object path = null;
        if (byAttribute) {
            if (args.isEmpty()) throw TemplateException.type("Missing parameter for attribute name");
            path = args.get(next++);
        }
        String test = next < args.size() ? Py.str(args.get(next++)) : null;
        List<Object> testArgs = args.subList(next, args.size());
        if (test != null && !Tests.exists(test)) {
            throw new TemplateException(TemplateException.Kind.RUNTIME, 0, "No test named '" + test + "'.");
        }
        List<Object> out = new ArrayList<>();
        for (Object item : Py.iterate(v)) {
            Object subject = byAttribute ? attribute(interp, item, path) : item;
            boolean ok = test == null ? Py.truthy(subject) : Tests.apply(test, subject, testArgs, kwargs);
            if (ok == keep) out.add(item);
        }
        return out;
    }

    private static Object toInt(Object v, Object fallback, int base) {
        if (Py.isIntLike(v)) return Py.normalize(Py.toBig(v));
        if (Py.isFloat(v)) {
            double d = Py.toDouble(v);
            if (Double.isNaN(d) || Double.isInfinite(d)) return fallback;
            return Py.normalize(new BigDecimal(d).toBigInteger());
        }
        if (v instanceof String s) {
            String t = PyStrings.strip(s, null).replace("_", "");
            try {
                if (base == 10) return Py.normalize(new BigInteger(t));
                String digits = t;
                String sign = "";
                if (digits.startsWith("-") || digits.startsWith("+")) {
                    sign = digits.substring(0, 1);
                    digits = digits.substring(1);
                }
                String lower = PyStrings.lower(digits);
                if ((base == 16 && lower.startsWith("0x")) || (base == 8 && lower.startsWith("0o"))
                        || (base == 2 && lower.startsWith("0b"))) {
                    digits = digits.substring(2);
                }
                return Py.normalize(new BigInteger(sign + digits, base));
            } catch (NumberFormatException | ArithmeticException e) {
                try {
                    double d = Double.parseDouble(t);
                    if (Double.isNaN(d) || Double.isInfinite(d)) return fallback;
                    return Py.normalize(new BigDecimal(d).toBigInteger());
                } catch (NumberFormatException e2) {
                    return fallback;
                }
            }
        }
        return fallback;
    }

    private static Object toFloat(Object v, Object fallback) {
        if (Py.isNumber(v)) return Py.toDouble(v);
        if (v instanceof String s) {
            String t = PyStrings.strip(s, null).replace("_", "");
            String lower = PyStrings.lower(t);
            if (lower.matches("[+-]?(inf|infinity)")) return lower.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
            if (lower.matches("[+-]?nan")) return Double.NaN;
            if (!t.matches("[+-]?(\\d+\\.?\\d*([eE][+-]?\\d+)?|\\.\\d+([eE][+-]?\\d+)?)")) return fallback;
            return Double.parseDouble(t);
        }
        return fallback;
    }

    private static Object round(Object v, int precision, String method) {
        if (!method.equals("common") && !method.equals("ceil") && !method.equals("floor")) {
            throw TemplateException.type("method must be common, ceil or floor");
        }
        if (!Py.isNumber(v)) throw TemplateException.type("type " + Py.typeName(v) + " doesn't define __round__ method");
        if (Py.isIntLike(v) && method.equals("common")) {
            if (precision >= 0) return Py.normalize(Py.toBig(v));
            return Py.normalize(new BigDecimal(Py.toBig(v)).setScale(precision, RoundingMode.HALF_EVEN).toBigInteger());
        }
        double d = Py.toDouble(v);
        if (Double.isNaN(d) || Double.isInfinite(d)) return d;
        BigDecimal exact = new BigDecimal(d);
        RoundingMode mode = switch (method) {
            case "ceil" -> RoundingMode.CEILING;
            case "floor" -> RoundingMode.FLOOR;
            default -> RoundingMode.HALF_EVEN; // Python's round() on the exact binary value
        };
        if (method.equals("common")) return exact.setScale(precision, mode).doubleValue();
        // Jinja: ceil/floor of value * 10**precision, divided back
        double scale = Math.pow(10, precision);
        double scaled = d * scale;
        return (mode == RoundingMode.CEILING ? Math.ceil(scaled) : Math.floor(scaled)) / scale;
    }

    /** Jinja's indent: appends a newline before splitting, so a trailing newline survives unindented. */
    private static String indent(String s, Object width, boolean first, boolean blank) {
        String prefix = width instanceof String w ? w : " ".repeat(Math.max(0, Py.index(width, "width")));
        List<Object> lines = PyStrings.splitlines(s + "\n", false);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            String line = (String) lines.get(i);
            if (i > 0) out.append('\n');
            out.append(i > 0 && (blank || !line.isEmpty()) ? prefix + line : line);
        }
        return first ? prefix + out : out.toString();
    }

    private static String truncate(String s, int length, boolean killwords, String end, int leeway) {
        int n = Py.len(s);
        if (n <= length + leeway) return s;
        if (killwords) return PyStrings.slice(s, null, (long) (length - Py.len(end)), null) + end;
        String head = PyStrings.slice(s, null, (long) (length - Py.len(end)), null);
        int space = head.lastIndexOf(' ');
        return (space >= 0 ? head.substring(0, space) : head) + end;
    }

    static String escapeHtml(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&#34;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
