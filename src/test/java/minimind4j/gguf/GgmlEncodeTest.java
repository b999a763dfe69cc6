package minimind4j.gguf;

import minimind4j.checkpoint.format.DType;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.Weights;
import minimind4j.engine.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** float16 / bfloat16 bits as libtorch converts (round to nearest even, subnormals, overflow, NaN); Q8_0's block layout. */
class GgmlEncodeTest {
    private static float[] values() {
        Random r = new Random(5);
        float[] v = new float[4096];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(14) - 9));
        float[] edge = {0f, -0f, 65504f, 65519f, 65520f, 1e-8f, -6e-8f, 5.9604645e-8f, 2.98e-8f, 6.1035156e-5f, 1.0009766f, 1.0004883f,
                1.0014648f, Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3.3895e38f, 1.00390625f, 1.01171875f};
        System.arraycopy(edge, 0, v, 0, edge.length);
        return v;
    }

    private static short[] torchBits(float[] v, ScalarType type, DType dtype) {
        try (PointerScope s = Torch.scope()) {
            HostTensor h = Weights.toHost(Weights.toTensor(HostTensor.ofFloats(new long[]{v.length}, v), ScalarType.Float).to(type), dtype);
            ByteBuffer b = h.data();
            short[] out = new short[v.length];
            for (int i = 0; i < v.length; i++) out[i] = b.getShort();
            return out;
        }
    }

    @Test
    void halfAndBFloat16AsLibtorchRounds() {
        float[] v = values();
        short[] half = torchBits(v, ScalarType.Half, DType.F16), bf = torchBits(v, ScalarType.BFloat16, DType.BF16);
        for (int i = 0; i < v.length; i++) {
            assertEquals(half[i], GgmlEncode.toHalf(v[i]), "float16 of " + v[i]);
            assertEquals(bf[i], GgmlEncode.toBFloat16(v[i]), "bfloat16 of " + v[i]);
        }
        assertEquals(0x7e00, GgmlEncode.toHalf(Float.NaN) & 0x7e00);  // a NaN stays NaN
    }

    @Test
    void q8_0BlocksAreScaleThenInt8s() {
        float[] x = new float[64];
        for (int i = 0; i < 32; i++) x[i] = (i - 16) * 0.5f;  // max |x| = 8 -> d = 8/127
        x[32 + 3] = -2.5f;                                     // a lone value: q = -127; the rest 0
        ByteBuffer b = ByteBuffer.wrap(GgmlEncode.encode(GgmlType.Q8_0, x)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(68, b.capacity());
        assertEquals(GgmlEncode.toHalf(8f / 127), b.getShort());
        byte[] q = new byte[32];
        b.get(q);
        // x * 127/8: x = -8 -> -127, -4 -> -63.5 -> -64 (C's roundf, away from zero; Java's Math.round gives -63),
        // 0 -> 0, 0.5 -> 7.9375 -> 8, 4 -> 63.5 -> 64, 7.5 -> 119.0625 -> 119
        int[][] known = {{0, -127}, {8, -64}, {16, 0}, {17, 8}, {24, 64}, {31, 119}};
        for (int[] k : known) assertEquals(k[1], q[k[0]], "q" + k[0]);
        assertEquals(GgmlEncode.toHalf(2.5f / 127), b.getShort());
        for (int i = 0; i < 32; i++) assertEquals(i == 3 ? -127 : 0, b.get());
        // C's roundf: halves away from zero, for negative values too
        assertEquals(-3, GgmlEncode.roundHalfAway(-2.5f));
        assertEquals(3, GgmlEncode.roundHalfAway(2.5f));
        assertThrows(IllegalArgumentException.class, () -> GgmlEncode.encode(GgmlType.Q8_0, new float[31]));
    }
}
