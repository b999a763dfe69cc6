package minimind4j.train;

import minimind4j.data.JsonlIndex;
import minimind4j.data.Sample;
import minimind4j.data.TokenDataset;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/** The loader's thread reads the dataset (tokenizes) in the background; closing the loader must wait for it. */
class BatchLoaderTest {
    /**
     * A run that stops early (--max_steps, a signal, an error) closes the loader, then the dataset and its tokenizer.
     * A sample being tokenized when close() is called is not interruptible: close() must return only after the thread
     * has left the dataset, or the tokenizer is freed under it (a native crash in the tokenizer library).
     */
    @Test
    void closeWaitsUntilTheLoaderThreadHasLeftTheDataset() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        AtomicBoolean reading = new AtomicBoolean();
        TokenDataset slow = new TokenDataset() {
            @Override public int size() { return 64; }

            @Override
            public Sample get(int index, int epoch) {
                reading.set(true);
                inside.countDown();
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
                while (System.nanoTime() < until) Thread.onSpinWait();  // like native code: deaf to interrupts
                reading.set(false);
                return new Sample(index, "", new int[]{1, 2, 3}, new int[]{-100, 2, 3});
            }

            @Override public int padId() { return 0; }
            @Override public JsonlIndex index() { return null; }
            @Override public void close() {}
        };
        BatchPlan plan = new BatchPlan(slow, 4, 0, false, 1, 0, 1);
        BatchLoader loader = new BatchLoader(plan, 0, 0, 0);
        assertTrue(inside.await(30, TimeUnit.SECONDS), "the loader started reading");
        loader.close();
        assertFalse(reading.get(), "close() returned while the loader thread was still reading the dataset");
    }
}
