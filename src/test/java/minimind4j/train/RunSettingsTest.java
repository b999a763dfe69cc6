package minimind4j.train;

import minimind4j.engine.Precision;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** An explicit bf16 on a CPU without native bf16 trains, and says in one line that it is emulated and at what cost. */
class RunSettingsTest {
    @Test
    void bf16WithoutNativeSupportIsNamedWithItsMeasuredCost() throws Exception {
        Precision bf16 = Precision.resolve("cpu", "bfloat16", -1);
        String note = RunSettings.emulatedNote(bf16, AutoPrecisionTest.fixture("amd-epyc-avx2.txt"));
        assertNotNull(note);
        assertTrue(note.matches("note: bfloat16 on this CPU \\(AMD EPYC: no native bf16 \\(avx2\\)\\) is emulated in software: its GEMMs measured "
                + "[0-9.]+x slower than fp32 here; --dtype auto would train in fp32"), note);
        assertNull(RunSettings.emulatedNote(bf16, AutoPrecisionTest.fixture("amd-epyc-zen4-avx512bf16.txt")), "native bf16: no note");
    }
}
