package minimind4j.serve;

import minimind4j.generate.Generator;
import minimind4j.generate.Sampling;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntPredicate;

/**
 * The one thread that runs the model. HTTP threads parse, template and tokenize requests, then queue them here; the
 * worker generates them one at a time in arrival order. One model, one KV cache at a time, no batching: a request
 * never shares tensors with another, so concurrent requests cannot corrupt each other, and a second request waits
 * for the first to finish.
 */
final class GenerationQueue implements AutoCloseable {

    /** What to generate: prompt ids, how many tokens at most, how to sample, which token ends the reply. */
    record Job(int[] prompt, int maxNewTokens, Sampling sampling, int eosId, long seed) {}

    /** A queued or running job: its result, and a switch that stops it (before it starts or at the next token). */
    static final class Ticket {
        private final Job job;
        private final IntPredicate onToken;
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final CompletableFuture<Generator.Result> result = new CompletableFuture<>();

        private Ticket(Job job, IntPredicate onToken) {
            this.job = job;
            this.onToken = onToken;
        }

        void cancel() { cancelled.set(true); }

        boolean cancelled() { return cancelled.get(); }

        /** Completes with the result (finish reason "cancelled" if stopped), or exceptionally if generation failed. */
        CompletableFuture<Generator.Result> result() { return result; }
    }

    private static final Ticket STOP = new Ticket(null, null);

    private final Generator generator;
    private final LinkedBlockingQueue<Ticket> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;

    GenerationQueue(Generator generator) {
        this.generator = generator;
        this.worker = new Thread(this::work, "minimind-generate");
        worker.setDaemon(true);
        worker.start();
    }

    /**
     * Queues a job. {@code onToken} is called on the worker thread with each new token (not the eos token) and may
     * return false to stop generation; the result completes after the last call.
     */
    synchronized Ticket submit(Job job, IntPredicate onToken) {
        Ticket t = new Ticket(job, onToken);
        if (closed) {
            t.result.complete(cancelled(job));
        } else {
            queue.add(t);
        }
        return t;
    }

    private void work() {
        while (true) {
            Ticket t;
            try {
                t = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (t == STOP) break;
            if (closed || t.cancelled()) {
                t.result.complete(cancelled(t.job));
                continue;
            }
            try {
                Job j = t.job;
                Generator.Result r = generator.generate(j.prompt(), j.maxNewTokens(), j.sampling(), j.eosId(), j.seed(),
                        id -> !closed && !t.cancelled() && (t.onToken == null || t.onToken.test(id)));
                t.result.complete(r);
            } catch (Throwable e) { // a failed generation fails its request, never the worker
                t.result.completeExceptionally(e);
            }
        }
    }

    private static Generator.Result cancelled(Job j) {
        return new Generator.Result(new int[0], j.prompt().length, "cancelled", 0);
    }

    /** Stops the running job at its next token, cancels the queued ones, and returns once the worker has ended. */
    @Override
    public void close() {
        synchronized (this) { // after this, submit() sees closed: nothing can be queued behind STOP
            if (!closed) {
                closed = true;
                queue.add(STOP);
            }
        }
        boolean interrupted = false;
        while (worker.isAlive()) {
            try {
                worker.join();
            } catch (InterruptedException e) {
                interrupted = true; // the model must not be freed under a running forward: keep waiting
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
