package minimind4j.checkpoint.format;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The pickle writer against CPython's own pickler: for plain values (no string repeated, so CPython's identity memo
 * and this writer's by-value memo coincide) the bytes must be identical to {@code pickle.dumps(obj, protocol=2)}.
 */
class PickleWriterTest {

    private static byte[] dump(Object o) {
        return new PickleWriter(t -> {
            throw new AssertionError("no tensors here");
        }).dump(o);
    }

    @Test
    void plainValuesMatchCPythonByteForByte() throws Exception {
        PythonReference.assumeAvailable();
        String python = "collections.OrderedDict([('a', 1), ('b', [1.5, None, True, False]), ('c', (1, 2)),"
                + " ('d', 'x' * 300), ('e', 2 ** 70), ('f', -1), ('g', {'h': (), 'i': (7,), 'j': (1, 2, 3, 4)}),"
                + " ('k', b'\\x00\\xff'), ('l', b''), ('m', -2 ** 31), ('n', 2 ** 31), ('o', 65535), ('p', 65536),"
                + " ('q', []), ('r', -0.0), ('s', float('inf')), ('t', 'ünï 模型'), ('u', {5, 6}), ('v', -2 ** 63)])";
        PyOrderedDict value = new PyOrderedDict();
        value.put("a", 1L);
        value.put("b", new ArrayList<>(Arrays.asList(1.5, null, true, false)));
        value.put("c", PyTuple.of(1L, 2L));
        value.put("d", "x".repeat(300));
        value.put("e", BigInteger.ONE.shiftLeft(70));
        value.put("f", -1L);
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("h", PyTuple.of());
        g.put("i", PyTuple.of(7L));
        g.put("j", PyTuple.of(1L, 2L, 3L, 4L));
        value.put("g", g);
        value.put("k", new byte[] {0, (byte) 0xff});
        value.put("l", new byte[0]);
        value.put("m", (long) Integer.MIN_VALUE);
        value.put("n", 1L << 31);
        value.put("o", 65535);
        value.put("p", 65536L);
        value.put("q", new ArrayList<>());
        value.put("r", -0.0);
        value.put("s", Double.POSITIVE_INFINITY);
        value.put("t", "ünï 模型");
        value.put("u", new LinkedHashSet<>(List.of(5L, 6L)));
        value.put("v", Long.MIN_VALUE);
        byte[] expected = PythonReference.runPythonCode("import pickle, collections, sys; "
                + "sys.stdout.buffer.write(pickle.dumps(" + python + ", protocol=2))");
        assertArrayEquals(expected, dump(value));
    }

    @Test
    void batchingAndLongMemoIndicesMatchCPython() throws Exception {
        PythonReference.assumeAvailable();
        List<Object> list = new ArrayList<>();
        for (long i = 0; i < 1001; i++) list.add(i); // one batch of 1000 (APPENDS) and a lone APPEND
        Map<String, Object> dict = new LinkedHashMap<>();
        for (long i = 0; i < 2001; i++) dict.put("k" + i, i); // memo indices past 255: LONG_BINPUT
        Map<String, Object> both = new LinkedHashMap<>();
        both.put("list", list);
        both.put("dict", dict);
        byte[] expected = PythonReference.runPythonCode("import pickle, sys; sys.stdout.buffer.write(pickle.dumps("
                + "{'list': list(range(1001)), 'dict': {'k%d' % i: i for i in range(2001)}}, protocol=2))");
        assertArrayEquals(expected, dump(both));
    }

    @Test
    void readsBackWhatItWrites() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("x", PyTuple.of(1L, PyTuple.of("y", 2.5)));
        m.put("big", BigInteger.TEN.pow(30).negate());
        Object back = new TorchUnpickler("t", r -> null).unpickle(dump(m));
        assertEquals(m, back);
    }
}
