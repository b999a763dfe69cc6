package minimind4j.data;

import java.util.Arrays;

/**
 * MiniMind's SFT label rule (SFTDataset.generate_labels): every label is -100 except inside assistant replies, which
 * run from just after the token sequence of {@code bos + "assistant\n"} up to and including the token sequence of
 * {@code eos + "\n"}. A reply cut by truncation is supervised to the end of the sequence.
 */
public final class LossMask {
    public static final int IGNORE = -100;

    private final int[] replyStart;
    private final int[] replyEnd;

    /** @param replyStart tokens of {@code bos_token + "assistant\n"}; @param replyEnd tokens of {@code eos_token + "\n"} */
    public LossMask(int[] replyStart, int[] replyEnd) {
        if (replyStart.length == 0 || replyEnd.length == 0) throw new IllegalArgumentException("empty marker sequence");
        this.replyStart = replyStart.clone();
        this.replyEnd = replyEnd.clone();
    }

    public int[] labels(int[] ids) {
        return labels(ids, null);
    }

    /**
     * Labels where the k-th reply is supervised only when {@code supervisedReplies[k]} (replies past the array's end
     * are supervised, as MiniMind supervises every one); null supervises all.
     */
    public int[] labels(int[] ids, boolean[] supervisedReplies) {
        int[] labels = new int[ids.length];
        Arrays.fill(labels, IGNORE);
        int i = 0, reply = 0;
        while (i < ids.length) {
            if (!matches(ids, i, replyStart)) {
                i++;
                continue;
            }
            int start = i + replyStart.length;
            int end = start;
            while (end < ids.length && !matches(ids, end, replyEnd)) end++;
            int stop = Math.min(end + replyEnd.length, ids.length);
            boolean on = supervisedReplies == null || reply >= supervisedReplies.length || supervisedReplies[reply];
            reply++;
            if (on) for (int j = start; j < stop; j++) labels[j] = ids[j];
            i = end < ids.length ? end + replyEnd.length : ids.length;
        }
        return labels;
    }

    private static boolean matches(int[] ids, int at, int[] seq) {
        if (at + seq.length > ids.length) return false;
        for (int k = 0; k < seq.length; k++) if (ids[at + k] != seq[k]) return false;
        return true;
    }
}
