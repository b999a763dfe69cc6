package minimind4j.gguf;

/**
 * The ggml tensor types this writer encodes, with ggml's ids ({@code enum ggml_type} in ggml.h) and block layout: a
 * block of {@code blockSize} values takes {@code typeSize} bytes.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    /** 32 values: a float16 scale d, then 32 int8 q; value = d * q. */
    Q8_0(8, 32, 34),
    BF16(30, 1, 2);

    public final int id;
    public final int blockSize;
    public final int typeSize;

    GgmlType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    /** Bytes of a tensor of {@code numel} values whose rows are {@code rowLength} long (a multiple of blockSize). */
    public long byteSize(long numel, long rowLength) {
        if (rowLength % blockSize != 0)
            throw new IllegalArgumentException(this + " needs rows that are a multiple of " + blockSize + " values, not " + rowLength);
        return numel / blockSize * typeSize;
    }
}
