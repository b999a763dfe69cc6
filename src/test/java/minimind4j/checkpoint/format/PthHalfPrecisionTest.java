package minimind4j.checkpoint.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * float32 → float16/bfloat16 rounding and the exact way back. Expected bits come from the IEEE 754 definitions
 * (binary16: 1 sign, 5 exponent bits with bias 15, 10 mantissa bits; bfloat16: the top half of a float32), worked
 * out by hand in the comments, from an independent nearest-value oracle, and (when available) from numpy.
 */
class PthHalfPrecisionTest {

    private static int half(float f) {
        return HalfFloats.floatToHalfBits(f) & 0xFFFF;
    }

    private static int bf16(float f) {
        return HalfFloats.floatToBFloat16Bits(f) & 0xFFFF;
    }

    @Test
    void halfEdgeValuesFromTheIeeeDefinition() {
        assertEquals(0x3C00, half(1.0f)); // exponent 15, mantissa 0
        assertEquals(0xC000, half(-2.0f)); // sign, exponent 16
        assertEquals(0x2E66, half(0.1f)); // 1.6*2^-4: exponent 11; 0x3DCCCCCD drops 0xCCD < 0x1000, so 0x266
        assertEquals(0x7BFF, half(65504f)); // largest finite: (2 - 2^-10) * 2^15
        assertEquals(0x7BFF, half(Math.nextDown(65520f))); // below the midpoint to 2^16
        assertEquals(0x7C00, half(65520f)); // midpoint 65504..65536: ties to even (0x3FF is odd) overflows to inf
        assertEquals(0x7C00, half(1e5f));
        assertEquals(0xFC00, half(-1e5f));
        assertEquals(0x0400, half(0x1p-14f)); // 6.1035156e-05, smallest normal
        assertEquals(0x03FF, half(6.1e-05f)); // 6.1e-5 / 2^-24 = 1023.41 -> largest subnormal
        assertEquals(0x0400, half(2047 * 0x1p-25f)); // 1023.5 * 2^-24: tie, rounds to the even 1024 = smallest normal
        assertEquals(0x0001, half(0x1p-24f)); // 5.9604645e-08, smallest subnormal
        assertEquals(0x0000, half(1e-8f)); // 0.168 * 2^-24: below half the smallest subnormal
        assertEquals(0x8000, half(-1e-8f)); // keeps its sign
        assertEquals(0x0000, half(0x1p-25f)); // exactly half of 2^-24: tie to even 0
        assertEquals(0x0001, half(Math.nextUp(0x1p-25f))); // just above the tie
        assertEquals(0x0002, half(3 * 0x1p-25f)); // 1.5 * 2^-24: tie between 1 and 2, even is 2
        assertEquals(0x3C00, half(1 + 0x1p-11f)); // halfway 1.0 .. 1+2^-10: even mantissa 0
        assertEquals(0x3C01, half(1 + 0x1p-11f + 0x1p-23f)); // just above the tie
        assertEquals(0x3C02, half(1 + 3 * 0x1p-11f)); // halfway 0x3C01 .. 0x3C02: even is 0x3C02
        assertEquals(0x6800, half(2049f)); // spacing 2 above 2048: 2049 ties to the even 2048
        assertEquals(0x6802, half(2051f)); // 2051 ties to 2052 (mantissa 2)
        assertEquals(0x0000, half(0.0f));
        assertEquals(0x8000, half(-0.0f));
        assertEquals(0x7C00, half(Float.POSITIVE_INFINITY));
        assertEquals(0xFC00, half(Float.NEGATIVE_INFINITY));
        assertEquals(0x7E00, half(Float.NaN)); // every NaN becomes the quiet NaN, sign kept (torch/FP16)
        assertEquals(0xFE00, half(Float.intBitsToFloat(0xFFC00000)));
        assertEquals(0x7E00, half(Float.intBitsToFloat(0x7F800001))); // signalling NaN
        assertEquals(0x0000, half(Float.MIN_VALUE)); // float32 subnormals are far too small
    }

    @Test
    void halfToFloatIsExact() {
        assertEquals(0x1p-24f, HalfFloats.halfBitsToFloat((short) 0x0001));
        assertEquals(1023 * 0x1p-24f, HalfFloats.halfBitsToFloat((short) 0x03FF));
        assertEquals(0x1p-14f, HalfFloats.halfBitsToFloat((short) 0x0400));
        assertEquals(65504f, HalfFloats.halfBitsToFloat((short) 0x7BFF));
        assertEquals(1365f / 4096f, HalfFloats.halfBitsToFloat((short) 0x3555)); // (1 + 341/1024) / 4
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.halfBitsToFloat((short) 0xFC00));
        assertEquals(0x80000000, Float.floatToRawIntBits(HalfFloats.halfBitsToFloat((short) 0x8000)));
        assertEquals(0x7FC00000, Float.floatToRawIntBits(HalfFloats.halfBitsToFloat((short) 0x7E00)));
        // Every half survives half -> float -> half unchanged.
        for (int h = 0; h < 0x10000; h++) {
            float f = HalfFloats.halfBitsToFloat((short) h);
            int back = half(f);
            if (Float.isNaN(f)) assertEquals(h & 0x8000 | 0x7E00, back);
            else assertEquals(h, back, Integer.toHexString(h));
        }
    }

    @Test
    void bfloat16EdgeValuesFromTorchsRounding() {
        assertEquals(0x3F80, bf16(1.0f));
        assertEquals(0x3F80, bf16(1 + 0x1p-8f)); // halfway 1 .. 1+2^-7: even is 0x3F80
        assertEquals(0x3F81, bf16(1 + 0x1p-8f + 0x1p-23f)); // just above the tie
        assertEquals(0x3F82, bf16(1 + 3 * 0x1p-8f)); // halfway 0x3F81 .. 0x3F82: even is 0x3F82
        assertEquals(0x7F80, bf16(Float.MAX_VALUE)); // rounds past the largest bfloat16 to infinity
        assertEquals(0x7F7F, bf16(Float.intBitsToFloat(0x7F7F7FFF))); // just below the tie
        assertEquals(0xFF80, bf16(Float.NEGATIVE_INFINITY));
        assertEquals(0x8000, bf16(-0.0f));
        assertEquals(0x7FC0, bf16(Float.NaN));
        assertEquals(0x7FC0, bf16(Float.intBitsToFloat(0xFFC00000))); // torch drops the NaN's sign
        assertEquals(0x0000, bf16(Float.intBitsToFloat(0x00008000))); // subnormal tie, even
        assertEquals(0x0002, bf16(Float.intBitsToFloat(0x00018000))); // subnormal tie, odd -> up
        assertEquals(0xBF80, bf16(-1.0f));
        assertEquals(1.00390625f, HalfFloats.bfloat16BitsToFloat((short) 0x3F80) + 0x1p-8f);
        assertEquals(-2.5f, HalfFloats.bfloat16BitsToFloat((short) 0xC020));
    }

    /** Against a nearest-value oracle: sorted table of all finite halves, ties to the even bit pattern. */
    @Test
    void halfMatchesNearestEvenOracleAroundEveryHalfAndAtRandom() {
        // Ascending table of all finite halves; slot 0x7C00 (the infinity pattern) holds 2^16, the value the
        // exponent range would give next, so that IEEE overflow falls out of round-to-nearest-even.
        double[] finite = new double[0x7C01];
        for (int h = 0; h < 0x7C00; h++) finite[h] = HalfFloats.halfBitsToFloat((short) h);
        finite[0x7C00] = 65536;
        float[] probes = probes();
        for (float x : probes) {
            if (Float.isNaN(x)) continue;
            int expected = oracleHalf(finite, x);
            assertEquals(expected, half(x), () -> "f16(" + x + ") bits " + Integer.toHexString(Float.floatToRawIntBits(x)));
        }
    }

    @Test
    void bfloat16MatchesNearestEvenOracle() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 300_000; i++) {
            int bits = i < 65536 ? (i << 16) | 0x8000 : random.nextInt(); // all ties first, then anything
            float x = Float.intBitsToFloat(bits);
            if (Float.isNaN(x) || Float.isInfinite(x)) continue;
            int lo = bits & 0xFFFF0000; // toward zero
            double loValue = Float.intBitsToFloat(lo);
            int hiBits = lo + 0x10000; // away from zero
            double hiValue = (hiBits & 0x7FFFFFFF) == 0x7F800000 ? Math.copySign(0x1p128, x) : Float.intBitsToFloat(hiBits);
            double dLo = Math.abs(x - loValue);
            double dHi = Math.abs(hiValue - x);
            int expected = (dLo < dHi || (dLo == dHi && ((lo >>> 16) & 1) == 0)) ? lo >>> 16 : hiBits >>> 16;
            assertEquals(expected & 0xFFFF, bf16(x), () -> "bf16 of bits " + Integer.toHexString(bits));
        }
    }

    /** numpy's float32 -> float16 cast (round to nearest even) gives the same bits; NaN payloads aside. */
    @Test
    void halfMatchesNumpy(@TempDir Path dir) throws Exception {
        PythonReference.assumeAvailable();
        float[] probes = probes();
        ByteBuffer in = ByteBuffer.allocate(probes.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        in.asFloatBuffer().put(probes);
        Path src = dir.resolve("in.f32");
        Path dst = dir.resolve("out.f16");
        Files.write(src, in.array());
        PythonReference.run("f16", src.toString(), dst.toString());
        ByteBuffer out = ByteBuffer.wrap(Files.readAllBytes(dst)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(probes.length * 2, out.remaining());
        int checked = 0;
        for (int i = 0; i < probes.length; i++) {
            int numpy = out.getShort(2 * i) & 0xFFFF;
            int ours = half(probes[i]);
            if (Float.isNaN(probes[i])) {
                assertTrue((numpy & 0x7C00) == 0x7C00 && (numpy & 0x3FF) != 0 && (ours & 0x7FFF) == 0x7E00);
            } else {
                int index = i;
                assertEquals(numpy, ours, () -> "f16(" + probes[index] + ")");
                checked++;
            }
        }
        assertTrue(checked > 200_000);
    }

    @Test
    void tensorConversionsKeepShapeAndRoundTrip() {
        HostTensor f32 = HostTensor.ofFloats(new long[] {2, 3}, 1f, 0.1f, -65504f, 1e-8f, 70000f, Float.NaN);
        HostTensor f16 = f32.toF16();
        assertEquals(DType.F16, f16.dtype());
        assertArrayEquals(new long[] {2, 3}, f16.shape());
        short[] bits = new short[6];
        f16.data().asShortBuffer().get(bits);
        assertArrayEquals(new short[] {0x3C00, 0x2E66, (short) 0xFBFF, 0, 0x7C00, 0x7E00}, bits);
        float[] back = f16.toF32().toFloatArray();
        assertEquals(0.0999755859375f, back[1]); // 0x2E66 exactly
        assertEquals(f16, f16.toF32().toF16(), "f16 -> f32 -> f16 is lossless");
        HostTensor b = f32.toBF16();
        assertEquals(b, b.toF32().toBF16(), "bf16 -> f32 -> bf16 is lossless");
        assertEquals(DType.F64, f32.to(DType.F64).dtype());
        assertArrayEquals(new float[] {1f, 2f}, HostTensor.ofLongs(new long[] {2}, 1, 2).toFloatArray());
    }

    /** Every half, the midpoints to its neighbours and the floats next to those, plus random floats. */
    private static float[] probes() {
        float[] p = new float[0x7C00 * 8 + 200_000];
        int n = 0;
        for (int h = 0; h < 0x7C00; h++) {
            float v = HalfFloats.halfBitsToFloat((short) h);
            float next = h + 1 < 0x7C00 ? HalfFloats.halfBitsToFloat((short) (h + 1)) : 65536f;
            float mid = (float) (((double) v + next) / 2); // exact: needs 12 significant bits
            for (float x : new float[] {v, mid, Math.nextUp(mid), Math.nextDown(mid)}) {
                p[n++] = x;
                p[n++] = -x;
            }
        }
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 200_000; i++) {
            // exponents around the half range (2^-27 .. 2^18) most of the time, anything otherwise
            int bits = i % 4 == 0 ? random.nextInt()
                    : (random.nextInt(2) << 31) | ((100 + random.nextInt(45)) << 23) | random.nextInt(1 << 23);
            p[n++] = Float.intBitsToFloat(bits);
        }
        return Arrays.copyOf(p, n);
    }

    private static int oracleHalf(double[] finite, float x) {
        int sign = x < 0 || (x == 0 && 1 / x < 0) ? 0x8000 : 0;
        double a = Math.abs((double) x);
        if (a >= 65536) return sign | 0x7C00;
        int i = Arrays.binarySearch(finite, a);
        if (i >= 0) {
            return sign | i; // exactly representable
        }
        int above = -i - 1;
        int below = above - 1;
        double dBelow = a - finite[below];
        double dAbove = finite[above] - a;
        int chosen = dBelow < dAbove ? below : dAbove < dBelow ? above : (below % 2 == 0 ? below : above);
        return sign | chosen;
    }
}
