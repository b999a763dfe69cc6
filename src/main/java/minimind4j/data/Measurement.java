package minimind4j.data;

import minimind4j.UserError;

import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Every sample of a dataset made as training makes it (rendered, tokenized, truncated, labelled), on all cores: its
 * length before and after truncation, its supervised tokens, or why it could not be made. What {@code data check}
 * reports and what SFT's {@code --truncation} decides on. For a preference pair (DPO) the lengths are its longer
 * side's and the supervised tokens its poorer side's: a pair is truncated when either side is and trains on nothing
 * when either side has no reply token left.
 */
public record Measurement(int[] fullLength, int[] length, int[] supervised, String[] failure, double seconds) {
    public int size() { return fullLength.length; }

    public boolean truncated(int i) { return failure[i] == null && fullLength[i] > length[i]; }

    /** No supervised token left after truncation (or none to begin with): the sample trains on nothing. */
    public boolean lostAll(int i) { return failure[i] == null && supervised[i] == 0; }

    /** Measures samples {@code 0..size-1} of {@code ds} for {@code epoch}; progress every ~10% of large sets to {@code log}. */
    public static Measurement of(TokenDataset ds, int epoch, Consumer<String> log) {
        int n = ds.size();
        int[] full = new int[n], len = new int[n], sup = new int[n];
        String[] failure = new String[n];
        AtomicInteger done = new AtomicInteger();
        long start = System.nanoTime();
        int every = Math.max(50_000, n / 10);
        ForkJoinPool pool = new ForkJoinPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
        try {
            pool.submit(() -> IntStream.range(0, n).parallel().forEach(i -> {
                try {
                    Sample s = ds.get(i, epoch);
                    full[i] = s.fullLength();
                    len[i] = s.ids().length;
                    sup[i] = s.supervised();
                    Sample r = s.rejected();
                    if (r != null) {  // a preference pair: truncated if either side is, empty if either side is
                        full[i] = Math.max(full[i], r.fullLength());
                        len[i] = Math.max(len[i], r.ids().length);
                        sup[i] = Math.min(sup[i], r.supervised());
                    }
                } catch (UserError e) {
                    failure[i] = e.getMessage();
                }
                int d = done.incrementAndGet();
                if (log != null && n >= 100_000 && d % every == 0) {
                    double secs = (System.nanoTime() - start) / 1e9;
                    log.accept(String.format(Locale.ROOT, "  rendering and tokenizing: %d/%d samples (%.0f/s, ~%.0fs left)",
                            d, n, d / secs, (n - d) / (d / secs)));
                }
            })).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while measuring the data");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return new Measurement(full, len, sup, failure, (System.nanoTime() - start) / 1e9);
    }
}
