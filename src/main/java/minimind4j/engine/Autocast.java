package minimind4j.engine;

import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * libtorch's autocast region, what Python's {@code with torch.autocast(device_type, dtype):} does: inside it, ops on
 * the autocast list (linear, matmul, attention) run in the lower precision while the fp32 parameters stay the master
 * copy. The state is thread-local, so the region must open and close on the thread that runs the forward pass.
 *
 * <p>On leaving the outermost region the cast cache is cleared, as the Python context manager does: the cache holds
 * lower-precision copies of the weights, which would be stale after the next optimizer step.
 */
public final class Autocast implements Precision.Region {
    private final DeviceType device;
    private final boolean previousEnabled;
    private final ScalarType previousType;
    private boolean open = true;

    private Autocast(DeviceType device, ScalarType type) {
        this.device = device;
        this.previousEnabled = torch.is_autocast_enabled(device);
        this.previousType = torch.get_autocast_dtype(device);
        torch.set_autocast_enabled(device, true);
        torch.set_autocast_dtype(device, type);
        torch.increment_nesting();
    }

    /** Opens a region on {@code device} (CPU or CUDA) computing in {@code type} (BFloat16 or Half). */
    public static Autocast enter(DeviceType device, ScalarType type) {
        return new Autocast(device, type);
    }

    /**
     * Turns autocast off on {@code device} until the region closes (for code whose inputs already have their type),
     * leaving the enclosing region's cast cache alone.
     */
    public static Precision.Region suspend(DeviceType device) {
        boolean was = torch.is_autocast_enabled(device);
        if (!was) return () -> {};
        torch.set_autocast_enabled(device, false);
        return () -> torch.set_autocast_enabled(device, true);
    }

    /**
     * {@code weight} as autocast would feed it to a matmul: its cached lower-precision copy inside a region (cast once
     * per region, like a weight passed to linear directly), itself outside one. For weights that are concatenated
     * before their GEMM, so that the concatenation runs on the cached bf16 copies instead of copying fp32 weights and
     * casting the result anew every step.
     */
    public static org.bytedeco.pytorch.Tensor castWeight(org.bytedeco.pytorch.Tensor weight) {
        DeviceType device = weight.is_cuda() ? DeviceType.CUDA : DeviceType.CPU;
        if (!torch.is_autocast_enabled(device)) return weight;
        return torch.cached_cast(torch.get_autocast_dtype(device), weight, device);
    }

    public static boolean enabled(DeviceType device) {
        return torch.is_autocast_enabled(device);
    }

    @Override
    public void close() {
        if (!open) return;
        open = false;
        if (torch.decrement_nesting() == 0) torch.clear_cache();
        torch.set_autocast_enabled(device, previousEnabled);
        torch.set_autocast_dtype(device, previousType);
    }
}
