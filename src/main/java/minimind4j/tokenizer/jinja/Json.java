package minimind4j.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps(x, ensure_ascii, indent, separators, sort_keys)}, which transformers installs as the
 * {@code tojson} filter: {@code ", "} and {@code ": "} separators by default ({@code ","} after items when indenting),
 * key order kept, non-ASCII kept unless ensure_ascii, floats as Python's repr.
 */
final class Json {
    private final boolean ensureAscii;
    private final String indent;
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;

    private Json(boolean ensureAscii, String indent, String itemSeparator, String keySeparator, boolean sortKeys) {
        this.ensureAscii = ensureAscii;
        this.indent = indent;
        this.itemSeparator = itemSeparator;
        this.keySeparator = keySeparator;
        this.sortKeys = sortKeys;
    }

    /** Arguments as Python values: indent None/int/str, separators None or a 2-sequence of str. */
    static String dumps(Object value, boolean ensureAscii, Object indent, Object separators, boolean sortKeys) {
        String indentText = null;
        if (indent instanceof String s) indentText = s;
        else if (Py.isIntLike(indent)) indentText = " ".repeat((int) Math.max(0, Py.toLong(indent)));
        else if (indent != null) throw TemplateException.type("indent must be None, an int or a str");
        String itemSep = indentText != null ? "," : ", ";
        String keySep = ": ";
        if (separators != null) {
            if (!(separators instanceof List<?> l) || l.size() != 2 || !(l.get(0) instanceof String)
                    || !(l.get(1) instanceof String)) {
                throw TemplateException.value("separators must be an (item_separator, key_separator) pair of strings");
            }
            itemSep = (String) l.get(0);
            keySep = (String) l.get(1);
        }
        StringBuilder out = new StringBuilder();
        new Json(ensureAscii, indentText, itemSep, keySep, sortKeys).write(value, out, 0);
        return out.toString();
    }

    private void write(Object v, StringBuilder out, int level) {
        if (v == null) out.append("null");
        else if (v instanceof Boolean b) out.append(b ? "true" : "false");
        else if (Py.isInt(v)) out.append(v);
        else if (Py.isFloat(v)) out.append(floatText(Py.toDouble(v)));
        else if (v instanceof String s) string(s, out);
        else if (v instanceof List<?> l) {
            if (l.isEmpty()) {
                out.append("[]");
                return;
            }
            out.append('[');
            for (int i = 0; i < l.size(); i++) {
                separator(out, i > 0, level + 1);
                write(l.get(i), out, level + 1);
            }
            close(out, level);
            out.append(']');
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                out.append("{}");
                return;
            }
            out.append('{');
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            if (sortKeys) entries.sort((a, b) -> Py.compare(a.getKey(), b.getKey(), "<"));
            for (int i = 0; i < entries.size(); i++) {
                separator(out, i > 0, level + 1);
                string(key(entries.get(i).getKey()), out);
                out.append(keySeparator);
                write(entries.get(i).getValue(), out, level + 1);
            }
            close(out, level);
            out.append('}');
        } else {
            throw TemplateException.type("Object of type " + Py.typeName(v) + " is not JSON serializable");
        }
    }

    private void separator(StringBuilder out, boolean afterItem, int level) {
        if (afterItem) out.append(itemSeparator);
        if (indent != null) out.append('\n').append(indent.repeat(level));
    }

    private void close(StringBuilder out, int level) {
        if (indent != null) out.append('\n').append(indent.repeat(level));
    }

    private static String key(Object k) {
        if (k instanceof String s) return s;
        if (k == null) return "null";
        if (k instanceof Boolean b) return b ? "true" : "false";
        if (Py.isInt(k)) return k.toString();
        if (Py.isFloat(k)) return floatText(Py.toDouble(k));
        throw TemplateException.type("keys must be str, int, float, bool or None, not " + Py.typeName(k));
    }

    private static String floatText(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        return Py.floatRepr(d);
    }

    private void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }
}
