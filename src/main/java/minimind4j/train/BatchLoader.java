package minimind4j.train;

import minimind4j.data.Batch;
import minimind4j.data.Sample;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Tokenizes and pads the batches of one epoch on a background thread, a few steps ahead of training, starting after
 * the batches a resumed run has already done.
 */
public final class BatchLoader implements AutoCloseable {
    private static final Batch END = new Batch(new long[0], new long[0], 0, 0, 0, 0, new int[0]);

    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(4);
    private final Thread worker;

    /** @param padTo pad every batch to this length (MiniMind's layout), or 0 for the batch's longest sample */
    public BatchLoader(BatchPlan plan, int skipBatches, int padId, int padTo) {
        worker = new Thread(() -> {
            try {
                int b = skipBatches;
                while (b < plan.iters()) {
                    List<List<Sample>> window = plan.window(plan.windowOf(b));
                    for (int i = plan.positionInWindow(b); i < window.size() && b < plan.iters(); i++, b++)
                        queue.put(Batch.of(window.get(i), padId, padTo));
                }
                queue.put(END);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                try {
                    queue.put(e);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "batch-loader");
        worker.setDaemon(true);
        worker.start();
    }

    /** The next batch, or null at the end of the epoch. Errors from the loader thread are rethrown here. */
    public Batch next() {
        try {
            Object o = queue.take();
            if (o instanceof RuntimeException e) throw e;
            return o == END ? null : (Batch) o;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * Stops the loader and waits until its thread has left the dataset. The thread may be inside the tokenizer, which
     * an interrupt does not stop; returning before it is out would let the caller close the tokenizer under it (a
     * native use-after-free: seen as the tokenizer library aborting on a multi-terabyte allocation).
     */
    @Override
    public void close() {
        worker.interrupt();
        boolean interrupted = false;
        while (worker.isAlive()) {
            try {
                worker.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
