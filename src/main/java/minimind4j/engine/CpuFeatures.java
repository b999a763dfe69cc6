package minimind4j.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the CPU says about itself in {@code /proc/cpuinfo}: its model name and the instruction-set flags that decide
 * whether bf16 arithmetic is native (AMX-BF16 tiles or AVX512-BF16 dot products) or emulated by fp32 conversions,
 * which is ~10x slower. Machines vary (this project has run on an AMD EPYC with AVX2 only and on an Intel Xeon with
 * AMX-BF16), so the choice is read, never assumed. Elsewhere (macOS, Windows) the flags are unknown: empty.
 */
public record CpuFeatures(String model, Set<String> flags) {

    public static CpuFeatures read() {
        Path info = Path.of("/proc/cpuinfo");
        try {
            if (Files.isReadable(info)) return parse(Files.readString(info));
        } catch (IOException ignored) {
            // unreadable: same as unknown
        }
        return new CpuFeatures(System.getProperty("os.arch", "unknown"), Set.of());
    }

    /** Parses cpuinfo text: the first "model name" and the first "flags" (x86) or "Features" (arm64) line. */
    public static CpuFeatures parse(String cpuinfo) {
        String model = null;
        Set<String> flags = null;
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String key = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            if (model == null && key.equals("model name")) model = value;
            if (flags == null && (key.equals("flags") || key.equals("features")))
                flags = new TreeSet<>(Arrays.asList(value.split("\\s+")));
        }
        return new CpuFeatures(model == null ? "unknown CPU" : model, flags == null ? Set.of() : flags);
    }

    public boolean amxBf16() { return flags.contains("amx_bf16"); }

    public boolean avx512Bf16() { return flags.contains("avx512_bf16"); }

    /** arm64's BF16 dot-product extension (Graviton 3+, Apple M2+ report "bf16"). */
    public boolean armBf16() { return flags.contains("bf16"); }

    public boolean nativeBf16() { return amxBf16() || avx512Bf16() || armBf16(); }

    /** The flags that matter for the precision choice, for the start-up line. */
    public String bf16Summary() {
        if (amxBf16()) return "amx_bf16" + (avx512Bf16() ? " + avx512_bf16" : "");
        if (avx512Bf16()) return "avx512_bf16";
        if (armBf16()) return "bf16";
        String widest = flags.contains("avx512f") ? "avx512f" : flags.contains("avx2") ? "avx2" : flags.isEmpty() ? "flags unknown" : "no avx2";
        return "no native bf16 (" + widest + ")";
    }
}
