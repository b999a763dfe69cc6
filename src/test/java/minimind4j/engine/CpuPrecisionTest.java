package minimind4j.engine;

import minimind4j.TestPaths;
import minimind4j.cli.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code --dtype auto} on a CPU: read from /proc/cpuinfo, never assumed. */
class CpuPrecisionTest {

    @Test
    void amdEpycWithAvx2OnlyHasNoNativeBf16() throws Exception {
        // the first processor block of a real /proc/cpuinfo of this project's machine (AMD EPYC, AVX2)
        CpuFeatures cpu = CpuFeatures.parse(Files.readString(TestPaths.resources().resolve("cpuinfo/amd-epyc-avx2.txt")));
        assertEquals("AMD EPYC", cpu.model());
        assertTrue(cpu.flags().contains("avx2"));
        assertFalse(cpu.nativeBf16());
        assertEquals("no native bf16 (avx2)", cpu.bf16Summary());
    }

    @Test
    void amdEpycZen4HasNativeBf16ThroughAvx512Bf16() throws Exception {
        // the first processor block of a real /proc/cpuinfo: a 2-vCPU AMD EPYC (Zen 4) with AVX512-BF16 and no AMX
        CpuFeatures cpu = CpuFeatures.parse(Files.readString(TestPaths.resources().resolve("cpuinfo/amd-epyc-zen4-avx512bf16.txt")));
        assertEquals("AMD EPYC", cpu.model());
        assertTrue(cpu.avx512Bf16() && cpu.nativeBf16());
        assertFalse(cpu.amxBf16());
        assertEquals("avx512_bf16", cpu.bf16Summary());
    }

    @Test
    void amxAndAvx512Bf16FlagsAreNative() {
        String line = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n"
                + "flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n\nprocessor\t: 1\nflags\t\t: fpu\n";
        CpuFeatures cpu = CpuFeatures.parse(line);
        assertEquals("Intel(R) Xeon(R) Platinum 8480+", cpu.model());
        assertTrue(cpu.amxBf16() && cpu.avx512Bf16() && cpu.nativeBf16());
        assertEquals("amx_bf16 + avx512_bf16", cpu.bf16Summary());
        // "bf16" inside "avx512_bf16" is no arm64 flag: the set holds whole words
        assertFalse(CpuFeatures.parse("flags : avx512f\n").nativeBf16());
        assertTrue(CpuFeatures.parse("Features : fp asimd bf16\n").armBf16());
    }

    @Test
    void theLiveMachineIsReadAndTrainingSaysWhatItChose(@TempDir Path dir) throws Exception {
        String raw = Files.isReadable(Path.of("/proc/cpuinfo")) ? Files.readString(Path.of("/proc/cpuinfo")) : "";
        boolean native16 = raw.contains(" amx_bf16") || raw.contains(" avx512_bf16");
        assertEquals(native16, CpuFeatures.read().nativeBf16());
        CliRun r = CliRun.of("sft", "--save_dir", dir.toString(), "--max_steps", "1", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        String first = r.out().lines().filter(l -> l.startsWith("precision: ")).findFirst().orElseThrow(() -> new AssertionError(r.out()));
        assertTrue(first.contains("auto: ") && first.contains("a training step of this model"), first);
        if (!native16) assertTrue(first.startsWith("precision: cpu, fp32, ") && first.contains("bf16 would be emulated"), first);
        else assertTrue(first.contains("bf16 1t "), "on a native-bf16 CPU bf16 steps are timed: " + first);
        assertTrue(r.out().contains(first.startsWith("precision: cpu, bf16") ? "cpu, bf16 autocast" : "cpu, fp32"), r.out());
    }
}
