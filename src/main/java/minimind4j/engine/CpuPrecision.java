package minimind4j.engine;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Locale;

/**
 * {@code --dtype auto} on a CPU: bf16 autocast (fp32 master weights and AdamW state) where the CPU has native bf16
 * and a short calibration confirms it is faster, fp32 otherwise; with the intra-op thread count that was fastest for
 * the chosen precision (on 2 vCPUs of a Xeon with AMX, 2 threads were slower in fp32 but faster in bf16).
 *
 * @param autocast BFloat16, or null for plain fp32
 * @param threads  the intra-op threads to use when the user set none
 * @param reason   one line for the start of the run
 */
public record CpuPrecision(ScalarType autocast, int threads, String reason) {

    /** Decides for this machine; the calibration (a few GEMMs of the model's shape, well under a second) runs only where bf16 is native. */
    public static CpuPrecision decide(CpuFeatures cpu, int hidden, int intermediate) {
        int fp32Threads = Torch.defaultThreads();
        if (!cpu.nativeBf16())
            return new CpuPrecision(null, fp32Threads, String.format(Locale.ROOT,
                    "auto: fp32 (%s: %s; bf16 would be emulated, ~10x slower), %d thread(s)", cpu.model(), cpu.bf16Summary(), fp32Threads));
        int cores = Math.max(1, Runtime.getRuntime().availableProcessors());
        int previous = Torch.threads();
        try {
            double best32 = 0, best16 = 0;
            int threads32 = fp32Threads, threads16 = fp32Threads;
            for (int t : cores > 1 ? new int[] {1, cores} : new int[] {1}) {
                Torch.setThreads(t);
                double r32 = gemmRate(null, hidden, intermediate);
                double r16 = gemmRate(ScalarType.BFloat16, hidden, intermediate);
                if (r32 > best32) { best32 = r32; threads32 = t; }
                if (r16 > best16) { best16 = r16; threads16 = t; }
            }
            if (best16 > best32 * 1.1)
                return new CpuPrecision(ScalarType.BFloat16, threads16, String.format(Locale.ROOT,
                        "auto: bf16 autocast, fp32 weights and optimizer, %d thread(s) (%s: %s; calibration GEMM bf16 %.0f vs fp32 %.0f GFLOP/s)",
                        threads16, cpu.model(), cpu.bf16Summary(), best16 / 1e9, best32 / 1e9));
            return new CpuPrecision(null, threads32, String.format(Locale.ROOT,
                    "auto: fp32, %d thread(s) (%s: %s, but calibration GEMM bf16 %.0f vs fp32 %.0f GFLOP/s is no faster)",
                    threads32, cpu.model(), cpu.bf16Summary(), best16 / 1e9, best32 / 1e9));
        } finally {
            Torch.setThreads(previous);
        }
    }

    /**
     * How many times slower a GEMM in {@code type} is than in fp32 on this CPU, at a small shape (64 rows: emulated
     * bf16 runs at ~1 GFLOP/s, so the measurement stays well under a second).
     */
    public static double emulationCost(ScalarType type) {
        double fp32 = gemmRate(null, 512, 1408, 64), other = gemmRate(type, 512, 1408, 64);
        return fp32 / Math.max(other, 1);
    }

    static double gemmRate(ScalarType type, int hidden, int intermediate) {
        return gemmRate(type, hidden, intermediate, 1024);
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
