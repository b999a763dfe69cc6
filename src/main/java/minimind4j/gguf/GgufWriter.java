package minimind4j.gguf;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF version 3 file (ggml's docs/gguf.md): little-endian header "GGUF", version, tensor count, key/value count;
 * the typed key/values; one info per tensor (name, dimensions innermost first, ggml type, offset in the data
 * section); then the tensor data, each tensor at a multiple of the alignment (32, general.alignment's default).
 * Pure file format: which keys and tensors a model needs is the caller's business.
 */
public final class GgufWriter {
    public static final int ALIGNMENT = 32;

    // gguf_type ids
    private static final int INT32 = 5, FLOAT32 = 6, BOOL = 7, STRING = 8, ARRAY = 9, UINT32 = 4, UINT64 = 10;

    private record Value(int type, Object value, int elementType) {}

    private record Tensor(String name, long[] shape, GgmlType type, byte[] data) {}

    private final LinkedHashMap<String, Value> kv = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    public GgufWriter putString(String key, String v) { return put(key, new Value(STRING, v, -1)); }
    public GgufWriter putUint32(String key, long v) { return put(key, new Value(UINT32, v, -1)); }
    public GgufWriter putUint64(String key, long v) { return put(key, new Value(UINT64, v, -1)); }
    public GgufWriter putInt32(String key, int v) { return put(key, new Value(INT32, v, -1)); }
    public GgufWriter putFloat32(String key, double v) { return put(key, new Value(FLOAT32, (float) v, -1)); }
    public GgufWriter putBool(String key, boolean v) { return put(key, new Value(BOOL, v, -1)); }
    public GgufWriter putStrings(String key, List<String> v) { return put(key, new Value(ARRAY, List.copyOf(v), STRING)); }
    public GgufWriter putInt32s(String key, int[] v) { return put(key, new Value(ARRAY, v.clone(), INT32)); }

    private GgufWriter put(String key, Value v) {
        if (kv.containsKey(key)) throw new IllegalArgumentException("duplicate GGUF key " + key);
        kv.put(key, v);
        return this;
    }

    /**
     * A tensor of {@code shape} (row-major, outermost first, as PyTorch writes it) whose {@code data} is already
     * encoded as {@code type} (see {@link GgmlEncode}).
     */
    public GgufWriter addTensor(String name, long[] shape, GgmlType type, byte[] data) {
        long numel = 1;
        for (long d : shape) numel *= d;
        long expected = type.byteSize(numel, shape[shape.length - 1]);
        if (data.length != expected)
            throw new IllegalArgumentException(name + ": " + data.length + " bytes for " + Arrays.toString(shape) + " " + type + " (expected " + expected + ")");
        for (Tensor t : tensors) if (t.name.equals(name)) throw new IllegalArgumentException("duplicate tensor " + name);
        tensors.add(new Tensor(name, shape.clone(), type, data));
        return this;
    }

    public void write(OutputStream sink) throws IOException {
        Out out = new Out(new BufferedOutputStream(sink, 1 << 20));
        out.bytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        out.u32(3);
        out.u64(tensors.size());
        out.u64(kv.size());
        for (Map.Entry<String, Value> e : kv.entrySet()) {
            out.string(e.getKey());
            Value v = e.getValue();
            out.u32(v.type);
            if (v.type == ARRAY) {
                out.u32(v.elementType);
                if (v.value instanceof List<?> l) {
                    out.u64(l.size());
                    for (Object s : l) out.string((String) s);
                } else {
                    int[] a = (int[]) v.value;
                    out.u64(a.length);
                    for (int i : a) out.u32(i);
                }
            } else {
                scalar(out, v.type, v.value);
            }
        }
        long offset = 0;
        for (Tensor t : tensors) {
            out.string(t.name);
            out.u32(t.shape.length);
            for (int d = t.shape.length - 1; d >= 0; d--) out.u64(t.shape[d]);  // ggml's ne: innermost first
            out.u32(t.type.id);
            out.u64(offset);
            offset = align(offset + t.data.length);
        }
        out.pad();
        for (Tensor t : tensors) {
            out.bytes(t.data);
            out.pad();
        }
        out.flush();
    }

    private static void scalar(Out out, int type, Object v) throws IOException {
        switch (type) {
            case STRING -> out.string((String) v);
            case UINT32 -> out.u32((int) (long) (Long) v);
            case UINT64 -> out.u64((Long) v);
            case INT32 -> out.u32((Integer) v);
            case FLOAT32 -> out.u32(Float.floatToRawIntBits((Float) v));
            case BOOL -> out.u8((Boolean) v ? 1 : 0);
            default -> throw new IllegalStateException("type " + type);
        }
    }

    static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** Little-endian output that counts its bytes, for the alignment padding. */
    private static final class Out {
        private final OutputStream os;
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        private long written;

        Out(OutputStream os) { this.os = os; }

        void bytes(byte[] b) throws IOException { os.write(b); written += b.length; }
        void u8(int v) throws IOException { os.write(v); written++; }
        void u32(int v) throws IOException { scratch.clear(); scratch.putInt(v); os.write(scratch.array(), 0, 4); written += 4; }
        void u64(long v) throws IOException { scratch.clear(); scratch.putLong(v); os.write(scratch.array(), 0, 8); written += 8; }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes(b);
        }

        void pad() throws IOException {
            while (written % ALIGNMENT != 0) u8(0);
        }

        void flush() throws IOException { os.flush(); }
    }
}
