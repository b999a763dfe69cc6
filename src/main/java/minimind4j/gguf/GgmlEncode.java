package minimind4j.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * float32 values to the bytes of a ggml type, as ggml's reference code (and gguf-py, which llama.cpp's
 * convert_hf_to_gguf.py uses) encodes them: float16 and bfloat16 round to nearest even; Q8_0 per block of 32 takes
 * d = max|x| / 127 (stored as float16) and q = round-half-away-from-zero(x / d) ({@code quantize_row_q8_0_ref}).
 */
public final class GgmlEncode {
    private GgmlEncode() {}

    public static byte[] encode(GgmlType type, float[] values) {
        if (values.length % type.blockSize != 0)
            throw new IllegalArgumentException(type + " needs a multiple of " + type.blockSize + " values, not " + values.length);
        ByteBuffer b = ByteBuffer.allocate(values.length / type.blockSize * type.typeSize).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> { for (float v : values) b.putFloat(v); }
            case F16 -> { for (float v : values) b.putShort(toHalf(v)); }
            case BF16 -> { for (float v : values) b.putShort(toBFloat16(v)); }
            case Q8_0 -> q8_0(values, b);
        }
        return b.array();
    }

    private static void q8_0(float[] x, ByteBuffer out) {
        for (int i = 0; i < x.length; i += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[i + j]));
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            out.putShort(toHalf(d));
            for (int j = 0; j < 32; j++) out.put((byte) roundHalfAway(x[i + j] * id));
        }
    }

    /** C's roundf: halves away from zero (Java's Math.round rounds -2.5 to -2). */
    static int roundHalfAway(float v) {
        return (int) (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5));
    }

    /** IEEE binary16 bits of {@code f}, rounded to nearest even; overflow gives infinity, NaN stays NaN. */
    public static short toHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
        int e = exp - 127 + 15;
        if (e >= 0x1f) return (short) (sign | 0x7c00);
        if (e <= 0) {  // subnormal half (or zero)
            if (e < -10) return (short) sign;
            mant |= 0x800000;
            int shift = 14 - e;
            int half = mant >>> shift;
            int rest = mant & ((1 << shift) - 1), midpoint = 1 << (shift - 1);
            if (rest > midpoint || (rest == midpoint && (half & 1) != 0)) half++;
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >>> 13);
        int rest = mant & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) half++;  // a carry into the exponent is still right
        return (short) (sign | half);
    }

    /** bfloat16 bits of {@code f}: the top 16 bits rounded to nearest even; NaN stays a quiet NaN. */
    public static short toBFloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }
}
