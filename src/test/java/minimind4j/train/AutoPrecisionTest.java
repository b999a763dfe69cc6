package minimind4j.train;

import minimind4j.TestPaths;
import minimind4j.engine.CpuFeatures;
import minimind4j.model.ModelConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --dtype auto} times the training step in each candidate and takes the fastest. Both branches run on every
 * machine: the CPU is given as a /proc/cpuinfo fixture (on an AVX2 machine the AVX512-BF16 fixture's bf16 candidates
 * run emulated, slowly but correctly, on a tiny model).
 */
class AutoPrecisionTest {
    static final ModelConfig TINY = ModelConfig.minimind2(32, 2, false);

    static CpuFeatures fixture(String name) throws Exception {
        return CpuFeatures.parse(Files.readString(TestPaths.resources().resolve("cpuinfo/" + name)));
    }

    /** Every "fp32|bf16 Nt S s" figure of the reason, and the one that was chosen is the smallest. */
    static void chosenIsTheFastest(AutoPrecision a) {
        Matcher m = Pattern.compile("(fp32|bf16) (\\d+)t ([0-9.]+) s").matcher(a.reason());
        double best = Double.MAX_VALUE;
        String bestKey = null;
        int n = 0;
        while (m.find()) {
            n++;
            double s = Double.parseDouble(m.group(3));
            if (s < best) {
                best = s;
                bestKey = m.group(1) + " " + m.group(2);
            }
        }
        assertTrue(n >= 1, a.reason());
        assertEquals(bestKey, (a.autocast() == null ? "fp32" : "bf16") + " " + a.threads(), "the chosen candidate is the fastest timed: " + a.reason());
    }

    @Test
    void withoutNativeBf16OnlyFp32IsTimed() throws Exception {
        AutoPrecision a = AutoPrecision.decide(fixture("amd-epyc-avx2.txt"), TINY, 48);
        assertNull(a.autocast());
        assertFalse(a.reason().contains("bf16 1t"), a.reason());
        assertTrue(a.reason().contains("bf16 would be emulated"), a.reason());
        assertTrue(a.reason().contains("fp32 1t "), a.reason());
        chosenIsTheFastest(a);
    }

    @Test
    void withNativeBf16BothPrecisionsAreTimedAndTheFasterStepWins() throws Exception {
        AutoPrecision a = AutoPrecision.decide(fixture("amd-epyc-zen4-avx512bf16.txt"), TINY, 48);
        System.out.println(a.reason());
        assertTrue(a.reason().startsWith("auto: AMD EPYC, avx512_bf16: a training step of this model (21 x 48 tokens) timed "), a.reason());
        assertTrue(a.reason().contains("fp32 1t ") && a.reason().contains("bf16 1t "), a.reason());
        chosenIsTheFastest(a);
    }
}
