package minimind4j.checkpoint.format;

/**
 * Bit-exact conversions between float32 and the two 16-bit float formats checkpoints use.
 *
 * <p>float16 (IEEE 754 binary16): float32 → float16 rounds to nearest, ties to even, including into the subnormal
 * range, overflows to infinity, and maps every NaN to the quiet NaN {@code sign|0x7E00}. That is what torch's
 * {@code .half()} does (c10/util/Half.h {@code fp16_ieee_from_fp32_value}, from the FP16 library). float16 → float32
 * is exact (every binary16 value, NaN payloads included, is representable).
 *
 * <p>bfloat16: float32 → bfloat16 is torch's {@code c10::detail::round_to_nearest_even}: NaN becomes {@code 0x7FC0},
 * everything else adds {@code 0x7FFF + lsb} to the float bits and keeps the upper half (ties to even, overflow to
 * infinity). bfloat16 → float32 is a 16-bit shift (exact).
 *
 * <p>Java 17 has no {@code Float.floatToFloat16} (that arrived in Java 20), hence this class.
 */
public final class HalfFloats {
    private HalfFloats() {}

    /** float32 → IEEE binary16 bits, round to nearest even (torch {@code .half()}). */
    public static short floatToHalfBits(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = (bits >>> 23) & 0xFF;
        int mantissa = bits & 0x7FFFFF;

        if (exponent == 0xFF) {
            // Infinity keeps its sign; every NaN becomes the canonical quiet NaN with the input's sign.
            return (short) (sign | (mantissa == 0 ? 0x7C00 : 0x7E00));
        }
        int halfExponent = exponent - 127 + 15;
        if (halfExponent >= 0x1F) {
            return (short) (sign | 0x7C00); // at least 2^16: beyond the largest finite half even before rounding
        }
        if (halfExponent >= 1) {
            // Normal half: keep the top 10 mantissa bits, round on the 13 dropped ones. A carry out of the
            // mantissa correctly bumps the exponent (and turns 65520..65535 into infinity).
            int kept = (halfExponent << 10) | (mantissa >>> 13);
            int dropped = mantissa & 0x1FFF;
            if (dropped > 0x1000 || (dropped == 0x1000 && (kept & 1) != 0)) kept++;
            return (short) (sign | kept);
        }
        // Subnormal half (or zero): the result is round(|value| / 2^-24). With the implicit bit restored the
        // significand is M * 2^(exponent-150), so the quotient is M >> (126 - exponent).
        if (exponent == 0) return (short) sign; // float32 subnormals are far below half the smallest half subnormal
        int significand = mantissa | 0x800000;
        int shift = 126 - exponent; // >= 14 here
        if (shift > 24) return (short) sign; // below 2^-25: rounds to zero
        int kept = significand >>> shift;
        int dropped = significand & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (dropped > halfway || (dropped == halfway && (kept & 1) != 0)) kept++;
        return (short) (sign | kept); // kept == 0x400 is the smallest normal, which is the right bit pattern
    }

    /** IEEE binary16 bits → float32, exact. */
    public static float halfBitsToFloat(short halfBits) {
        int h = halfBits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f; // exact: at most 10 significant bits
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
    }

    /** float32 → bfloat16 bits, torch's round_to_nearest_even (NaN → 0x7FC0). */
    public static short floatToBFloat16Bits(float value) {
        if (Float.isNaN(value)) return (short) 0x7FC0;
        int bits = Float.floatToRawIntBits(value);
        int roundingBias = ((bits >>> 16) & 1) + 0x7FFF;
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** bfloat16 bits → float32, exact. */
    public static float bfloat16BitsToFloat(short bfloat16Bits) {
        return Float.intBitsToFloat((bfloat16Bits & 0xFFFF) << 16);
    }
}
