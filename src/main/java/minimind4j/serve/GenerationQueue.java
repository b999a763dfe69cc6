package minimind4j.serve;

import minimind4j.engine.Torch;
import minimind4j.generate.FinishReason;
import minimind4j.generate.Generator;
import minimind4j.generate.Sampling;
import minimind4j.model.KvCache;
import minimind4j.model.MiniMindLM;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntPredicate;

/**
 * The one thread that runs the model, decoding every active request together (continuous batching).
 *
 * <p>HTTP threads parse, template and tokenize requests, then queue them here. Between decoding steps the worker
 * admits waiting requests (up to {@code maxBatch} active): each new one is prefilled alone, into its own KV cache,
 * and samples its first token. Then one step runs one forward pass over all active sequences
 * ({@link MiniMindLM#decode}: shared projections and MLP, attention per sequence against its own cache) and each
 * sequence samples its next token with its own settings and random stream. A sequence leaves the batch when it ends
 * (end of sequence, max tokens, its client gone, its time limit), freeing its cache at once.
 *
 * <p>Each sequence follows {@link Generator#generate}'s rules token for token (same prefill, same sampling calls on
 * the same random stream, same stop checks), so a request decodes what it would decode alone; the batched
 * projections can differ from a single row's only in the last bits of a float.
 */
final class GenerationQueue implements AutoCloseable {

    /**
     * What to generate: prompt ids, how many tokens at most, how to sample, which token ends the reply, and when
     * (System.nanoTime) the request's time is up (Long.MAX_VALUE for never).
     */
    record Job(int[] prompt, int maxNewTokens, Sampling sampling, int eosId, long seed, long deadlineNanos) {}

    /** The queue is full; the caller answers 429. */
    static final class Full extends Exception {
        Full() { super("generation queue full", null, false, false); }
    }

    /** A queued or running job: its result, and a switch that stops it (before it starts or at the next token). */
    static final class Ticket {
        private final Job job;
        private final IntPredicate onToken;
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final CompletableFuture<Generator.Result> result = new CompletableFuture<>();
        private final long queuedNanos = System.nanoTime();
        private volatile long startedNanos;

        private Ticket(Job job, IntPredicate onToken) {
            this.job = job;
            this.onToken = onToken;
        }

        void cancel() { cancelled.set(true); }

        boolean cancelled() { return cancelled.get(); }

        /**
         * Completes with the result (finish reason "cancelled" if stopped, "timeout" if its time ran out), or
         * exceptionally if generation failed.
         */
        CompletableFuture<Generator.Result> result() { return result; }

        /** Seconds spent waiting before its prefill began (so far, if it has not started). */
        double queuedSeconds() {
            long s = startedNanos;
            return ((s == 0 ? System.nanoTime() : s) - queuedNanos) / 1e9;
        }
    }

    /** One sequence in the batch: its cache, its random stream, what it has seen and generated. */
    private static final class Active {
        final Ticket ticket;
        final KvCache cache;
        final SplittableRandom random;
        final int[] seen;
        int count;
        final int[] out;
        int n;
        int next;
        FinishReason reasonAtEnd;
        final long start = System.nanoTime();

        Active(Ticket t, int layers) {
            this.ticket = t;
            Job j = t.job;
            this.cache = new KvCache(layers);
            this.random = new SplittableRandom(j.seed());
            int room = Math.max(0, j.maxNewTokens());
            this.seen = Arrays.copyOf(j.prompt(), j.prompt().length + room);
            this.count = j.prompt().length;
            this.out = new int[room];
        }

        Generator.Result result(FinishReason reason) {
            return new Generator.Result(Arrays.copyOf(out, n), ticket.job.prompt().length, reason,
                    (System.nanoTime() - start) / 1e9);
        }
    }

    private static final Ticket STOP = new Ticket(null, null);

    private final MiniMindLM model;
    private final int maxBatch;
    private final int maxQueue;
    private final LinkedBlockingQueue<Ticket> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;
    private volatile int activeCount;
    private volatile int largestBatch;
    private volatile long decodeSteps;

    /**
     * @param maxBatch sequences decoded together at most (1 = one request at a time)
     * @param maxQueue requests waiting to start at most; more are refused ({@link Full})
     */
    GenerationQueue(MiniMindLM model, int maxBatch, int maxQueue) {
        if (maxBatch < 1) throw new IllegalArgumentException("max_batch must be at least 1");
        if (maxQueue < 0) throw new IllegalArgumentException("max_queue must be >= 0");
        this.model = model;
        this.maxBatch = maxBatch;
        this.maxQueue = maxQueue;
        model.train(false);
        this.worker = new Thread(this::work, "minimind-generate");
        worker.setDaemon(true);
        worker.start();
    }

    /** Requests waiting to start. */
    int waiting() { return queue.size(); }

    /** Requests being decoded. */
    int active() { return activeCount; }

    /** The most sequences one decoding step has run together so far. */
    int largestBatch() { return largestBatch; }

    /** Decoding steps (forward passes over the batch, prefills not counted) so far. */
    long decodeSteps() { return decodeSteps; }

    /**
     * Queues a job. {@code onToken} is called on the worker thread with each new token (not the eos token) and may
     * return false to stop generation; the result completes after the last call.
     */
    synchronized Ticket submit(Job job, IntPredicate onToken) throws Full {
        Ticket t = new Ticket(job, onToken);
        if (closed) {
            t.result.complete(empty(job, FinishReason.CANCELLED));
        } else {
            // waiting beyond the free batch slots counts against the bound
            if (queue.size() >= maxQueue + Math.max(0, maxBatch - activeCount)) throw new Full();
            queue.add(t);
        }
        return t;
    }

    private void work() {
        List<Active> batch = new ArrayList<>();
        int layers = model.config().numHiddenLayers();
        // the worker's autocast region lasts as long as it does: weights are cast to bf16/fp16 once (the state is per
        // thread, so it opens here, on the thread that runs the model)
        try (NoGradGuard g = new NoGradGuard(); minimind4j.engine.Precision.Region autocast = model.precision().autocastRegion()) {
            while (true) {
                Ticket t;
                try {
                    // idle: sleep until a request comes; busy: only take what is already waiting, if there is room
                    t = batch.isEmpty() ? queue.take() : batch.size() < maxBatch ? queue.poll() : null;
                } catch (InterruptedException e) {
                    break;
                }
                while (t != null) {
                    if (t == STOP) {
                        finishAll(batch, FinishReason.CANCELLED);
                        drain();
                        return;
                    }
                    admit(t, batch, layers);
                    t = batch.size() < maxBatch ? queue.poll() : null;
                }
                activeCount = batch.size();
                if (!batch.isEmpty()) step(batch);
                activeCount = batch.size();
            }
        }
        finishAll(batch, FinishReason.CANCELLED);
        drain();
    }

    /** Starts a request: dropped if cancelled or out of time while waiting, else prefilled and given its first token. */
    private void admit(Ticket t, List<Active> batch, int layers) {
        t.startedNanos = System.nanoTime();
        if (closed || t.cancelled()) {
            t.result.complete(empty(t.job, FinishReason.CANCELLED));
            return;
        }
        if (System.nanoTime() - t.job.deadlineNanos() > 0) {
            t.result.complete(empty(t.job, FinishReason.TIMEOUT));
            return;
        }
        Active a = new Active(t, layers);
        try {
            int[] prompt = t.job.prompt();
            // as Generator: nothing to generate, or a prompt the positions cannot hold, ends with "length"
            if (a.out.length == 0 || prompt.length > model.config().maxPositionEmbeddings()) {
                finish(a, FinishReason.LENGTH);
                return;
            }
            float[] logits;
            try (PointerScope scope = Torch.scope()) {
                long[] ids = new long[prompt.length];
                for (int i = 0; i < prompt.length; i++) ids[i] = prompt[i];
                MiniMindLM.Hidden h = model.forward(Torch.longsLike(model.anyParameter(), ids, 1, ids.length), null, null, a.cache);
                logits = Torch.toFloats(model.logits(h.states().narrow(1, prompt.length - 1, 1)));
            }
            FinishReason reason = accept(a, logits, 0);
            if (reason != null) finish(a, reason);
            else batch.add(a);
        } catch (Throwable e) { // a failed prefill fails its request, never the worker
            a.cache.close();
            t.result.completeExceptionally(e);
        }
    }

    /** One forward pass over every active sequence, then each samples its next token. */
    private void step(List<Active> batch) {
        int maxPos = model.config().maxPositionEmbeddings();
        // as Generator: a sequence whose next token would not fit the positions ends with "length"
        for (Iterator<Active> it = batch.iterator(); it.hasNext(); ) {
            Active a = it.next();
            if (a.cache.length() + 1 > maxPos) {
                it.remove();
                finish(a, FinishReason.LENGTH);
            }
        }
        if (batch.isEmpty()) return;
        int b = batch.size();
        if (b > largestBatch) largestBatch = b;
        decodeSteps++;
        float[] logits;
        try (PointerScope scope = Torch.scope()) {
            long[] ids = new long[b];
            KvCache[] caches = new KvCache[b];
            for (int r = 0; r < b; r++) {
                ids[r] = batch.get(r).next;
                caches[r] = batch.get(r).cache;
            }
            MiniMindLM.Hidden h = model.decode(Torch.longsLike(model.anyParameter(), ids, b, 1), caches);
            logits = Torch.toFloats(model.logits(h.states()));
        } catch (Throwable e) { // a native failure mid-step: every sequence in it fails, the worker goes on
            for (Active a : batch) {
                a.cache.close();
                a.ticket.result.completeExceptionally(e);
            }
            batch.clear();
            return;
        }
        int vocab = logits.length / b;
        List<Active> done = new ArrayList<>();
        for (int r = 0; r < b; r++) {
            Active a = batch.get(r);
            FinishReason reason = accept(a, logits, r * vocab);
            if (reason != null) done.add(a);
        }
        for (Active a : done) {
            batch.remove(a);
        }
        for (Active a : done) finish(a, a.reasonAtEnd);
    }

    /**
     * Samples the sequence's next token from its row of logits and reports it; returns why the sequence ends, or
     * null if it goes on. The checks are {@link Generator#generate}'s, in its order.
     */
    private FinishReason accept(Active a, float[] logits, int offset) {
        Job j = a.ticket.job;
        float[] row = offset == 0 && logits.length == model.config().vocabSize() ? logits
                : Arrays.copyOfRange(logits, offset, offset + model.config().vocabSize());
        int next = j.sampling().next(row, a.seen, a.count, a.random);
        a.seen[a.count++] = next;
        a.out[a.n++] = next;
        FinishReason reason = null;
        if (next == j.eosId()) reason = FinishReason.STOP;
        else if (closed || a.ticket.cancelled()) reason = FinishReason.CANCELLED;
        else if (System.nanoTime() - j.deadlineNanos() > 0) reason = FinishReason.TIMEOUT;
        else if (a.ticket.onToken != null && !a.ticket.onToken.test(next)) reason = FinishReason.CANCELLED;
        else if (a.n >= j.maxNewTokens()) reason = FinishReason.LENGTH;
        a.next = next;
        a.reasonAtEnd = reason;
        return reason;
    }

    private static void finish(Active a, FinishReason reason) {
        a.cache.close();
        a.ticket.result.complete(a.result(reason));
    }

    private static void finishAll(List<Active> batch, FinishReason reason) {
        for (Active a : batch) finish(a, reason);
        batch.clear();
    }

    private void drain() {
        for (Ticket t; (t = queue.poll()) != null; ) if (t != STOP) t.result.complete(empty(t.job, FinishReason.CANCELLED));
        activeCount = 0;
    }

    private static Generator.Result empty(Job j, FinishReason reason) {
        return new Generator.Result(new int[0], j.prompt().length, reason, 0);
    }

    /** Stops the running jobs at their next token, cancels the queued ones, and returns once the worker has ended. */
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
                worker.join(TimeUnit.SECONDS.toMillis(1));
            } catch (InterruptedException e) {
                interrupted = true; // the model must not be freed under a running forward: keep waiting
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
