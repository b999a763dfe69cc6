package minimind4j.engine;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Locale;

/**
 * What a lower-precision GEMM costs on this CPU against fp32: where bf16 (or fp16) is emulated in software, an explicit
 * {@code --dtype bfloat16} still trains, and the start line says how much slower it is measured to be. (Which
 * precision {@code --dtype auto} takes is decided by timing the whole training step: minimind4j.train.AutoPrecision.)
 */
public final class CpuPrecision {
    private CpuPrecision() {}

    /**
     * How many times slower a GEMM in {@code type} is than in fp32 on this CPU, at a small shape (64 rows: emulated
     * bf16 runs at ~1 GFLOP/s, so the measurement stays well under a second).
     */
    public static double emulationCost(ScalarType type) {
        double fp32 = gemmRate(null, 512, 1408, 64), other = gemmRate(type, 512, 1408, 64);
        return fp32 / Math.max(other, 1);
    }

    /** FLOP/s of [rows x hidden] x [hidden x intermediate] in the given type (null: fp32); best of a few runs. */
    static double gemmRate(ScalarType type, int hidden, int intermediate, long rows) {
        try (PointerScope scope = new PointerScope()) {
            ScalarType t = type == null ? ScalarType.Float : type;
            Tensor a = torch.randn(new long[] {rows, hidden}, new TensorOptions(ScalarType.Float)).to(t);
            Tensor b = torch.randn(new long[] {hidden, intermediate}, new TensorOptions(ScalarType.Float)).to(t);
            double best = Torch.bestMatmulSeconds(a, b, 3);
            return 2.0 * rows * hidden * intermediate / best;
        }
    }
}
