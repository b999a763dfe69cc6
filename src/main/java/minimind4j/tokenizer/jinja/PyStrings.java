package minimind4j.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Python's str behaviour on Java strings. Python indexes strings by code point, Java by UTF-16 unit: every index,
 * length and slice here counts code points so that emoji and other supplementary characters behave as in Python.
 */
final class PyStrings {
    private PyStrings() {}

    // ---------------------------------------------------------------- code points

    static int[] codePoints(String s) {
        return s.codePoints().toArray();
    }

    static List<Object> chars(String s) {
        List<Object> out = new ArrayList<>();
        s.codePoints().forEach(cp -> out.add(new String(Character.toChars(cp))));
        return out;
    }

    static int compareCodePoints(String a, String b) {
        int[] x = codePoints(a);
        int[] y = codePoints(b);
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            if (x[i] != y[i]) return Integer.compare(x[i], y[i]);
        }
        return Integer.compare(x.length, y.length);
    }

    /** Python's str.isspace() for one code point (also what split() and strip() treat as whitespace). */
    static boolean isWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0
                || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029
                || cp == 0x202f || cp == 0x205f || cp == 0x3000;
    }

    static boolean isAllWhitespace(String s) {
        return !s.isEmpty() && s.codePoints().allMatch(PyStrings::isWhitespace);
    }

    // ---------------------------------------------------------------- strip / split / replace

    private static boolean stripped(int cp, String chars) {
        return chars == null ? isWhitespace(cp) : chars.indexOf(new String(Character.toChars(cp))) >= 0;
    }

    static String strip(String s, String chars) {
        return rstrip(lstrip(s, chars), chars);
    }

    static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            if (!stripped(cp, chars)) break;
            i += Character.charCount(cp);
        }
        return s.substring(i);
    }

    static String rstrip(String s, String chars) {
        int end = s.length();
        while (end > 0) {
            int cp = s.codePointBefore(end);
            if (!stripped(cp, chars)) break;
            end -= Character.charCount(cp);
        }
        return s.substring(0, end);
    }

    static List<Object> split(String s, String sep, int maxsplit) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && isWhitespace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
                if (i >= n) break;
                if (maxsplit >= 0 && out.size() == maxsplit) {
                    out.add(s.substring(i));
                    break;
                }
                int j = i;
                while (j < n && !isWhitespace(s.codePointAt(j))) j += Character.charCount(s.codePointAt(j));
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw TemplateException.value("empty separator");
        int start = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int at = s.indexOf(sep, start);
            if (at < 0) break;
            out.add(s.substring(start, at));
            start = at + sep.length();
        }
        out.add(s.substring(start));
        return out;
    }

    static List<Object> rsplit(String s, String sep, int maxsplit) {
        if (maxsplit < 0) return split(s, sep, -1);
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int end = s.length();
            while (true) {
                while (end > 0 && isWhitespace(s.codePointBefore(end))) end -= Character.charCount(s.codePointBefore(end));
                if (end <= 0) break;
                if (out.size() == maxsplit) {
                    out.add(0, s.substring(0, end));
                    break;
                }
                int j = end;
                while (j > 0 && !isWhitespace(s.codePointBefore(j))) j -= Character.charCount(s.codePointBefore(j));
                out.add(0, s.substring(j, end));
                end = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw TemplateException.value("empty separator");
        int end = s.length();
        while (out.size() < maxsplit) {
            int at = s.lastIndexOf(sep, end - sep.length());
            if (at < 0) break;
            out.add(0, s.substring(at + sep.length(), end));
            end = at;
        }
        out.add(0, s.substring(0, end));
        return out;
    }

    static List<Object> splitlines(String s, boolean keepends) {
        List<Object> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            boolean lineBreak = c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || (c >= 0x1c && c <= 0x1e)
                    || c == 0x85 || c == 0x2028 || c == 0x2029;
            if (!lineBreak) {
                i++;
                continue;
            }
            int end = i + (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n' ? 2 : 1);
            out.add(s.substring(start, keepends ? end : i));
            start = i = end;
        }
        if (start < s.length()) out.add(s.substring(start));
        return out;
    }

    static String replace(String s, String old, String replacement, int count) {
        if (count < 0) count = Integer.MAX_VALUE;
        StringBuilder out = new StringBuilder();
        if (old.isEmpty()) {
            int done = 0;
            int i = 0;
            while (i <= s.length()) {
                if (done < count) {
                    out.append(replacement);
                    done++;
                }
                if (i == s.length()) break;
                int cp = s.codePointAt(i);
                out.appendCodePoint(cp);
                i += Character.charCount(cp);
            }
            return out.toString();
        }
        int start = 0;
        int done = 0;
        while (done < count) {
            int at = s.indexOf(old, start);
            if (at < 0) break;
            out.append(s, start, at).append(replacement);
            start = at + old.length();
            done++;
        }
        return out.append(s.substring(start)).toString();
    }

    // ---------------------------------------------------------------- case

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }

    private static boolean isCased(int cp) {
        return Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
    }

    static String title(String s) {
        StringBuilder out = new StringBuilder();
        boolean previousCased = false;
        for (int cp : codePoints(s)) {
            String c = new String(Character.toChars(cp));
            if (previousCased) out.append(c.toLowerCase(Locale.ROOT));
            else out.appendCodePoint(Character.toTitleCase(cp));
            previousCased = isCased(cp);
        }
        return out.toString();
    }

    static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        return new String(Character.toChars(Character.toTitleCase(first)))
                + s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT);
    }

    static String swapcase(String s) {
        StringBuilder out = new StringBuilder();
        for (int cp : codePoints(s)) {
            String c = new String(Character.toChars(cp));
            if (Character.isUpperCase(cp)) out.append(c.toLowerCase(Locale.ROOT));
            else if (Character.isLowerCase(cp)) out.append(c.toUpperCase(Locale.ROOT));
            else out.append(c);
        }
        return out.toString();
    }

    static boolean isLower(String s) {
        boolean cased = false;
        for (int cp : codePoints(s)) {
            if (Character.isUpperCase(cp) || Character.isTitleCase(cp)) return false;
            if (Character.isLowerCase(cp)) cased = true;
        }
        return cased;
    }

    static boolean isUpper(String s) {
        boolean cased = false;
        for (int cp : codePoints(s)) {
            if (Character.isLowerCase(cp) || Character.isTitleCase(cp)) return false;
            if (Character.isUpperCase(cp)) cased = true;
        }
        return cased;
    }

    // ---------------------------------------------------------------- slicing and indexing

    /** Python's {@code s[start:stop:step]} over code points; null bounds mean "from the end". */
    static String slice(String s, Object start, Object stop, Object step) {
        int[] cps = codePoints(s);
        int[] idx = sliceIndices(cps.length, start, stop, step);
        StringBuilder out = new StringBuilder();
        for (int i = idx[0], n = 0; n < idx[3]; i += idx[2], n++) out.appendCodePoint(cps[i]);
        return out.toString();
    }

    /** Python's {@code slice.indices(length)} plus the resulting item count: {start, stop, step, count}. */
    static int[] sliceIndices(int length, Object startValue, Object stopValue, Object stepValue) {
        int step = stepValue == null ? 1 : Py.index(stepValue, "slice indices");
        if (step == 0) throw TemplateException.value("slice step cannot be zero");
        int lower = step < 0 ? -1 : 0;
        int upper = step < 0 ? length - 1 : length;
        int start = step < 0 ? upper : lower;
        int stop = step < 0 ? lower : upper;
        if (startValue != null) {
            long st = Py.index(startValue, "slice indices");
            if (st < 0) st = Math.max(st + length, lower);
            else st = Math.min(st, upper);
            start = (int) st;
        }
        if (stopValue != null) {
            long sp = Py.index(stopValue, "slice indices");
            if (sp < 0) sp = Math.max(sp + length, lower);
            else sp = Math.min(sp, upper);
            stop = (int) sp;
        }
        int count;
        if (step > 0) count = start < stop ? (stop - start - 1) / step + 1 : 0;
        else count = stop < start ? (start - stop - 1) / (-step) + 1 : 0;
        return new int[] {start, stop, step, count};
    }

    /** {@code s[i]} by code point, or null when out of range. */
    static String charAt(String s, long i) {
        int n = s.codePointCount(0, s.length());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return null;
        int at = s.offsetByCodePoints(0, (int) i);
        return new String(Character.toChars(s.codePointAt(at)));
    }

    /** Code-point index of a UTF-16 offset. */
    static int cpIndex(String s, int utf16Offset) {
        return s.codePointCount(0, utf16Offset);
    }

    // ---------------------------------------------------------------- repr

    static void repr(String s, StringBuilder out) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        out.append(quote);
        s.codePoints().forEach(cp -> {
            if (cp == quote || cp == '\\') out.append('\\').appendCodePoint(cp);
            else if (cp == '\n') out.append("\\n");
            else if (cp == '\r') out.append("\\r");
            else if (cp == '\t') out.append("\\t");
            else if (isPrintable(cp)) out.appendCodePoint(cp);
            else if (cp < 0x100) out.append(String.format("\\x%02x", cp));
            else if (cp < 0x10000) out.append(String.format("\\u%04x", cp));
            else out.append(String.format("\\U%08x", cp));
        });
        out.append(quote);
    }

    /** Python's str.isprintable() for one code point: not a control, format, separator (but space) or unassigned. */
    static boolean isPrintable(int cp) {
        if (cp == ' ') return true;
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
                    Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                    Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }

    // ---------------------------------------------------------------- formatting

    /** {@code 'fmt' % args}: the common printf conversions (s r d i f e g x o c %) with flags, width, precision. */
    static String percentFormat(String format, Object args) {
        List<Object> values = args instanceof PyTuple t ? new ArrayList<>(t) : List.of(args == null ? NONE : args);
        Map<?, ?> mapping = args instanceof Map<?, ?> m ? m : null;
        StringBuilder out = new StringBuilder();
        int next = 0;
        int i = 0;
        while (i < format.length()) {
            char c = format.charAt(i++);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (i >= format.length()) throw TemplateException.value("incomplete format");
            Object value = null;
            boolean haveValue = false;
            if (format.charAt(i) == '(') {
                int close = format.indexOf(')', i);
                if (close < 0 || mapping == null) throw TemplateException.type("format requires a mapping");
                String key = format.substring(i + 1, close);
                if (!mapping.containsKey(key)) throw TemplateException.value("KeyError: " + Py.repr(key));
                value = mapping.get(key);
                haveValue = true;
                i = close + 1;
            }
            StringBuilder flags = new StringBuilder();
            while (i < format.length() && "-+ #0".indexOf(format.charAt(i)) >= 0) flags.append(format.charAt(i++));
            int width = -1;
            int start = i;
            while (i < format.length() && Character.isDigit(format.charAt(i))) i++;
            if (i > start) width = Integer.parseInt(format.substring(start, i));
            int precision = -1;
            if (i < format.length() && format.charAt(i) == '.') {
                i++;
                start = i;
                while (i < format.length() && Character.isDigit(format.charAt(i))) i++;
                precision = i > start ? Integer.parseInt(format.substring(start, i)) : 0;
            }
            if (i >= format.length()) throw TemplateException.value("incomplete format");
            char conv = format.charAt(i++);
            if (conv == '%') {
                out.append('%');
                continue;
            }
            if (!haveValue) {
                if (mapping != null && !(args instanceof PyTuple)) {
                    value = mapping;
                } else {
                    if (next >= values.size()) throw TemplateException.type("not enough arguments for format string");
                    value = values.get(next++);
                    if (value == NONE) value = null;
                }
            }
            out.append(pad(convert(conv, value, flags.toString(), precision), width, flags.indexOf("-") >= 0,
                    flags.indexOf("0") >= 0 && "diouxXeEfFgG".indexOf(conv) >= 0));
        }
        if (mapping == null && next < values.size()) {
            throw TemplateException.type("not all arguments converted during string formatting");
        }
        return out.toString();
    }

    private static final Object NONE = new Object();

    private static String convert(char conv, Object value, String flags, int precision) {
        String sign = flags.contains("+") ? "+" : flags.contains(" ") ? " " : "";
        switch (conv) {
            case 's', 'r', 'a' -> {
                String s = conv == 's' ? Py.str(value) : Py.repr(value);
                return precision >= 0 && precision < s.length() ? s.substring(0, precision) : s;
            }
            case 'd', 'i', 'u' -> {
                requireNumber(value, conv);
                Object n = Py.isFloat(value) ? (Object) (long) Py.toDouble(value) : Py.toBig(value);
                String s = n.toString();
                return s.startsWith("-") ? s : sign + s;
            }
            case 'x', 'X', 'o' -> {
                requireInt(value, conv);
                var big = Py.toBig(value);
                String s = big.abs().toString(conv == 'o' ? 8 : 16);
                if (conv == 'X') s = s.toUpperCase(Locale.ROOT);
                if (flags.contains("#")) s = (conv == 'o' ? "0o" : conv == 'x' ? "0x" : "0X") + s;
                return (big.signum() < 0 ? "-" : sign) + s;
            }
            case 'f', 'F', 'e', 'E' -> {
                requireNumber(value, conv);
                double d = Py.toDouble(value);
                String s = String.format(Locale.ROOT, "%." + (precision < 0 ? 6 : precision) + conv, d);
                return d < 0 || s.startsWith("-") ? s : sign + s;
            }
            case 'c' -> {
                if (value instanceof String s && s.codePointCount(0, s.length()) == 1) return s;
                requireInt(value, conv);
                return new String(Character.toChars((int) Py.toLong(value)));
            }
            default -> throw TemplateException.value("unsupported format character '" + conv + "'");
        }
    }

    private static void requireNumber(Object value, char conv) {
        if (!Py.isNumber(value)) {
            throw TemplateException.type("%" + conv + " format: a real number is required, not " + Py.typeName(value));
        }
    }

    private static void requireInt(Object value, char conv) {
        if (!Py.isIntLike(value)) {
            throw TemplateException.type("%" + conv + " format: an integer is required, not " + Py.typeName(value));
        }
    }

    private static String pad(String s, int width, boolean left, boolean zeros) {
        int n = s.codePointCount(0, s.length());
        if (width <= n) return s;
        String fill = (zeros && !left ? "0" : " ").repeat(width - n);
        if (left) return s + fill;
        if (zeros && (s.startsWith("-") || s.startsWith("+") || s.startsWith(" "))) {
            return s.charAt(0) + fill + s.substring(1);
        }
        return fill + s;
    }

    /** {@code 'text {} {0} {name}'.format(...)} with conversions {@code !s !r} and simple specs. */
    static String format(String template, List<Object> args, Map<String, Object> kwargs) {
        StringBuilder out = new StringBuilder();
        int auto = 0;
        int i = 0;
        while (i < template.length()) {
            char c = template.charAt(i);
            if (c == '{' && i + 1 < template.length() && template.charAt(i + 1) == '{') {
                out.append('{');
                i += 2;
                continue;
            }
            if (c == '}' && i + 1 < template.length() && template.charAt(i + 1) == '}') {
                out.append('}');
                i += 2;
                continue;
            }
            if (c == '}') throw TemplateException.value("Single '}' encountered in format string");
            if (c != '{') {
                out.append(c);
                i++;
                continue;
            }
            int close = template.indexOf('}', i);
            if (close < 0) throw TemplateException.value("Single '{' encountered in format string");
            String field = template.substring(i + 1, close);
            i = close + 1;
            String spec = "";
            int colon = field.indexOf(':');
            if (colon >= 0) {
                spec = field.substring(colon + 1);
                field = field.substring(0, colon);
            }
            char conversion = 0;
            int bang = field.indexOf('!');
            if (bang >= 0) {
                conversion = field.length() > bang + 1 ? field.charAt(bang + 1) : 0;
                field = field.substring(0, bang);
            }
            Object value;
            if (field.isEmpty()) {
                if (auto >= args.size()) throw TemplateException.value("Replacement index " + auto + " out of range");
                value = args.get(auto++);
            } else if (field.chars().allMatch(Character::isDigit)) {
                int n = Integer.parseInt(field);
                if (n >= args.size()) throw TemplateException.value("Replacement index " + n + " out of range");
                value = args.get(n);
            } else {
                if (!kwargs.containsKey(field)) throw TemplateException.value("KeyError: " + Py.repr(field));
                value = kwargs.get(field);
            }
            if (conversion == 'r') value = Py.repr(value);
            else if (conversion == 's') value = Py.str(value);
            out.append(formatSpec(value, spec));
        }
        return out.toString();
    }

    /** A subset of Python's format-spec mini-language: [[fill]align][sign][0][width][.precision][type]. */
    private static String formatSpec(Object value, String spec) {
        if (spec.isEmpty()) return Py.str(value);
        int i = 0;
        char fill = ' ';
        char align = 0;
        if (spec.length() >= 2 && "<>^=".indexOf(spec.charAt(1)) >= 0) {
            fill = spec.charAt(0);
            align = spec.charAt(1);
            i = 2;
        } else if ("<>^=".indexOf(spec.charAt(0)) >= 0) {
            align = spec.charAt(0);
            i = 1;
        }
        String sign = "";
        if (i < spec.length() && "+- ".indexOf(spec.charAt(i)) >= 0) sign = String.valueOf(spec.charAt(i++));
        if (i < spec.length() && spec.charAt(i) == '0') {
            if (align == 0) {
                fill = '0';
                align = '=';
            }
            i++;
        }
        int start = i;
        while (i < spec.length() && Character.isDigit(spec.charAt(i))) i++;
        int width = i > start ? Integer.parseInt(spec.substring(start, i)) : 0;
        int precision = -1;
        if (i < spec.length() && spec.charAt(i) == '.') {
            start = ++i;
            while (i < spec.length() && Character.isDigit(spec.charAt(i))) i++;
            precision = Integer.parseInt(spec.substring(start, i));
        }
        char type = i < spec.length() ? spec.charAt(i++) : 0;
        if (i != spec.length()) throw TemplateException.value("Invalid format specifier '" + spec + "'");
        String body;
        boolean numeric = Py.isNumber(value) && !(value instanceof Boolean && type == 0);
        switch (type) {
            case 0, 's' -> {
                if (type == 's' && !(value instanceof String)) {
                    throw TemplateException.value("Unknown format code 's' for object of type '" + Py.typeName(value) + "'");
                }
                if (numeric && precision >= 0) {
                    body = String.format(Locale.ROOT, "%." + precision + "g", Py.toDouble(value));
                } else {
                    body = Py.str(value);
                    if (precision >= 0 && value instanceof String) body = slice(body, null, (long) precision, null);
                }
            }
            case 'd' -> {
                if (!Py.isIntLike(value)) {
                    throw TemplateException.value("Unknown format code 'd' for object of type '" + Py.typeName(value) + "'");
                }
                body = Py.toBig(value).toString();
            }
            case 'f', 'F', 'e', 'E', '%' -> {
                if (!Py.isNumber(value)) {
                    throw TemplateException.value("Unknown format code '" + type + "' for object of type '"
                            + Py.typeName(value) + "'");
                }
                double d = Py.toDouble(value) * (type == '%' ? 100 : 1);
                body = String.format(Locale.ROOT, "%." + (precision < 0 ? 6 : precision) + (type == '%' ? 'f' : type), d);
                if (type == '%') body += "%";
            }
            default -> throw TemplateException.value("Unknown format code '" + type + "'");
        }
        if (numeric && !body.startsWith("-") && !sign.equals("-")) body = sign + body;
        int n = body.codePointCount(0, body.length());
        if (width <= n) return body;
        if (align == 0) align = numeric ? '>' : '<';
        String f = String.valueOf(fill);
        int padding = width - n;
        return switch (align) {
            case '<' -> body + f.repeat(padding);
            case '^' -> f.repeat(padding / 2) + body + f.repeat(padding - padding / 2);
            case '=' -> (body.startsWith("-") || body.startsWith("+") || body.startsWith(" "))
                    ? body.charAt(0) + f.repeat(padding) + body.substring(1) : f.repeat(padding) + body;
            default -> f.repeat(padding) + body;
        };
    }
}
