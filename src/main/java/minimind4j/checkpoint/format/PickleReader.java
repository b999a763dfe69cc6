package minimind4j.checkpoint.format;

import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle virtual machine for protocols 0–5 that builds plain Java values and never runs Python code: every
 * GLOBAL goes through a {@link Globals} whitelist, which turns it into a {@link Callable} or an inert marker.
 *
 * <p>Python values map to: int → {@link Long} (or {@link BigInteger} when it does not fit), float → {@link Double},
 * str → {@link String}, bytes/bytearray → {@code byte[]}, bool → {@link Boolean}, None → null, list →
 * {@link ArrayList}, tuple → {@link PyTuple}, dict → {@link LinkedHashMap}, set/frozenset → {@link LinkedHashSet}.
 *
 * <p>Opcode semantics follow CPython's Lib/pickle.py {@code _Unpickler} (the reference implementation) and the
 * opcode table in Lib/pickletools.py; MARK uses a separate stack of mark positions, as CPython's metastack does.
 * Text-mode opcodes that need Python's repr parsing (STRING, UNICODE) and ones that call classes (INST, OBJ) or
 * need registries/out-of-band buffers (EXT*, NEXT_BUFFER) are refused; torch.save never emits them.
 */
final class PickleReader {

    /** A Python callable the whitelist allows REDUCE / NEWOBJ to call. */
    interface Callable {
        Object call(List<Object> args);
    }

    /** Resolves {@code module.name} to a {@link Callable} or marker, or throws for names it does not allow. */
    interface Globals {
        Object resolve(String module, String name);
    }

    /** Turns a persistent id (BINPERSID / PERSID) into the object it stands for. */
    interface PersistentLoader {
        Object load(Object persistentId);
    }

    /** Applies BUILD's state to an object; the default only accepts dicts (whose attributes are dropped). */
    interface StateSetter {
        void setState(Object target, Object state);
    }

    private final byte[] in;
    private final String source;
    private final Globals globals;
    private final PersistentLoader persistentLoader;
    private final StateSetter stateSetter;
    private int pos;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayDeque<Integer> marks = new ArrayDeque<>();
    private final HashMap<Long, Object> memo = new HashMap<>();

    PickleReader(byte[] pickle, String source, Globals globals, PersistentLoader persistentLoader,
                 StateSetter stateSetter) {
        this.in = pickle;
        this.source = source;
        this.globals = globals;
        this.persistentLoader = persistentLoader;
        this.stateSetter = stateSetter;
    }

    /** Runs the pickle to its STOP and returns the top-level object. */
    Object load() {
        while (true) {
            int at = pos;
            int op = u8();
            try {
                if (op == '.') { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw fail("STOP with " + stack.size() + " objects on the stack");
                    }
                    return stack.get(0);
                }
                execute(op);
            } catch (ClassCastException | IndexOutOfBoundsException | IllegalArgumentException | ArithmeticException
                     | NullPointerException | java.nio.BufferUnderflowException e) {
                // A well-formed torch pickle never gets here; a damaged or hostile one must not escape as a crash.
                throw new PickleException(source + ": malformed pickle at byte " + at + " (opcode 0x"
                        + Integer.toHexString(op) + "): " + e.getMessage());
            }
        }
    }

    private void execute(int op) {
        switch (op) {
            // ---- protocol / framing ----
            case 0x80: { // PROTO
                int proto = u8();
                if (proto > 5) throw fail("pickle protocol " + proto + " is newer than 5");
                break;
            }
            case 0x95: // FRAME: the whole pickle is in memory already, frames need no handling
                bytes(8);
                break;

            // ---- constants ----
            case 'N': push(null); break; // NONE
            case 0x88: push(Boolean.TRUE); break; // NEWTRUE
            case 0x89: push(Boolean.FALSE); break; // NEWFALSE

            // ---- integers ----
            case 'J': push((long) i32()); break; // BININT (signed)
            case 'K': push((long) u8()); break; // BININT1
            case 'M': push((long) u16()); break; // BININT2
            case 0x8a: push(longFrom(bytes(u8()))); break; // LONG1
            case 0x8b: push(longFrom(bytes(length(i32())))); break; // LONG4
            case 'I': { // INT (text): "00"/"01" are the protocol-0 booleans
                String s = line();
                if (s.equals("00")) push(Boolean.FALSE);
                else if (s.equals("01")) push(Boolean.TRUE);
                else push(integer(s));
                break;
            }
            case 'L': { // LONG (text), may end with 'L'
                String s = line();
                push(integer(s.endsWith("L") ? s.substring(0, s.length() - 1) : s));
                break;
            }

            // ---- floats ----
            case 'G': { // BINFLOAT: 8-byte big-endian double
                long bits = 0;
                for (byte b : bytes(8)) bits = (bits << 8) | (b & 0xFF);
                push(Double.longBitsToDouble(bits));
                break;
            }
            case 'F': { // FLOAT (text)
                String s = line();
                try {
                    push(Double.parseDouble(s));
                } catch (NumberFormatException e) {
                    throw fail("bad FLOAT literal '" + s + "'");
                }
                break;
            }

            // ---- strings and bytes ----
            case 0x8c: push(utf8(bytes(u8()))); break; // SHORT_BINUNICODE
            case 'X': push(utf8(bytes(length(u32())))); break; // BINUNICODE
            case 0x8d: push(utf8(bytes(length(i64())))); break; // BINUNICODE8
            case 'U': push(python2Str(bytes(u8()))); break; // SHORT_BINSTRING
            case 'T': push(python2Str(bytes(length(i32())))); break; // BINSTRING
            case 'C': push(bytes(u8())); break; // SHORT_BINBYTES
            case 'B': push(bytes(length(u32()))); break; // BINBYTES
            case 0x8e: push(bytes(length(i64()))); break; // BINBYTES8
            case 0x96: push(bytes(length(i64()))); break; // BYTEARRAY8

            // ---- containers ----
            case '}': push(new LinkedHashMap<>()); break; // EMPTY_DICT
            case ']': push(new ArrayList<>()); break; // EMPTY_LIST
            case ')': push(PyTuple.of()); break; // EMPTY_TUPLE
            case 0x8f: push(new LinkedHashSet<>()); break; // EMPTY_SET
            case '(': marks.push(stack.size()); break; // MARK
            case 't': push(PyTuple.copyOf(popMark())); break; // TUPLE
            case 0x85: { Object a = pop(); push(PyTuple.of(a)); break; } // TUPLE1
            case 0x86: { Object b = pop(); Object a = pop(); push(PyTuple.of(a, b)); break; } // TUPLE2
            case 0x87: { Object c = pop(); Object b = pop(); Object a = pop(); push(PyTuple.of(a, b, c)); break; }
            case 'l': push(new ArrayList<>(popMark())); break; // LIST
            case 'd': { // DICT
                List<Object> items = popMark();
                Map<Object, Object> dict = new LinkedHashMap<>();
                putPairs(dict, items);
                push(dict);
                break;
            }
            case 0x91: { // FROZENSET
                Set<Object> s = new LinkedHashSet<>();
                for (Object item : popMark()) s.add(hashable(item));
                push(Collections.unmodifiableSet(s));
                break;
            }
            case 'a': { Object v = pop(); asList(top()).add(v); break; } // APPEND
            case 'e': { List<Object> items = popMark(); asList(top()).addAll(items); break; } // APPENDS
            case 's': { Object v = pop(); Object k = pop(); asMap(top()).put(hashable(k), v); break; } // SETITEM
            case 'u': { List<Object> items = popMark(); putPairs(asMap(top()), items); break; } // SETITEMS
            case 0x90: { // ADDITEMS
                List<Object> items = popMark();
                Object set = top();
                if (!(set instanceof Set)) throw fail("ADDITEMS on a " + typeName(set));
                @SuppressWarnings("unchecked") Set<Object> s = (Set<Object>) set;
                for (Object item : items) s.add(hashable(item));
                break;
            }

            // ---- stack manipulation ----
            case '0': // POP: CPython pops a mark when the stack above it is empty
                if (!marks.isEmpty() && marks.peek() == stack.size()) popMark();
                else pop();
                break;
            case '1': popMark(); break; // POP_MARK
            case '2': push(top()); break; // DUP

            // ---- memo ----
            case 'q': memo.put((long) u8(), top()); break; // BINPUT
            case 'r': memo.put(u32(), top()); break; // LONG_BINPUT
            case 0x94: memo.put((long) memo.size(), top()); break; // MEMOIZE
            case 'p': memo.put(memoIndex(line()), top()); break; // PUT (text)
            case 'h': push(memoGet(u8())); break; // BINGET
            case 'j': push(memoGet(u32())); break; // LONG_BINGET
            case 'g': push(memoGet(memoIndex(line()))); break; // GET (text)

            // ---- objects ----
            case 'c': { // GLOBAL "module\nname\n"
                String module = line();
                String name = line();
                push(globals.resolve(module, name));
                break;
            }
            case 0x93: { // STACK_GLOBAL
                Object name = pop();
                Object module = pop();
                if (!(module instanceof String) || !(name instanceof String)) {
                    throw fail("STACK_GLOBAL needs two strings, got " + typeName(module) + " and " + typeName(name));
                }
                push(globals.resolve((String) module, (String) name));
                break;
            }
            case 'R': { // REDUCE: callable(*args)
                Object args = pop();
                Object callable = pop();
                push(call(callable, args));
                break;
            }
            case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
                Object args = pop();
                Object cls = pop();
                push(call(cls, args));
                break;
            }
            case 0x92: { // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
                Object kwargs = pop();
                Object args = pop();
                Object cls = pop();
                if (kwargs instanceof Map && !((Map<?, ?>) kwargs).isEmpty()) {
                    throw fail("NEWOBJ_EX with keyword arguments " + ((Map<?, ?>) kwargs).keySet());
                }
                push(call(cls, args));
                break;
            }
            case 'b': { // BUILD: obj.__setstate__(state) or obj.__dict__.update(state)
                Object state = pop();
                stateSetter.setState(top(), state);
                break;
            }
            case 'Q': push(persistentLoader.load(pop())); break; // BINPERSID
            case 'P': push(persistentLoader.load(line())); break; // PERSID (text)

            case 'S': case 'V':
                throw fail("text-mode string opcodes (protocol 0) are not supported; re-save with protocol 2 or newer");
            case 'i': case 'o':
                throw fail("INST/OBJ opcodes would instantiate arbitrary classes; they are not supported");
            case 0x82: case 0x83: case 0x84:
                throw fail("copyreg extension codes (EXT1/2/4) are not supported");
            case 0x97: case 0x98:
                throw fail("out-of-band buffers (protocol 5 NEXT_BUFFER) are not supported");
            default:
                throw fail("unknown opcode 0x" + Integer.toHexString(op));
        }
    }

    private Object call(Object callable, Object args) {
        if (!(callable instanceof Callable)) {
            throw fail(describe(callable) + " is not something this reader can call");
        }
        if (!(args instanceof List)) throw fail("call arguments must be a tuple, got " + typeName(args));
        @SuppressWarnings("unchecked") List<Object> list = (List<Object>) args;
        return ((Callable) callable).call(list);
    }

    // ---- stack helpers ----

    private void push(Object o) { stack.add(o); }

    private Object pop() {
        if (stack.isEmpty() || (!marks.isEmpty() && marks.peek() == stack.size())) {
            throw fail("stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object top() {
        if (stack.isEmpty()) throw fail("stack underflow");
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) throw fail("no MARK on the stack");
        int at = marks.pop();
        List<Object> tail = stack.subList(at, stack.size());
        List<Object> items = new ArrayList<>(tail);
        tail.clear();
        return items;
    }

    private Object memoGet(long index) {
        if (!memo.containsKey(index)) throw fail("memo entry " + index + " read before it was written");
        return memo.get(index);
    }

    private long memoIndex(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw fail("bad memo index '" + s + "'");
        }
    }

    private void putPairs(Map<Object, Object> dict, List<Object> items) {
        if (items.size() % 2 != 0) throw fail("odd number of items for a dict");
        for (int i = 0; i < items.size(); i += 2) dict.put(hashable(items.get(i)), items.get(i + 1));
    }

    /**
     * A dict key or set item as Java can hash it. Python refuses lists, dicts and sets as keys (and tuples holding
     * them); so does this, which also keeps a self-containing list from sending hashCode into endless recursion.
     */
    private Object hashable(Object key) {
        checkHashable(key, 0);
        // Java arrays hash by identity; Python bytes keys compare by value, so wrap them.
        if (key instanceof byte[]) return PyTuple.of(key);
        return key;
    }

    private void checkHashable(Object key, int depth) {
        if (key instanceof PyTuple) {
            if (depth > 100) throw fail("dict key nested more than 100 tuples deep");
            for (Object item : (PyTuple) key) checkHashable(item, depth + 1);
        } else if (key instanceof List || key instanceof Map || key instanceof Set) {
            throw fail("unhashable " + typeName(key) + " used as a dict key or set item");
        }
    }

    @SuppressWarnings("unchecked")
    private List<Object> asList(Object o) {
        if (o instanceof ArrayList) return (List<Object>) o;
        throw fail("APPEND on a " + typeName(o));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> asMap(Object o) {
        if (o instanceof Map) return (Map<Object, Object>) o;
        throw fail("SETITEM on a " + typeName(o));
    }

    // ---- byte reading ----

    private int u8() {
        need(1);
        return in[pos++] & 0xFF;
    }

    private int u16() {
        need(2);
        int v = (in[pos] & 0xFF) | (in[pos + 1] & 0xFF) << 8;
        pos += 2;
        return v;
    }

    private int i32() {
        need(4);
        int v = (in[pos] & 0xFF) | (in[pos + 1] & 0xFF) << 8 | (in[pos + 2] & 0xFF) << 16 | (in[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    private long u32() { return i32() & 0xFFFFFFFFL; }

    private long i64() {
        long lo = u32();
        long hi = u32();
        return lo | hi << 32;
    }

    private int length(long n) {
        if (n < 0 || n > in.length - pos) {
            throw fail("length " + n + " runs past the end of the pickle (truncated or corrupt)");
        }
        return (int) n;
    }

    private byte[] bytes(int n) {
        need(n);
        byte[] out = new byte[n];
        System.arraycopy(in, pos, out, 0, n);
        pos += n;
        return out;
    }

    private String line() {
        int start = pos;
        while (pos < in.length && in[pos] != '\n') pos++;
        if (pos >= in.length) throw fail("unterminated text line (truncated pickle)");
        String s = new String(in, start, pos - start, StandardCharsets.UTF_8);
        pos++;
        return s;
    }

    private void need(int n) {
        if (n < 0 || pos + n > in.length) throw fail("unexpected end of pickle data (truncated file?)");
    }

    // ---- value conversions ----

    private String utf8(byte[] b) {
        // CPython decodes with 'surrogatepass'; Java replaces lone surrogates, which only matters for invalid text.
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    /** A Python 2 str: torch.load decodes these with encoding='utf-8', falling back to latin-1 for non-text. */
    private static String python2Str(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return new String(b, StandardCharsets.ISO_8859_1);
        }
    }

    /** LONG1/LONG4 payload: little-endian two's complement, empty means 0. */
    static Object longFrom(byte[] littleEndian) {
        if (littleEndian.length == 0) return 0L;
        byte[] bigEndian = new byte[littleEndian.length];
        for (int i = 0; i < littleEndian.length; i++) bigEndian[i] = littleEndian[littleEndian.length - 1 - i];
        BigInteger v = new BigInteger(bigEndian);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private Object integer(String s) {
        try {
            BigInteger v = new BigInteger(s.trim());
            return v.bitLength() < 64 ? (Object) v.longValue() : v;
        } catch (NumberFormatException e) {
            throw fail("bad integer literal '" + s + "'");
        }
    }

    static String typeName(Object o) {
        return o == null ? "None" : o.getClass().getSimpleName();
    }

    /** A short description of a value for messages: never its full (possibly huge or cyclic) contents. */
    static String brief(Object o) {
        if (o == null || o instanceof Number || o instanceof Boolean) return String.valueOf(o);
        if (o instanceof String) {
            String s = (String) o;
            return "'" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'";
        }
        if (o instanceof java.util.Collection) return "a " + typeName(o) + " of " + ((java.util.Collection<?>) o).size() + " items";
        if (o instanceof Map) return "a dict of " + ((Map<?, ?>) o).size() + " items";
        return "a " + typeName(o);
    }

    private static String describe(Object o) {
        return o instanceof String ? "the string '" + o + "'" : "a " + typeName(o);
    }

    private PickleException fail(String message) {
        return new PickleException(source + ": malformed or unsupported pickle at byte " + pos + ": " + message);
    }

    /** Raised for pickles this reader cannot or will not load; the message names the file and the problem. */
    static final class PickleException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PickleException(String message) {
            super(message);
        }
    }
}
