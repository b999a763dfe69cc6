package minimind4j.data;

import minimind4j.UserError;

import java.util.Arrays;
import java.util.Locale;

/**
 * Which measured records {@code --truncation} keeps, and the one line that says what happened: how many were
 * truncated, how many dropped (nothing left to learn from, over-length under {@code drop}, template failures). SFT
 * samples and DPO pairs follow the same rule; only the words differ.
 *
 * @param records the kept record numbers, or null when every record is kept
 * @param summary the line to print, or null when nothing happened
 */
record Kept(int[] records, String summary) {
    /**
     * A freshly opened dataset with {@code --truncation} applied (every record rendered and tokenized once, on all
     * cores) and what was truncated or dropped told to {@code log}; the dataset is closed if that fails.
     */
    static <D extends TokenDataset> D measured(D ds, java.util.function.Function<Measurement, String> applyTruncation,
                                                java.util.function.Consumer<String> log) {
        try {
            String summary = applyTruncation.apply(Measurement.of(ds, 0, log));
            if (summary != null) log.accept(summary);
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
        return ds;
    }

    /**
     * @param unit       "sample" or "pair"
     * @param lostAll    why a record with nothing left is dropped ("no supervised token is left")
     * @param lostTokens what such records lose, for the nothing-left error ("supervised token")
     */
    static Kept apply(Measurement m, JsonlIndex index, Truncation truncation, int maxSeqLen, String unit, String lostAll, String lostTokens) {
        int n = m.size(), truncated = 0, lost = 0, overLength = 0, failed = 0;
        String firstFailure = null, firstLost = null;
        int[] kept = new int[n];
        int k = 0;
        for (int rec = 0; rec < n; rec++) {
            if (m.failure()[rec] != null) {
                if (failed++ == 0) firstFailure = m.failure()[rec];
                continue;
            }
            boolean over = m.truncated(rec);
            if (over && truncation == Truncation.ERROR)
                throw new UserError(index.location(rec) + ": " + m.fullLength()[rec] + " tokens, longer than --max_seq_len "
                        + maxSeqLen + " (raise --max_seq_len, or pass --truncation truncate or drop)");
            if (over) truncated++;
            if (m.lostAll(rec)) {
                if (lost++ == 0) firstLost = index.location(rec);
                continue;
            }
            if (over && truncation == Truncation.DROP) {
                overLength++;
                continue;
            }
            kept[k++] = rec;
        }
        if (k == 0) throw new UserError(index.name() + ": no " + unit + " is left to train on (" + (failed > 0 ? firstFailure
                : lost + " lose every " + lostTokens + " at --max_seq_len " + maxSeqLen) + ")");
        int[] records = k < n ? Arrays.copyOf(kept, k) : null;
        if (truncated == 0 && failed == 0 && lost == 0) return new Kept(records, null);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s: %d of %d %ss longer than --max_seq_len %d",
                index.name(), truncated, n, unit, maxSeqLen));
        sb.append(switch (truncation) {
            case TRUNCATE -> " (truncated)";
            case DROP -> " (dropped: " + overLength + ")";
            case ERROR -> "";
        });
        if (lost > 0) sb.append(String.format(Locale.ROOT, "; %d dropped because %s (first: %s)", lost, lostAll, firstLost));
        if (failed > 0) sb.append(String.format(Locale.ROOT, "; %d dropped because the chat template fails on them (first: %s)", failed, firstFailure));
        sb.append(String.format(Locale.ROOT, "; training on %d %ss", k, unit));
        return new Kept(records, sb.toString());
    }
}
