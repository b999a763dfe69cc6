package minimind4j.tokenizer.jinja;

import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import minimind4j.tokenizer.jinja.Token.Type;

/**
 * Splits a template into tokens the way Jinja2's lexer does with {@code trim_blocks=True, lstrip_blocks=True}:
 * <ul>
 *   <li>newlines are normalised to {@code \n} and one trailing newline of the source is dropped
 *       ({@code keep_trailing_newline=False});</li>
 *   <li>{@code {%-}, {@code {{-}, {@code {#-} strip all whitespace before the tag, {@code -%}}, {@code -}}},
 *       {@code -#}} all whitespace after it;</li>
 *   <li>lstrip_blocks removes spaces/tabs between the start of a line and a {@code {%} or {@code {#} tag
 *       (not {@code {{}), unless the tag is written {@code {%+};</li>
 *   <li>trim_blocks removes the first newline after {@code %}} or {@code #}}, unless written {@code +%}}.</li>
 * </ul>
 * Inside a tag, an end delimiter inside open brackets does not end the tag ({@code {{ {'a': {'b': 1}} }}}).
 */
final class Lexer {

    private static final String[] OPERATORS = {
        "//", "**", "==", "!=", ">=", "<=",
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"
    };

    private final String src;
    private final List<Token> tokens = new ArrayList<>();
    private int pos;
    private int line = 1;
    /** Whether the text that follows starts a line: lstrip_blocks also applies there when it holds no newline. */
    private boolean lineStarting = true;

    private Lexer(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        if (s.endsWith("\n")) s = s.substring(0, s.length() - 1);
        this.src = s;
    }

    static List<Token> tokenize(String source) {
        Lexer lexer = new Lexer(source);
        lexer.run();
        return lexer.tokens;
    }

    private void run() {
        while (pos < src.length()) {
            int tag = findTagStart(pos);
            if (tag < 0) {
                emitData(src.substring(pos), line);
                line += countNewlines(src, pos, src.length());
                pos = src.length();
                break;
            }
            char kind = src.charAt(tag + 1);
            char sign = tag + 2 < src.length() ? src.charAt(tag + 2) : 0;
            if (sign != '-' && sign != '+') sign = 0;
            String text = src.substring(pos, tag);
            int textLine = line;
            line += countNewlines(text, 0, text.length());
            String kept = stripBeforeTag(text, sign, kind != '{');
            emitData(kept, textLine);
            int afterBegin = tag + 2 + (sign != 0 ? 1 : 0);
            if (kind == '#') {
                lexComment(afterBegin);
            } else if (kind == '%' && lexRawIfPresent(tag, afterBegin)) {
                // handled
            } else {
                lexTag(kind == '%', afterBegin);
            }
        }
        tokens.add(new Token(Type.EOF, "", null, line));
    }

    private int findTagStart(int from) {
        for (int i = from; i + 1 < src.length(); i++) {
            if (src.charAt(i) == '{') {
                char c = src.charAt(i + 1);
                if (c == '{' || c == '%' || c == '#') return i;
            }
        }
        return -1;
    }

    /** Whitespace control on the text before a tag: {@code -} strips all, lstrip_blocks strips the tag's indentation. */
    private String stripBeforeTag(String text, char sign, boolean lstripApplies) {
        if (sign == '-') return PyStrings.rstrip(text, null);
        if (sign == '+' || !lstripApplies) return text;
        int lineStart = text.lastIndexOf('\n') + 1;
        if ((lineStart > 0 || lineStarting) && lineStart < text.length()
                && PyStrings.isAllWhitespace(text.substring(lineStart))) {
            return text.substring(0, lineStart);
        }
        return text;
    }

    private void emitData(String text, int atLine) {
        if (!text.isEmpty()) tokens.add(new Token(Type.DATA, text, text, atLine));
    }

    private void lexComment(int from) {
        int startLine = line;
        for (int i = from; i < src.length(); i++) {
            if (src.startsWith("+#}", i)) {
                finishTagAt(from, i + 3);
                return;
            }
            if (src.startsWith("-#}", i)) {
                finishTagAt(from, skipWhitespace(i + 3));
                return;
            }
            if (src.startsWith("#}", i)) {
                int end = i + 2;
                if (end < src.length() && src.charAt(end) == '\n') end++;
                finishTagAt(from, end);
                return;
            }
        }
        throw syntax(startLine, "Missing end of comment tag");
    }

    /** Moves past a comment or raw end, keeping line count and line-start state as Jinja does. */
    private void finishTagAt(int from, int end) {
        line += countNewlines(src, from, end);
        lineStarting = end > from && src.charAt(end - 1) == '\n';
        pos = end;
    }

    private int skipWhitespace(int i) {
        while (i < src.length() && PyStrings.isWhitespace(src.charAt(i))) i++;
        return i;
    }

    /** {@code {% raw %}...{% endraw %}}: the body is data, untouched, except whitespace control at both ends. */
    private boolean lexRawIfPresent(int tag, int afterBegin) {
        int i = skipWhitespace(afterBegin);
        if (!src.startsWith("raw", i)) return false;
        i = skipWhitespace(i + 3);
        int bodyStart;
        if (src.startsWith("-%}", i)) {
            bodyStart = skipWhitespace(i + 3);
        } else if (src.startsWith("%}", i)) {
            bodyStart = i + 2; // trim_blocks does not apply to the raw opening tag
        } else {
            return false;
        }
        int startLine = line;
        line += countNewlines(src, afterBegin, bodyStart);
        lineStarting = bodyStart > 0 && src.charAt(bodyStart - 1) == '\n';
        for (int j = bodyStart; j + 1 < src.length(); j++) {
            if (src.charAt(j) != '{' || src.charAt(j + 1) != '%') continue;
            int k = j + 2;
            char sign = k < src.length() && (src.charAt(k) == '-' || src.charAt(k) == '+') ? src.charAt(k) : 0;
            if (sign != 0) k++;
            k = skipWhitespace(k);
            if (!src.startsWith("endraw", k)) continue;
            k = skipWhitespace(k + 6);
            int end;
            if (src.startsWith("+%}", k)) end = k + 3;
            else if (src.startsWith("-%}", k)) end = skipWhitespace(k + 3);
            else if (src.startsWith("%}", k)) end = k + 2 < src.length() && src.charAt(k + 2) == '\n' ? k + 3 : k + 2;
            else continue;
            String body = src.substring(bodyStart, j);
            emitData(stripBeforeTag(body, sign, true), line);
            finishTagAt(bodyStart, end);
            return true;
        }
        throw syntax(startLine, "Missing end of raw directive");
    }

    private void lexTag(boolean block, int from) {
        tokens.add(new Token(block ? Type.BLOCK_BEGIN : Type.VARIABLE_BEGIN, block ? "{%" : "{{", null, line));
        Deque<Character> brackets = new ArrayDeque<>();
        int i = from;
        while (true) {
            if (i >= src.length()) {
                throw syntax(line, "unexpected end of template, expected '" + (block ? "%}" : "}}") + "'");
            }
            if (brackets.isEmpty()) {
                int end = matchTagEnd(block, i);
                if (end >= 0) {
                    tokens.add(new Token(block ? Type.BLOCK_END : Type.VARIABLE_END, block ? "%}" : "}}", null, line));
                    line += countNewlines(src, i, end);
                    lineStarting = src.charAt(end - 1) == '\n';
                    pos = end;
                    return;
                }
            }
            char c = src.charAt(i);
            if (PyStrings.isWhitespace(c)) {
                if (c == '\n') line++;
                i++;
                continue;
            }
            i = lexExpressionToken(i, brackets);
        }
    }

    /** Position after the tag end at {@code i} (with its whitespace control), or -1 when none starts there. */
    private int matchTagEnd(boolean block, int i) {
        String close = block ? "%}" : "}}";
        if (src.startsWith("-" + close, i)) return skipWhitespace(i + 3);
        if (block && src.startsWith("+" + close, i)) return i + 3;
        if (src.startsWith(close, i)) {
            int end = i + 2;
            if (block && end < src.length() && src.charAt(end) == '\n') end++;
            return end;
        }
        return -1;
    }

    private int lexExpressionToken(int i, Deque<Character> brackets) {
        char c = src.charAt(i);
        if (c == '\'' || c == '"') return lexString(i);
        if (c >= '0' && c <= '9') return lexNumber(i);
        if (Character.isLetter(c) || c == '_' || Character.isHighSurrogate(c)) {
            int j = i;
            while (j < src.length()) {
                int cp = src.codePointAt(j);
                if (!(Character.isLetterOrDigit(cp) || cp == '_' || Character.getType(cp) == Character.NON_SPACING_MARK
                        || Character.getType(cp) == Character.COMBINING_SPACING_MARK)) break;
                j += Character.charCount(cp);
            }
            if (j > i) {
                String name = src.substring(i, j);
                tokens.add(new Token(Type.NAME, name, name, line));
                return j;
            }
        }
        for (String op : OPERATORS) {
            if (src.startsWith(op, i)) {
                switch (op) {
                    case "(" -> brackets.push(')');
                    case "[" -> brackets.push(']');
                    case "{" -> brackets.push('}');
                    case ")", "]", "}" -> {
                        if (brackets.isEmpty()) throw syntax(line, "unexpected '" + op + "'");
                        char expected = brackets.pop();
                        if (expected != op.charAt(0)) {
                            throw syntax(line, "unexpected '" + op + "', expected '" + expected + "'");
                        }
                    }
                    default -> { }
                }
                tokens.add(new Token(Type.OPERATOR, op, op, line));
                return i + op.length();
            }
        }
        throw syntax(line, "unexpected char '" + new String(Character.toChars(src.codePointAt(i))) + "'");
    }

    /** Python string literal with the escapes of Jinja's {@code unicode-escape} decoding. */
    private int lexString(int i) {
        char quote = src.charAt(i);
        int startLine = line;
        StringBuilder out = new StringBuilder();
        int j = i + 1;
        while (true) {
            if (j >= src.length()) throw syntax(startLine, "unexpected end of string literal");
            char c = src.charAt(j);
            if (c == quote) break;
            if (c == '\n') line++;
            if (c != '\\') {
                out.append(c);
                j++;
                continue;
            }
            if (j + 1 >= src.length()) throw syntax(startLine, "unexpected end of string literal");
            char e = src.charAt(j + 1);
            j += 2;
            switch (e) {
                case '\n' -> line++; // backslash-newline continues the line
                case '\\' -> out.append('\\');
                case '\'' -> out.append('\'');
                case '"' -> out.append('"');
                case 'a' -> out.append('\u0007');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'v' -> out.append('\u000b');
                case 'x', 'u', 'U' -> {
                    int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (j + digits > src.length()) throw syntax(startLine, "truncated \\" + e + " escape");
                    String hex = src.substring(j, j + digits);
                    int cp;
                    try {
                        cp = Integer.parseUnsignedInt(hex, 16);
                    } catch (NumberFormatException ex) {
                        throw syntax(startLine, "truncated \\" + e + " escape");
                    }
                    if (!Character.isValidCodePoint(cp)) throw syntax(startLine, "illegal Unicode character");
                    out.appendCodePoint(cp);
                    j += digits;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int value = e - '0';
                        int n = 1;
                        while (n < 3 && j < src.length() && src.charAt(j) >= '0' && src.charAt(j) <= '7') {
                            value = value * 8 + (src.charAt(j) - '0');
                            j++;
                            n++;
                        }
                        out.appendCodePoint(value);
                    } else {
                        out.append('\\').append(e); // unknown escapes stay as written, like Python
                    }
                }
            }
        }
        String text = src.substring(i, j + 1);
        tokens.add(new Token(Type.STRING, text, out.toString(), startLine));
        return j + 1;
    }

    /** Jinja's integer and float literals, including {@code 1_000}, {@code 0x1f}, {@code 1e3}, {@code 2.5e-3}. */
    private int lexNumber(int i) {
        int j = i;
        if (src.charAt(i) == '0' && i + 1 < src.length() && "xXoObB".indexOf(src.charAt(i + 1)) >= 0) {
            int radix = switch (Character.toLowerCase(src.charAt(i + 1))) {
                case 'x' -> 16;
                case 'o' -> 8;
                default -> 2;
            };
            j = i + 2;
            while (j < src.length() && (Character.digit(src.charAt(j), radix) >= 0 || src.charAt(j) == '_')) j++;
            String digits = src.substring(i + 2, j).replace("_", "");
            if (digits.isEmpty()) throw syntax(line, "invalid number literal");
            addInteger(src.substring(i, j), new BigInteger(digits, radix));
            return j;
        }
        j = digitsEnd(i);
        boolean isFloat = false;
        // like Jinja's (?<!\.) : in `x.0.1` the digits after a dot are an item index, not a float
        boolean afterDot = i > 0 && src.charAt(i - 1) == '.';
        if (!afterDot && j + 1 < src.length() && src.charAt(j) == '.' && isDigit(src.charAt(j + 1))) {
            j = digitsEnd(j + 1);
            isFloat = true;
        }
        if (!afterDot && j < src.length() && (src.charAt(j) == 'e' || src.charAt(j) == 'E')) {
            int k = j + 1;
            if (k < src.length() && (src.charAt(k) == '+' || src.charAt(k) == '-')) k++;
            if (k < src.length() && isDigit(src.charAt(k))) {
                j = digitsEnd(k);
                isFloat = true;
            }
        }
        String text = src.substring(i, j);
        String clean = text.replace("_", "");
        if (isFloat) {
            tokens.add(new Token(Type.FLOAT, text, Double.parseDouble(clean), line));
        } else {
            addInteger(text, new BigInteger(clean));
        }
        return j;
    }

    private int digitsEnd(int i) {
        int j = i;
        while (j < src.length() && (isDigit(src.charAt(j))
                || (src.charAt(j) == '_' && j + 1 < src.length() && isDigit(src.charAt(j + 1))))) j++;
        return j;
    }

    private void addInteger(String text, BigInteger value) {
        if (value.bitLength() > 63) throw syntax(line, "integer literal too large: " + text);
        tokens.add(new Token(Type.INTEGER, text, value.longValue(), line));
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static int countNewlines(String s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) if (s.charAt(i) == '\n') n++;
        return n;
    }

    private static TemplateException syntax(int line, String message) {
        return new TemplateException(TemplateException.Kind.SYNTAX, line, message);
    }
}
