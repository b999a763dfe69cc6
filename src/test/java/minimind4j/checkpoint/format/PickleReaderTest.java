package minimind4j.checkpoint.format;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pickle VM on hand-assembled streams. Each stream is spelled byte for byte after the opcode table in CPython's
 * Lib/pickletools.py (several are exactly what CPython's pickle.dumps prints for the value, noted where so).
 */
class PickleReaderTest {

    private static Object load(String latin1) {
        byte[] bytes = latin1.getBytes(StandardCharsets.ISO_8859_1);
        return new TorchUnpickler("test.pkl", record -> {
            throw new AssertionError("no records here: " + record);
        }).unpickle(bytes);
    }

    private static String refused(String latin1) {
        return assertThrows(PickleReader.PickleException.class, () -> load(latin1)).getMessage();
    }

    @Test
    void protocol0TextOpcodes() {
        // pickle.dumps([1, True, 12345678901234567890, 1.5], protocol=0)
        assertEquals(List.of(1L, true, new BigInteger("12345678901234567890"), 1.5),
                load("(lp0\nI1\naI01\naL12345678901234567890L\naF1.5\na."));
        // MARK, INT 7, PUT 0, POP, GET 0, GET 0, TUPLE -> (7, 7); MARK 1 2 DICT -> {1: 2}
        assertEquals(PyTuple.of(7L, 7L), load("(I7\np0\n0g0\ng0\nt."));
        assertEquals(Map.of(1L, 2L), load("(I1\nI2\nd."));
    }

    @Test
    void binaryIntegers() {
        assertEquals(-1L, load("\u0080\u0002J\u00ff\u00ff\u00ff\u00ff."));
        assertEquals(256L, load("\u0080\u0002M\u0000\u0001."));
        assertEquals(255L, load("\u0080\u0002K\u00ff."));
        assertEquals(0L, load("\u0080\u0002\u008a\u0000."));
        assertEquals(-1L, load("\u0080\u0002\u008a\u0001\u00ff."));
        assertEquals(Long.MIN_VALUE, load("\u0080\u0002\u008a\u0008\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0080."));
        assertEquals(BigInteger.ONE.shiftLeft(64), load("\u0080\u0002\u008a\u0009\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0001."));
        assertEquals(-32768L, load("\u0080\u0002\u008b\u0002\u0000\u0000\u0000\u0000\u0080.")); // LONG4
    }

    @Test
    void protocol4And5Opcodes() {
        // pickle.dumps(collections.OrderedDict(), 4): FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL, REDUCE
        Object od = load("\u0080\u0004\u0095\"\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u008c\u000bcollections\u0094"
                + "\u008c\u000bOrderedDict\u0094\u0093\u0094)R\u0094.");
        assertTrue(od instanceof PyOrderedDict && ((Map<?, ?>) od).isEmpty());
        assertEquals(Set.of(1L, 2L), load("\u0080\u0004\u008f\u0094(K\u0001K\u0002\u0090.")); // EMPTY_SET, ADDITEMS
        assertEquals(Set.of(1L), load("\u0080\u0004(K\u0001\u0091.")); // FROZENSET
        assertArrayEquals("ab".getBytes(StandardCharsets.US_ASCII),
                (byte[]) load("\u0080\u0005\u0096\u0002\u0000\u0000\u0000\u0000\u0000\u0000\u0000ab.")); // BYTEARRAY8
        assertArrayEquals(new byte[] {1, 2}, (byte[]) load("\u0080\u0003C\u0002\u0001\u0002.")); // SHORT_BINBYTES
        assertEquals("hé", load("\u0080\u0004\u008d\u0003\u0000\u0000\u0000\u0000\u0000\u0000\u0000h\u00c3\u00a9.")); // BINUNICODE8
    }

    @Test
    void stackOpcodes() {
        // MARK 1 2 POP_MARK, then 3 DUP TUPLE2 -> (3, 3)
        assertEquals(PyTuple.of(3L, 3L), load("\u0080\u0002(K\u0001K\u00021K\u00032\u0086."));
        // A memoized list fetched twice is the same object.
        Object pair = load("\u0080\u0002]q\u0000h\u0000\u0086.");
        assertSame(((List<?>) pair).get(0), ((List<?>) pair).get(1));
        // APPENDS and SETITEMS
        assertEquals(List.of(1L, 2L, 3L), load("\u0080\u0002](K\u0001K\u0002K\u0003e."));
        assertEquals(Map.of("a", 1L, "b", 2L), load("\u0080\u0002}(X\u0001\u0000\u0000\u0000aK\u0001X\u0001\u0000\u0000\u0000bK\u0002u."));
        // protocol 2 bytes: _codecs.encode('\u00ff\u0000', 'latin1'); empty bytes: __builtin__.bytes()
        assertArrayEquals(new byte[] {(byte) 0xff, 0}, (byte[]) load("\u0080\u0002c_codecs\nencode\nX\u0003\u0000\u0000\u0000\u00c3\u00bf\u0000"
                + "X\u0006\u0000\u0000\u0000latin1\u0086R."));
        assertArrayEquals(new byte[0], (byte[]) load("\u0080\u0002c__builtin__\nbytes\n)R."));
    }

    @Test
    void orderedDictForms() {
        Object newobj = load("\u0080\u0002ccollections\nOrderedDict\n)\u0081.");
        assertTrue(newobj instanceof PyOrderedDict);
        // OrderedDict([(1, 2)]): the list-of-pairs argument
        assertEquals(Map.of(1L, 2L), load("\u0080\u0002ccollections\nOrderedDict\n]K\u0001K\u0002\u0086a\u0085R."));
        // BUILD with {'_metadata': {}} (model.state_dict()): an attribute, not an item, so it is dropped
        Object sd = load("\u0080\u0002ccollections\nOrderedDict\n)R}X\u0009\u0000\u0000\u0000_metadata}sb.");
        assertTrue(sd instanceof PyOrderedDict && ((Map<?, ?>) sd).isEmpty());
    }

    @Test
    void refusals() {
        assertTrue(refused("\u0080\u0002c__builtin__\neval\nX\u0001\u0000\u0000\u00001\u0085R.").contains("'__builtin__.eval'"));
        assertTrue(refused("\u0080\u0002ctorch\nFloatStorage\n)R.").contains("not something this reader can call"));
        assertTrue(refused("(S'x'\n.").contains("protocol 0"));
        assertTrue(refused("(i__main__\nC\n.").contains("INST"));
        assertTrue(refused("\u0080\u0002\u00ff.").contains("unknown opcode"));
        assertTrue(refused("\u0080\u0002X\u00ff\u0000\u0000\u0000ab.").contains("truncated"));
        assertTrue(refused("\u0080\u0002h\u0005.").contains("memo entry 5"));
        assertTrue(refused("\u0080\u0002K\u0001K\u0002.").contains("STOP with 2"));
        assertTrue(refused("\u0080\u0002K\u0001").contains("end of pickle"));
        assertTrue(refused("\u0080\u0006.").contains("protocol 6"));
        assertTrue(refused("\u0080\u0002K\u0001Q.").contains("persistent id"));
    }

    /** Views of a 2x3 storage [[0,1,2],[3,4,5]] (float32), expected elements picked by hand. */
    @Test
    void stridedViewsAreMaterializedRowMajor() {
        ByteBuffer b = ByteBuffer.allocate(6 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) b.putFloat(i * 4, i);
        TorchUnpickler.Storage s = new TorchUnpickler.Storage(DType.F32, "0", 6, b);
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, view(s, 0, new long[] {3, 2}, new long[] {1, 3})); // transpose
        assertArrayEquals(new float[] {3, 4, 5}, view(s, 3, new long[] {3}, new long[] {1})); // second row
        assertArrayEquals(new float[] {1, 4}, view(s, 1, new long[] {2}, new long[] {3})); // column 1
        assertArrayEquals(new float[] {2, 2, 2, 2}, view(s, 2, new long[] {2, 2}, new long[] {0, 0})); // expanded
        assertArrayEquals(new float[] {5}, view(s, 5, new long[0], new long[0])); // scalar
        assertArrayEquals(new float[] {0, 2, 3, 5}, view(s, 0, new long[] {2, 1, 2}, new long[] {3, 7, 2})); // size-1 dim
        assertEquals(0, TorchUnpickler.materialize(s, 6, new long[] {0, 4}, new long[] {4, 1}, "t").numel());
        assertThrows(PickleReader.PickleException.class, () -> view(s, 4, new long[] {3}, new long[] {1}));
        // A contiguous view shares the storage's bytes, as a torch view does.
        HostTensor row = TorchUnpickler.materialize(s, 3, new long[] {3}, new long[] {1}, "t");
        b.putFloat(3 * 4, 30f);
        assertEquals(30f, row.toFloatArray()[0]);
    }

    private static float[] view(TorchUnpickler.Storage s, long offset, long[] size, long[] stride) {
        return TorchUnpickler.materialize(s, offset, size, stride, "t").toFloatArray();
    }

    /** Random damage to a real pickle must end in a clean refusal (or a value), never in another exception. */
    @Test
    void damagedPicklesAreRefusedCleanly() {
        Map<String, Object> sample = new java.util.LinkedHashMap<>(PthRoundTripTest.sample());
        sample.put("tensor", HostTensor.ofFloats(new long[] {2}, 1f, 2f));
        byte[] good = new PickleWriter(t -> "0").dump(sample);
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        ByteBuffer storage = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        for (int trial = 0; trial < 3000; trial++) {
            byte[] bad = good.clone();
            int flips = 1 + random.nextInt(4);
            for (int f = 0; f < flips; f++) bad[random.nextInt(bad.length)] = (byte) random.nextInt(256);
            if (trial % 10 == 0) bad = java.util.Arrays.copyOf(bad, random.nextInt(bad.length));
            try {
                new TorchUnpickler("fuzz.pkl", record -> storage.duplicate()).unpickle(bad);
            } catch (PickleReader.PickleException expected) {
                assertTrue(expected.getMessage().startsWith("fuzz.pkl: "), expected.getMessage());
            }
        }
    }

    @Test
    void unhashableKeysAreRefused() {
        // a list that contains itself, used as a dict key: Python raises TypeError; Java must not recurse forever
        assertTrue(refused("\u0080\u0002}]q\u0000h\u0000aK\u0001s.").contains("unhashable"));
    }

    @Test
    void deepButFlatStreamsDoNotOverflowTheStack() {
        // 100k nested empty lists built with APPEND: the VM is iterative, so no recursion limit applies.
        StringBuilder p = new StringBuilder("\u0080\u0002");
        int depth = 100_000;
        for (int i = 0; i < depth; i++) p.append(']');
        for (int i = 0; i < depth - 1; i++) p.append('a');
        p.append('.');
        Object o = load(p.toString());
        int seen = 0;
        while (o instanceof ArrayList && !((List<?>) o).isEmpty()) {
            o = ((List<?>) o).get(0);
            seen++;
        }
        assertEquals(depth - 1, seen);
    }
}
