package minimind4j.checkpoint.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor in host memory, as checkpoint files hold it: element type, shape, and the elements as little-endian bytes,
 * contiguous, row-major (C order). A scalar has shape {@code []} and one element.
 *
 * <p>The record keeps its own view of {@code data} (position 0, limit = byte size, little-endian); {@link #data()}
 * hands out a fresh duplicate each call, so callers cannot move this tensor's position. The bytes themselves are
 * shared, not copied: tensors read from one torch storage (tied weights, views) share their bytes, as in torch.
 *
 * <p>{@link #equals} compares content (dtype, shape and bytes, so {@code -0.0 != 0.0} and NaN payloads matter);
 * that is what tests and checkpoint comparisons want, and the default record equality would compare the shape
 * array by identity.
 */
public record HostTensor(DType dtype, long[] shape, ByteBuffer data) {

    public HostTensor {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        shape = shape.clone();
        long byteSize = Math.multiplyExact(numel(shape), dtype.byteSize());
        ByteBuffer view = data.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (view.remaining() != byteSize) {
            throw new IllegalArgumentException("a " + dtype + " tensor of shape " + Arrays.toString(shape) + " needs "
                    + byteSize + " bytes, got " + view.remaining());
        }
        data = view;
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() { return shape.clone(); }

    /** A little-endian view of the bytes (position 0, limit = {@link #byteSize()}); the bytes are shared. */
    @Override
    public ByteBuffer data() { return data.duplicate().order(ByteOrder.LITTLE_ENDIAN); }

    /** Number of elements of a shape (1 for a scalar {@code []}); rejects negative sizes. */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long numel() { return numel(shape); }

    public int rank() { return shape.length; }

    public long size(int dim) { return shape[dim]; }

    public long byteSize() { return data.capacity(); }

    // ---- factories ----

    /** An F32 tensor holding {@code values} (row-major) with the given shape. */
    public static HostTensor ofFloats(long[] shape, float... values) {
        checkCount(shape, values.length);
        ByteBuffer b = allocate((long) values.length * 4);
        b.asFloatBuffer().put(values);
        return new HostTensor(DType.F32, shape, b);
    }

    /** An F64 tensor holding {@code values}. */
    public static HostTensor ofDoubles(long[] shape, double... values) {
        checkCount(shape, values.length);
        ByteBuffer b = allocate((long) values.length * 8);
        b.asDoubleBuffer().put(values);
        return new HostTensor(DType.F64, shape, b);
    }

    /** An I64 tensor holding {@code values}. */
    public static HostTensor ofLongs(long[] shape, long... values) {
        checkCount(shape, values.length);
        ByteBuffer b = allocate((long) values.length * 8);
        b.asLongBuffer().put(values);
        return new HostTensor(DType.I64, shape, b);
    }

    /** An I32 tensor holding {@code values}. */
    public static HostTensor ofInts(long[] shape, int... values) {
        checkCount(shape, values.length);
        ByteBuffer b = allocate((long) values.length * 4);
        b.asIntBuffer().put(values);
        return new HostTensor(DType.I32, shape, b);
    }

    /** A tensor of any dtype from its raw little-endian bytes (copied). */
    public static HostTensor ofRawBytes(DType dtype, long[] shape, byte[] littleEndianBytes) {
        return new HostTensor(dtype, shape, ByteBuffer.wrap(littleEndianBytes.clone()));
    }

    /** An all-zero tensor. */
    public static HostTensor zeros(DType dtype, long... shape) {
        return new HostTensor(dtype, shape, allocate(Math.multiplyExact(numel(shape), dtype.byteSize())));
    }

    // ---- reading values ----

    /**
     * The elements as float32: F32 as is, F16 and BF16 exactly, F64 rounded, integers and bool converted
     * numerically (true = 1).
     */
    public float[] toFloatArray() {
        int n = checkedLength();
        float[] out = new float[n];
        ByteBuffer b = data();
        switch (dtype) {
            case F32: b.asFloatBuffer().get(out); break;
            case F16: for (int i = 0; i < n; i++) out[i] = HalfFloats.halfBitsToFloat(b.getShort(2 * i)); break;
            case BF16: for (int i = 0; i < n; i++) out[i] = HalfFloats.bfloat16BitsToFloat(b.getShort(2 * i)); break;
            case F64: for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(8 * i); break;
            default: {
                long[] longs = toLongArray();
                for (int i = 0; i < n; i++) out[i] = longs[i];
            }
        }
        return out;
    }

    /** The elements as float64 (exact for every dtype but I64 beyond 2^53). */
    public double[] toDoubleArray() {
        int n = checkedLength();
        double[] out = new double[n];
        if (dtype == DType.F64) {
            data().asDoubleBuffer().get(out);
        } else if (dtype.isFloatingPoint()) {
            float[] f = toFloatArray();
            for (int i = 0; i < n; i++) out[i] = f[i];
        } else {
            long[] l = toLongArray();
            for (int i = 0; i < n; i++) out[i] = l[i];
        }
        return out;
    }

    /** The elements of an integer or bool tensor as longs (U8 unsigned, bool 0/1). */
    public long[] toLongArray() {
        int n = checkedLength();
        long[] out = new long[n];
        ByteBuffer b = data();
        switch (dtype) {
            case I64: b.asLongBuffer().get(out); break;
            case I32: for (int i = 0; i < n; i++) out[i] = b.getInt(4 * i); break;
            case I16: for (int i = 0; i < n; i++) out[i] = b.getShort(2 * i); break;
            case I8: for (int i = 0; i < n; i++) out[i] = b.get(i); break;
            case U8: for (int i = 0; i < n; i++) out[i] = b.get(i) & 0xFF; break;
            case BOOL: for (int i = 0; i < n; i++) out[i] = b.get(i) != 0 ? 1 : 0; break;
            default: throw new IllegalStateException("toLongArray on a floating-point " + dtype + " tensor");
        }
        return out;
    }

    /** A copy of the raw little-endian bytes. */
    public byte[] toByteArray() {
        byte[] out = new byte[checkedByteLength()];
        data().get(out);
        return out;
    }

    // ---- conversions ----

    /** This tensor as float32 (F16/BF16 exactly; see {@link #toFloatArray()}). Returns this when already F32. */
    public HostTensor toF32() {
        if (dtype == DType.F32) return this;
        return ofFloats(shape, toFloatArray());
    }

    /** This tensor as float16, rounding like torch {@code .half()}. Returns this when already F16. */
    public HostTensor toF16() {
        if (dtype == DType.F16) return this;
        float[] f = toFloatArray(); // F64 goes through float32 first, as c10::Half(double) does
        ByteBuffer b = allocate((long) f.length * 2);
        for (int i = 0; i < f.length; i++) b.putShort(2 * i, HalfFloats.floatToHalfBits(f[i]));
        return new HostTensor(DType.F16, shape, b);
    }

    /** This tensor as bfloat16, rounding like torch {@code .bfloat16()}. Returns this when already BF16. */
    public HostTensor toBF16() {
        if (dtype == DType.BF16) return this;
        float[] f = toFloatArray();
        ByteBuffer b = allocate((long) f.length * 2);
        for (int i = 0; i < f.length; i++) b.putShort(2 * i, HalfFloats.floatToBFloat16Bits(f[i]));
        return new HostTensor(DType.BF16, shape, b);
    }

    /** This tensor converted to a floating-point dtype (F32, F16, BF16 or F64). */
    public HostTensor to(DType target) {
        switch (target) {
            case F32: return toF32();
            case F16: return toF16();
            case BF16: return toBF16();
            case F64: return dtype == DType.F64 ? this : ofDoubles(shape, toDoubleArray());
            default:
                if (target == dtype) return this;
                throw new IllegalArgumentException("conversion from " + dtype + " to " + target + " is not supported");
        }
    }

    /** The same bytes under another shape with the same number of elements. */
    public HostTensor reshape(long... newShape) {
        return new HostTensor(dtype, newShape, data);
    }

    // ---- equality by content ----

    /** True when both tensors have the same dtype, shape and bytes. */
    public boolean contentEquals(HostTensor other) {
        return other != null && dtype == other.dtype && Arrays.equals(shape, other.shape) && data.equals(other.data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HostTensor && contentEquals((HostTensor) o);
    }

    @Override
    public int hashCode() {
        return Objects.hash(dtype, Arrays.hashCode(shape), data.hashCode());
    }

    @Override
    public String toString() {
        return "HostTensor[" + dtype + " " + Arrays.toString(shape) + ", " + byteSize() + " bytes]";
    }

    // ---- helpers ----

    static ByteBuffer allocate(long bytes) {
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor of " + bytes + " bytes exceeds the 2 GiB a Java buffer can hold");
        }
        return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void checkCount(long[] shape, int count) {
        if (numel(shape) != count) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + numel(shape)
                    + " elements, got " + count + " values");
        }
    }

    private int checkedLength() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException("too many elements for a Java array: " + n);
        return (int) n;
    }

    private int checkedByteLength() {
        return (int) byteSize(); // the buffer already limits this to int range
    }
}
