package minimind4j.checkpoint;

import minimind4j.checkpoint.format.HostTensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SameWeightsTest {
    private static Map<String, HostTensor> dict(float b0, float b1) {
        Map<String, HostTensor> m = new LinkedHashMap<>();
        m.put("a", HostTensor.ofFloats(new long[]{2}, 1f, 2f));
        m.put("b", HostTensor.ofFloats(new long[]{2}, b0, b1));
        m.put("c", HostTensor.ofFloats(new long[]{1}, 3f));
        return m;
    }

    @Test
    void equalDictsPass() {
        SameWeights.assertBitIdentical(dict(0.5f, 0.25f), dict(0.5f, 0.25f));
    }

    @Test
    void theFirstDifferingKeyAndTheLargestDifferenceAreNamed() {
        Map<String, HostTensor> other = dict(0.5f, 0.75f);
        other.put("c", HostTensor.ofFloats(new long[]{1}, 4f));
        AssertionError e = assertThrows(AssertionError.class, () -> SameWeights.assertBitIdentical(dict(0.5f, 0.25f), other, "resumed run"));
        assertEquals("resumed run: 2 of 3 tensors differ; first b: max abs difference 0.5 (element 1: 0.25 vs 0.75)", e.getMessage());
    }

    @Test
    void bitsMatterNotOnlyValues() {
        AssertionError e = assertThrows(AssertionError.class, () -> SameWeights.assertBitIdentical(dict(0f, 1f), dict(-0f, 1f)));
        assertTrue(e.getMessage().contains("first b: max abs difference 0 (the bits differ"), e.getMessage());
    }

    @Test
    void differentNamesAreNamed() {
        Map<String, HostTensor> fewer = dict(0f, 1f);
        fewer.remove("c");
        fewer.put("d", HostTensor.ofFloats(new long[]{1}, 3f));
        AssertionError e = assertThrows(AssertionError.class, () -> SameWeights.assertBitIdentical(dict(0f, 1f), fewer));
        assertEquals("different tensor names: missing [c], unexpected [d]", e.getMessage());
    }
}
