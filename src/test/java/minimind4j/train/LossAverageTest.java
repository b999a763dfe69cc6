package minimind4j.train;

import minimind4j.cli.Minimind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static minimind4j.train.StepGradients.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * --loss_average in one process, through the CLI: the gradient each optimizer step applies (before clipping and
 * AdamW, which would hide a factor of 2) for batch 16 and for batch 8 x accumulation 2, on samples of very
 * different lengths, against MiniMind's formulas computed by hand. The two-process splits are in DistributedTest.
 */
class LossAverageTest {
    @TempDir
    static Path dir;
    static Path data;

    @BeforeAll
    static void data() throws Exception {
        data = unequalLengths(dir);
    }

    @AfterEach
    void clear() {
        System.clearProperty("minimind.test.gradients");
    }

    static Path train(String name, String... extra) {
        Path grads = dir.resolve(name + "-grads");
        System.setProperty("minimind.test.gradients", grads.toString());
        List<String> a = new ArrayList<>(args(data, dir.resolve(name)));
        a.addAll(List.of(extra));
        assertEquals(0, Minimind.run(a.toArray(String[]::new)));
        System.clearProperty("minimind.test.gradients");
        return grads;
    }

    @Test
    void theTestDataTellsTheTwoAveragesApart() {
        // without this, the equalities below could hold because the data cannot show the difference
        double gap = relative(byHand(data, 1, 8, 2, false), byHand(data, 1, 8, 2, true));
        assertTrue(gap > 0.02, "per-batch and per-token means differ by only " + gap);
    }

    @Test
    void tokensMakeAccumulationTheSameUpdateAsOneBigBatch() throws Exception {
        Path whole = train("t16", "--batch_size", "16", "--accumulation_steps", "1", "--loss_average", "tokens");
        Path accumulated = train("t8x2", "--batch_size", "8", "--accumulation_steps", "2", "--loss_average", "tokens");
        Map<String, float[]> expected = byHand(data, 1, 16, 1, true);
        assertTrue(relative(read(whole, 1), expected) < 1e-4, "batch 16 vs the token mean by hand: " + relative(read(whole, 1), expected));
        // seen: 3e-7 (fp32 summation order)
        for (int step = 1; step <= 2; step++) {
            double d = relative(read(accumulated, step), read(whole, step));
            assertTrue(d < 1e-3, "step " + step + ": batch 8 x accumulation 2 differs from batch 16 by " + d + " of the update");
        }
        assertFalse(Files.exists(whole.resolve("step-3.grad")), "32 samples / 16 = 2 optimizer steps");
    }

    @Test
    void batchesAverageAccumulatedMicroBatchesAsMiniMindDoes() throws Exception {
        // MiniMind: (loss / accumulation_steps).backward() per micro-batch, each loss its own token mean
        Path accumulated = train("b8x2", "--batch_size", "8", "--accumulation_steps", "2");
        double d = relative(read(accumulated, 1), byHand(data, 1, 8, 2, false));
        assertTrue(d < 1e-4, "batch 8 x accumulation 2 (default) vs MiniMind's mean of micro-batch means: " + d);
    }
}
