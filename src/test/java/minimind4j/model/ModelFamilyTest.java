package minimind4j.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The family enum reads and prints the names config files and --model_family use, and configs report theirs. */
class ModelFamilyTest {
    @Test
    void namesRoundTripAndConfigsKnowTheirFamily() {
        for (ModelFamily f : ModelFamily.values()) assertSame(f, ModelFamily.parse(f.toString()));
        assertEquals("minimind2", ModelFamily.MINIMIND2.id());
        assertEquals("minimind3", ModelFamily.MINIMIND3.id());
        assertThrows(IllegalArgumentException.class, () -> ModelFamily.parse("minimind4"));
        assertSame(ModelFamily.MINIMIND2, ModelConfig.minimind2().modelFamily());
        assertSame(ModelFamily.MINIMIND3, ModelConfig.minimind3(64, 2, true).modelFamily());
        assertEquals("minimind3", ModelConfig.minimind3(64, 2).family());
    }
}
