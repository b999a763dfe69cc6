package minimind4j.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CosineScheduleTest {
    @Test
    void followsMiniMindsFormula() {
        // lr*(0.1+0.45*(1+cos(pi*t/T))): t=0 -> lr, t=T/2 -> 0.55 lr, t=T -> 0.1 lr, t=T/3 -> (0.1+0.45*1.5) lr
        assertEquals(1e-6, CosineSchedule.lr(0, 100, 1e-6), 1e-18);
        assertEquals(0.55e-6, CosineSchedule.lr(50, 100, 1e-6), 1e-18);
        assertEquals(0.1e-6, CosineSchedule.lr(100, 100, 1e-6), 1e-18);
        assertEquals(0.775 * 5e-4, CosineSchedule.lr(1, 3, 5e-4), 1e-15);
    }
}
