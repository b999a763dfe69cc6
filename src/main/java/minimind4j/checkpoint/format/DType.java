package minimind4j.checkpoint.format;

import java.util.Locale;

/**
 * Element types a checkpoint tensor can have, with the names each file format uses for them.
 *
 * <p>{@code torchStorageClass} is the legacy typed-storage class that {@code torch.save} pickles as the second
 * field of a storage's persistent id (for example {@code torch.HalfStorage}; torch/serialization.py {@code _save}
 * does {@code getattr(torch, storage._pickle_storage_type())}). {@code safetensorsName} is the dtype string of the
 * safetensors header. {@code torchName} is the {@code torch.dtype} attribute name.
 */
public enum DType {
    F32(4, "FloatStorage", "F32", "float32"),
    F16(2, "HalfStorage", "F16", "float16"),
    BF16(2, "BFloat16Storage", "BF16", "bfloat16"),
    F64(8, "DoubleStorage", "F64", "float64"),
    I64(8, "LongStorage", "I64", "int64"),
    I32(4, "IntStorage", "I32", "int32"),
    I16(2, "ShortStorage", "I16", "int16"),
    I8(1, "CharStorage", "I8", "int8"),
    U8(1, "ByteStorage", "U8", "uint8"),
    BOOL(1, "BoolStorage", "BOOL", "bool");

    private final int byteSize;
    private final String torchStorageClass;
    private final String safetensorsName;
    private final String torchName;

    DType(int byteSize, String torchStorageClass, String safetensorsName, String torchName) {
        this.byteSize = byteSize;
        this.torchStorageClass = torchStorageClass;
        this.safetensorsName = safetensorsName;
        this.torchName = torchName;
    }

    /** Bytes per element. */
    public int byteSize() { return byteSize; }

    /** The {@code torch.<X>Storage} class name that torch.save writes for this dtype, e.g. {@code HalfStorage}. */
    public String torchStorageClass() { return torchStorageClass; }

    /** The safetensors header dtype, e.g. {@code BF16}. */
    public String safetensorsName() { return safetensorsName; }

    /** The {@code torch.dtype} name, e.g. {@code bfloat16}. */
    public String torchName() { return torchName; }

    public boolean isFloatingPoint() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    /** The dtype of a {@code torch.<X>Storage} class name, or null when the name is not one of them. */
    public static DType fromTorchStorageClass(String className) {
        for (DType t : values()) if (t.torchStorageClass.equals(className)) return t;
        return null;
    }

    /** The dtype of a safetensors dtype string, or null when this reader does not support it. */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) if (t.safetensorsName.equals(name)) return t;
        return null;
    }

    /** The dtype of a {@code torch.dtype} attribute name (also accepts aliases half, float, double, long, int). */
    public static DType fromTorchName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        switch (n) {
            case "half": return F16;
            case "float": return F32;
            case "double": return F64;
            case "long": return I64;
            case "int": return I32;
            case "short": return I16;
            default:
                for (DType t : values()) if (t.torchName.equals(n)) return t;
                return null;
        }
    }
}
