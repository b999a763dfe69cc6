package minimind4j.tokenizer.jinja;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python semantics for the Java values a template sees: {@code null} is None, {@link Boolean} bool,
 * integral {@link Number}s int, other numbers float, {@link String} str (measured in code points, as Python does),
 * {@link List} list, {@link PyTuple} tuple, {@link Map} dict.
 */
final class Py {
    private Py() {}

    // ---------------------------------------------------------------- types

    static boolean isInt(Object v) {
        return v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                || v instanceof BigInteger;
    }

    /** int or bool: what Python's arithmetic treats as an integer. */
    static boolean isIntLike(Object v) {
        return isInt(v) || v instanceof Boolean;
    }

    static boolean isFloat(Object v) {
        return v instanceof Double || v instanceof Float || v instanceof BigDecimal;
    }

    static boolean isNumber(Object v) {
        return isIntLike(v) || isFloat(v);
    }

    static boolean isList(Object v) {
        return v instanceof List && !(v instanceof PyTuple);
    }

    static String typeName(Object v) {
        if (v == null) return "NoneType";
        if (v instanceof Boolean) return "bool";
        if (isInt(v)) return "int";
        if (isFloat(v)) return "float";
        if (v instanceof String) return "str";
        if (v instanceof PyTuple) return "tuple";
        if (v instanceof List) return "list";
        if (v instanceof Map) return "dict";
        if (v instanceof Undefined) return "Undefined";
        if (v instanceof Namespace) return "Namespace";
        if (v instanceof LoopContext) return "LoopContext";
        if (v instanceof JinjaCallable) return "function";
        return v.getClass().getSimpleName();
    }

    // ---------------------------------------------------------------- numbers

    static long toLong(Object v) {
        if (v instanceof Boolean b) return b ? 1 : 0;
        if (v instanceof BigInteger big) {
            if (big.bitLength() > 63) throw TemplateException.value("integer too large: " + big);
            return big.longValue();
        }
        return ((Number) v).longValue();
    }

    static BigInteger toBig(Object v) {
        if (v instanceof BigInteger big) return big;
        return BigInteger.valueOf(toLong(v));
    }

    static double toDouble(Object v) {
        if (v instanceof Boolean b) return b ? 1 : 0;
        return ((Number) v).doubleValue();
    }

    /** Back to a Long when the value fits, as Python's ints are one type. */
    static Object normalize(BigInteger v) {
        return v.bitLength() <= 63 ? (Object) v.longValue() : v;
    }

    /** Python's {@code operator.index}: an int or bool as a Java int (indices, counts, repetition). */
    static int index(Object v, String what) {
        if (!isIntLike(v)) {
            throw TemplateException.type(what + " must be integers or None, not " + typeName(v));
        }
        long l = toLong(v);
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, l));
    }

    // ---------------------------------------------------------------- truth, length, iteration

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) return false;
        if (v instanceof Boolean b) return b;
        if (isInt(v)) return toBig(v).signum() != 0;
        if (isFloat(v)) return toDouble(v) != 0.0;
        if (v instanceof String s) return !s.isEmpty();
        if (v instanceof Collection<?> c) return !c.isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        return true;
    }

    static int len(Object v) {
        if (v instanceof String s) return s.codePointCount(0, s.length());
        if (v instanceof Collection<?> c) return c.size();
        if (v instanceof Map<?, ?> m) return m.size();
        if (v instanceof Undefined) return 0;
        throw TemplateException.type("object of type '" + typeName(v) + "' has no len()");
    }

    /** The items {@code for x in v} visits: list items, dict keys, string characters; undefined is empty. */
    static List<Object> iterate(Object v) {
        if (v instanceof List<?> l) return new ArrayList<>(l);
        if (v instanceof Map<?, ?> m) return new ArrayList<>(m.keySet());
        if (v instanceof String s) return PyStrings.chars(s);
        if (v instanceof Collection<?> c) return new ArrayList<>(c);
        if (v instanceof Undefined) return new ArrayList<>();
        if (v instanceof Iterable<?> it) {
            List<Object> out = new ArrayList<>();
            for (Object o : it) out.add(o);
            return out;
        }
        throw TemplateException.type("'" + typeName(v) + "' object is not iterable");
    }

    static boolean isIterable(Object v) {
        return v instanceof String || v instanceof Collection || v instanceof Map || v instanceof Undefined
                || v instanceof Iterable;
    }

    // ---------------------------------------------------------------- equality and ordering

    static boolean eq(Object a, Object b) {
        if (a == b) return true;
        if (a == null || b == null) return false;
        if (a instanceof Undefined || b instanceof Undefined) return a instanceof Undefined && b instanceof Undefined;
        if (isNumber(a) && isNumber(b)) {
            if (isIntLike(a) && isIntLike(b)) return toBig(a).equals(toBig(b));
            return toDouble(a) == toDouble(b);
        }
        if (a instanceof String || b instanceof String) return a.equals(b);
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            if ((a instanceof PyTuple) != (b instanceof PyTuple) || la.size() != lb.size()) return false;
            for (int i = 0; i < la.size(); i++) if (!eq(la.get(i), lb.get(i))) return false;
            return true;
        }
        if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
            if (ma.size() != mb.size()) return false;
            for (Map.Entry<?, ?> e : ma.entrySet()) {
                Object key = findKey(mb, e.getKey());
                if (key == MISSING || !eq(e.getValue(), mb.get(key))) return false;
            }
            return true;
        }
        return a.equals(b);
    }

    private static final Object MISSING = new Object();

    /** The key of {@code map} equal to {@code key} in Python's sense (1 == 1.0 == True), or MISSING. */
    static Object findKey(Map<?, ?> map, Object key) {
        if (map.containsKey(key)) return key;
        if (isNumber(key)) {
            for (Object k : map.keySet()) if (isNumber(k) && eq(k, key)) return k;
        }
        return MISSING;
    }

    static boolean hasKey(Map<?, ?> map, Object key) {
        return findKey(map, key) != MISSING;
    }

    /** Python's ordering for {@code < <= > >=}; mixed types fail as in Python. */
    static int compare(Object a, Object b, String op) {
        if (isNumber(a) && isNumber(b)) {
            if (isIntLike(a) && isIntLike(b)) return toBig(a).compareTo(toBig(b));
            return Double.compare(toDouble(a), toDouble(b));
        }
        if (a instanceof String sa && b instanceof String sb) return PyStrings.compareCodePoints(sa, sb);
        if (a instanceof List<?> la && b instanceof List<?> lb && (a instanceof PyTuple) == (b instanceof PyTuple)) {
            for (int i = 0; i < Math.min(la.size(), lb.size()); i++) {
                if (!eq(la.get(i), lb.get(i))) return compare(la.get(i), lb.get(i), op);
            }
            return Integer.compare(la.size(), lb.size());
        }
        if (a instanceof Undefined || b instanceof Undefined) {
            throw ((Undefined) (a instanceof Undefined ? a : b)).error();
        }
        throw TemplateException.type("'" + op + "' not supported between instances of '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    /** {@code item in container}. */
    static boolean contains(Object container, Object item) {
        if (container instanceof String s) {
            if (!(item instanceof String sub)) {
                throw TemplateException.type("'in <string>' requires string as left operand, not " + typeName(item));
            }
            return s.contains(sub);
        }
        if (container instanceof Map<?, ?> m) return hasKey(m, item);
        if (container instanceof Collection<?> c) {
            for (Object o : c) if (eq(o, item)) return true;
            return false;
        }
        if (container instanceof Undefined) return false;
        throw TemplateException.type("argument of type '" + typeName(container) + "' is not iterable");
    }

    // ---------------------------------------------------------------- arithmetic

    static Object add(Object a, Object b) {
        failIfUndefined(a, b);
        if (isNumber(a) && isNumber(b)) {
            if (isIntLike(a) && isIntLike(b)) return normalize(toBig(a).add(toBig(b)));
            return toDouble(a) + toDouble(b);
        }
        if (a instanceof String sa && b instanceof String sb) return sa + sb;
        if (a instanceof List<?> la && b instanceof List<?> lb && (a instanceof PyTuple) == (b instanceof PyTuple)) {
            List<Object> out = new ArrayList<>(la);
            out.addAll(lb);
            return a instanceof PyTuple ? new PyTuple(out) : out;
        }
        if (a instanceof String) {
            throw TemplateException.type("can only concatenate str (not \"" + typeName(b) + "\") to str");
        }
        if (isList(a)) throw TemplateException.type("can only concatenate list (not \"" + typeName(b) + "\") to list");
        throw unsupported("+", a, b);
    }

    static Object sub(Object a, Object b) {
        failIfUndefined(a, b);
        if (isNumber(a) && isNumber(b)) {
            if (isIntLike(a) && isIntLike(b)) return normalize(toBig(a).subtract(toBig(b)));
            return toDouble(a) - toDouble(b);
        }
        throw unsupported("-", a, b);
    }

    static Object mul(Object a, Object b) {
        failIfUndefined(a, b);
        if (isNumber(a) && isNumber(b)) {
            if (isIntLike(a) && isIntLike(b)) return normalize(toBig(a).multiply(toBig(b)));
            return toDouble(a) * toDouble(b);
        }
        if (isIntLike(a) && (b instanceof String || b instanceof List)) return repeat(b, a);
        if (isIntLike(b) && (a instanceof String || a instanceof List)) return repeat(a, b);
        throw unsupported("*", a, b);
    }

    private static Object repeat(Object seq, Object times) {
        int n = Math.max(0, index(times, "repeat count"));
        if (seq instanceof String s) return s.repeat(n);
        List<?> l = (List<?>) seq;
        List<Object> out = new ArrayList<>(l.size() * n);
        for (int i = 0; i < n; i++) out.addAll(l);
        return seq instanceof PyTuple ? new PyTuple(out) : out;
    }

    static Object truediv(Object a, Object b) {
        failIfUndefined(a, b);
        if (isNumber(a) && isNumber(b)) {
            if (toDouble(b) == 0.0 && !(isFloat(b) && Double.isNaN(toDouble(b)))) {
                throw TemplateException.value("division by zero");
            }
            if (isIntLike(a) && isIntLike(b) && (toBig(a).bitLength() > 53 || toBig(b).bitLength() > 53)) {
                return new BigDecimal(toBig(a)).divide(new BigDecimal(toBig(b)), MathContext.DECIMAL128).doubleValue();
            }
            return toDouble(a) / toDouble(b);
        }
        throw unsupported("/", a, b);
    }

    static Object floordiv(Object a, Object b) {
        failIfUndefined(a, b);
        if (isNumber(a) && isNumber(b)) {
            if (toDouble(b) == 0.0) throw TemplateException.value("integer division or modulo by zero");
            if (isIntLike(a) && isIntLike(b)) {
                BigInteger[] qr = toBig(a).divideAndRemainder(toBig(b));
                BigInteger q = qr[0];
                if (qr[1].signum() != 0 && (qr[1].signum() != toBig(b).signum())) q = q.subtract(BigInteger.ONE);
                return normalize(q);
            }
            return Math.floor(toDouble(a) / toDouble(b));
        }
        throw unsupported("//", a, b);
    }

    static Object mod(Object a, Object b) {
        failIfUndefined(a, b);
        if (a instanceof String format) return PyStrings.percentFormat(format, b);
        if (isNumber(a) && isNumber(b)) {
            if (toDouble(b) == 0.0) throw TemplateException.value("integer division or modulo by zero");
            if (isIntLike(a) && isIntLike(b)) {
                BigInteger m = toBig(a).mod(toBig(b).abs());
                if (toBig(b).signum() < 0 && m.signum() != 0) m = m.add(toBig(b));
                return normalize(m);
            }
            double x = toDouble(a);
            double y = toDouble(b);
            double m = x % y;
            if (m != 0 && (m < 0) != (y < 0)) m += y;
            return m;
        }
        throw unsupported("%", a, b);
    }

    static Object pow(Object a, Object b) {
        failIfUndefined(a, b);
        if (isNumber(a) && isNumber(b)) {
            if (isIntLike(a) && isIntLike(b) && toBig(b).signum() >= 0) {
                if (toBig(b).bitLength() > 31) throw TemplateException.value("exponent too large");
                return normalize(toBig(a).pow(toBig(b).intValue()));
            }
            if (toDouble(a) == 0.0 && toDouble(b) < 0) {
                throw TemplateException.value("0.0 cannot be raised to a negative power");
            }
            return Math.pow(toDouble(a), toDouble(b));
        }
        throw unsupported("** or pow()", a, b);
    }

    static Object negate(Object a) {
        failIfUndefined(a, a);
        if (isIntLike(a)) return normalize(toBig(a).negate());
        if (isFloat(a)) return -toDouble(a);
        throw TemplateException.type("bad operand type for unary -: '" + typeName(a) + "'");
    }

    static Object plus(Object a) {
        failIfUndefined(a, a);
        if (isIntLike(a)) return normalize(toBig(a));
        if (isFloat(a)) return toDouble(a);
        throw TemplateException.type("bad operand type for unary +: '" + typeName(a) + "'");
    }

    private static void failIfUndefined(Object a, Object b) {
        if (a instanceof Undefined u) throw u.error();
        if (b instanceof Undefined u) throw u.error();
    }

    private static TemplateException unsupported(String op, Object a, Object b) {
        return TemplateException.type("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    // ---------------------------------------------------------------- str() and repr()

    /** Python's {@code str(v)}, which is what {@code {{ v }}} prints; undefined prints as nothing. */
    static String str(Object v) {
        if (v instanceof String s) return s;
        if (v instanceof Undefined) return "";
        return repr(v);
    }

    static String repr(Object v) {
        StringBuilder out = new StringBuilder();
        repr(v, out);
        return out.toString();
    }

    private static void repr(Object v, StringBuilder out) {
        if (v == null) out.append("None");
        else if (v instanceof Boolean b) out.append(b ? "True" : "False");
        else if (isInt(v)) out.append(v);
        else if (isFloat(v)) out.append(floatRepr(toDouble(v)));
        else if (v instanceof String s) PyStrings.repr(s, out);
        else if (v instanceof PyTuple t) {
            out.append('(');
            for (int i = 0; i < t.size(); i++) {
                if (i > 0) out.append(", ");
                repr(t.get(i), out);
            }
            out.append(t.size() == 1 ? ",)" : ")");
        } else if (v instanceof List<?> l) {
            out.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) out.append(", ");
                repr(l.get(i), out);
            }
            out.append(']');
        } else if (v instanceof Map<?, ?> m) {
            out.append('{');
            Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                repr(e.getKey(), out);
                out.append(": ");
                repr(e.getValue(), out);
                if (it.hasNext()) out.append(", ");
            }
            out.append('}');
        } else if (v instanceof Namespace ns) {
            out.append("<Namespace ");
            repr(ns.attributes, out);
            out.append('>');
        } else if (v instanceof Undefined) out.append("Undefined");
        else if (v instanceof LoopContext loop) out.append("<LoopContext ").append(loop.index0 + 1).append('/')
                .append(loop.length()).append('>');
        else out.append(v);
    }

    /** Python's {@code repr(float)}: the shortest digits that read back to the same double. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0.0) return 1 / d < 0 ? "-0.0" : "0.0";
        BigDecimal exact = new BigDecimal(d);
        BigDecimal shortest = exact;
        for (int p = 1; p <= 17; p++) {
            BigDecimal candidate = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
            if (candidate.doubleValue() == d) {
                shortest = candidate;
                break;
            }
        }
        shortest = shortest.stripTrailingZeros();
        String digits = shortest.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - shortest.scale(); // position of the first digit
        StringBuilder out = new StringBuilder();
        if (d < 0) out.append('-');
        if (exponent >= -4 && exponent < 16) {
            if (exponent < 0) {
                out.append("0.").append("0".repeat(-exponent - 1)).append(digits);
            } else if (digits.length() <= exponent + 1) {
                out.append(digits).append("0".repeat(exponent + 1 - digits.length())).append(".0");
            } else {
                out.append(digits, 0, exponent + 1).append('.').append(digits, exponent + 1, digits.length());
            }
        } else {
            out.append(digits.charAt(0));
            if (digits.length() > 1) out.append('.').append(digits, 1, digits.length());
            out.append('e').append(exponent < 0 ? '-' : '+');
            String e = Integer.toString(Math.abs(exponent));
            if (e.length() < 2) out.append('0');
            out.append(e);
        }
        return out.toString();
    }
}
