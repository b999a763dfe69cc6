package minimind4j.data;

import java.util.List;

/**
 * Samples right-padded into one [rows, cols] block of ids and labels (pad labels -100). {@code cols} is either
 * max_seq_len (MiniMind's layout) or the longest sample in the batch: causal attention makes the two give the same
 * loss, the second without computing on padding. A batch of preference pairs has 2B rows: the B chosen sequences,
 * then the B rejected ones (MiniMind's torch.cat([x_chosen, x_rejected])).
 */
public record Batch(long[] ids, long[] labels, int rows, int cols, long tokens, long supervised, int[] sampleIndices) {

    public static Batch of(List<Sample> samples, int padId, int padTo) {
        if (!samples.isEmpty() && samples.get(0).rejected() != null) {
            List<Sample> rows = new java.util.ArrayList<>(samples);
            for (Sample s : samples) rows.add(s.rejected());
            samples = rows;
        }
        int rows = samples.size();
        int cols = padTo;
        if (cols <= 0) for (Sample s : samples) cols = Math.max(cols, s.ids().length);
        cols = Math.max(cols, 2);
        long[] ids = new long[rows * cols], labels = new long[rows * cols];
        int[] index = new int[rows];
        long tokens = 0, supervised = 0;
        for (int r = 0; r < rows; r++) {
            Sample s = samples.get(r);
            index[r] = s.index();
            int n = Math.min(s.ids().length, cols);
            for (int c = 0; c < cols; c++) {
                ids[r * cols + c] = c < n ? s.ids()[c] : padId;
                labels[r * cols + c] = c < n ? s.labels()[c] : LossMask.IGNORE;
            }
            tokens += n;
            for (int c = 1; c < n; c++) if (s.labels()[c] != LossMask.IGNORE) supervised++;
        }
        return new Batch(ids, labels, rows, cols, tokens, supervised, index);
    }
}
