package minimind4j.data;

/**
 * One training sample before padding: token ids truncated to max_seq_len and their labels (-100 where not
 * supervised). {@code index} is the sample's position in its dataset, {@code text} the rendered text and
 * {@code fullLength} the number of tokens before truncation. A preference pair (DPO) is its chosen sequence with the
 * rejected one in {@code rejected}; null for every other sample.
 */
public record Sample(int index, String text, int[] ids, int[] labels, int fullLength, Sample rejected) {

    public Sample(int index, String text, int[] ids, int[] labels, int fullLength) {
        this(index, text, ids, labels, fullLength, null);
    }

    /** A preference pair: {@code chosen} with {@code rejected} attached. */
    public static Sample pair(Sample chosen, Sample rejected) {
        return new Sample(chosen.index, chosen.text, chosen.ids, chosen.labels, chosen.fullLength, rejected);
    }

    /** A sample that was not truncated. */
    public Sample(int index, String text, int[] ids, int[] labels) {
        this(index, text, ids, labels, ids.length);
    }

    public boolean truncated() { return fullLength > ids.length; }

    public int supervised() {
        int n = 0;
        // the model shifts: label 0 is never a target
        for (int i = 1; i < labels.length; i++) if (labels[i] != LossMask.IGNORE) n++;
        return n;
    }
}
