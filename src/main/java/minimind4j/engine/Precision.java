package minimind4j.engine;

import minimind4j.UserError;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Locale;

/**
 * Where a run computes and in what precision, from MiniMind's {@code --device} and {@code --dtype} flags. A type means
 * what it says on every device: {@code bfloat16} and {@code float16} run the forward pass under autocast (parameters
 * and optimizer state stay fp32; float16 with a gradient scaler), on CUDA as in MiniMind's scripts and on a CPU too
 * (where bf16 without AVX512-BF16/AMX is emulated: correct, ~10x slower). {@code float32} is plain fp32 everywhere.
 * {@code auto} is bf16 on CUDA and, on a CPU, what {@link CpuPrecision} chooses for this machine; the caller records
 * that choice with the run.
 *
 * @param deviceName "cpu" or "cuda:N"
 * @param autocast   the autocast type (BFloat16 or Half), or null for plain fp32
 */
public record Precision(String deviceName, ScalarType autocast) {

    public static Precision cpu() {
        return new Precision("cpu", null);
    }

    /** Whether losses are scaled: float16 autocast, as MiniMind's {@code GradScaler(enabled=(dtype == 'float16'))}. */
    public boolean gradScaler() {
        return autocast != null && autocast.value == ScalarType.Half.value;
    }

    /**
     * Checks the flags and the machine. {@code localRank} >= 0 picks cuda:LOCAL_RANK for a distributed worker, as
     * MiniMind's init_distributed_mode does, whatever index --device gave.
     */
    public static Precision resolve(String device, String dtype, int localRank) {
        String d = device == null ? defaultDevice() : device.trim().toLowerCase(Locale.ROOT);
        ScalarType type = parseDtype(dtype);
        // CPU: the type as given (auto is decided by the caller, per machine: see CpuPrecision)
        if (d.equals("cpu")) return new Precision("cpu", type);
        if (d.equals("mps") || d.startsWith("mps:")) throw new UserError(mpsRefusal(device));
        int index;
        if (d.equals("cuda")) index = 0;
        else if (d.matches("cuda:\\d+")) index = Integer.parseInt(d.substring(5));
        else throw new UserError("--device " + device + ": expected cpu, cuda or cuda:N");
        if (localRank >= 0) index = localRank;
        if (!Torch.cudaAvailable())
            throw new UserError("--device " + device + ": libtorch sees no CUDA device. This build carries the CPU natives: "
                    + "rebuild with `mvn -Pgpu -DskipTests package` on a machine with an NVIDIA driver, or pass --device cpu");
        int count = Torch.cudaDeviceCount();
        if (index >= count)
            throw new UserError("--device cuda:" + index + ": only " + count + " CUDA device(s) are visible (cuda:0.." + (count - 1) + ")");
        return new Precision("cuda:" + index, type);
    }

    /**
     * Why {@code --device mps} (MiniMind's scripts accept it on a Mac) is refused. Where libtorch has no Metal backend
     * (every build but bytedeco's macosx-arm64 natives) it is simply not there. Those natives do carry one
     * (USE_MPS, linked against Metal), but this project has not yet run on a Mac, so on Apple silicon it is refused
     * rather than offered untried; training and chat run on the CPU there, threads defaulting to the core count.
     */
    static String mpsRefusal(String device) {
        String why = Torch.mpsAvailable()
                ? "libtorch's macOS natives have a Metal backend, but minimind4j has not been run on it yet (see README, Platforms)"
                : "libtorch sees no Apple Metal (MPS) device (only bytedeco's macosx-arm64 natives have that backend, on Apple silicon)";
        return "--device " + device + ": not available: " + why + "; pass --device cpu";
    }

    /** MiniMind's default: {@code "cuda:0" if torch.cuda.is_available() else "cpu"}. */
    public static String defaultDevice() {
        return Torch.cudaAvailable() ? "cuda:0" : "cpu";
    }

    /** {@code --dtype auto}: bfloat16 on CUDA; on a CPU, bf16 autocast only where it is native (see {@link CpuPrecision}). */
    public static boolean isAuto(String dtype) {
        return dtype != null && dtype.trim().equalsIgnoreCase("auto");
    }

    /** bfloat16/bf16 (and auto, before a CPU's choice), float16/fp16/half, float32/fp32/float; null for float32 (no autocast). */
    public static ScalarType parseDtype(String dtype) {
        String t = dtype == null ? "bfloat16" : dtype.trim().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "bfloat16", "bf16", "auto" -> ScalarType.BFloat16;
            case "float16", "fp16", "half" -> ScalarType.Half;
            case "float32", "fp32", "float" -> null;
            default -> throw new UserError("--dtype " + dtype + ": expected auto, bfloat16, float16 or float32");
        };
    }

    public boolean cuda() { return deviceName.startsWith("cuda"); }

    public int cudaIndex() { return cuda() ? Integer.parseInt(deviceName.substring(5)) : -1; }

    public DeviceType deviceType() { return cuda() ? DeviceType.CUDA : DeviceType.CPU; }

    /** A new handle to the device (native; callers inside a PointerScope get it freed with the scope). */
    public Device device() { return Torch.device(deviceName); }

    /** The tensor on this run's device (the same tensor when it is already there). */
    public Tensor to(Tensor t) {
        return cuda() ? t.to(device(), t.scalar_type()) : t;
    }

    /** Token ids (or labels) as a Long tensor on this run's device. */
    public Tensor longs(long[] data, long... shape) {
        return to(Torch.longs(data, shape));
    }

    /** A scope that closes without checked exceptions. */
    public interface Region extends AutoCloseable {
        @Override
        void close();
    }

    /** An autocast region for the forward pass, or a no-op region for fp32. */
    public Region autocastRegion() {
        if (autocast == null) return () -> {};
        return Autocast.enter(deviceType(), autocast);
    }

    /** The --dtype value that reproduces this precision: float32, bfloat16 or float16 (recorded with a run). */
    public String dtypeName() {
        if (autocast == null) return "float32";
        return autocast.value == ScalarType.BFloat16.value ? "bfloat16" : "float16";
    }

    /** The same device in another precision. */
    public Precision withDtype(String dtype) {
        return new Precision(deviceName, parseDtype(dtype));
    }

    public String describe() {
        String p = autocast == null ? "fp32" : (autocast.value == ScalarType.BFloat16.value ? "bf16" : "fp16") + " autocast";
        return deviceName + ", " + p + (gradScaler() ? " with loss scaling" : "");
    }
}
