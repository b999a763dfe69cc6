package minimind4j.data;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Expected SFT labels worked out on the rendered text rather than on token sequences: each assistant reply runs from
 * right after {@code <|im_start|>assistant\n} up to and including the next {@code <|im_end|>\n} (to the end of the
 * text if there is none), a token is supervised when its first byte lies in a reply, and tokens are placed in the
 * text by their bytes ({@link TokenBytes}). Nothing here uses LossMask or the marker token sequences.
 */
final class ReplySpans {
    static final String HEADER = "<|im_start|>assistant\n";
    static final String END = "<|im_end|>\n";

    private ReplySpans() {}

    /** [start, end) byte ranges of the assistant replies in {@code text}. */
    static List<int[]> of(String text) {
        List<int[]> spans = new ArrayList<>();
        int from = 0;
        for (int at = text.indexOf(HEADER); at >= 0; at = text.indexOf(HEADER, from)) {
            int start = at + HEADER.length();
            int close = text.indexOf(END, start);
            int end = close < 0 ? text.length() : close + END.length();
            spans.add(new int[]{utf8Length(text, start), utf8Length(text, end)});
            from = end;
        }
        return spans;
    }

    /**
     * The labels {@code ids} (the tokens of {@code text}, possibly truncated) should get. Also checks that the ids
     * spell the text and that every reply boundary falls between two tokens: a token straddling one would belong
     * half to the prompt and half to the reply.
     */
    static int[] expectedLabels(String text, int[] ids, TokenBytes tokens) {
        return expectedLabels(text, ids, tokens, null);
    }

    /** As above, with the k-th reply left unsupervised where {@code supervised[k]} is false (null: all supervised). */
    static int[] expectedLabels(String text, int[] ids, TokenBytes tokens, boolean[] supervised) {
        byte[] textBytes = text.getBytes(StandardCharsets.UTF_8);
        byte[] idBytes = tokens.concat(ids);
        assertArrayEquals(Arrays.copyOf(textBytes, idBytes.length), idBytes, "the ids do not spell the rendered text");
        int[] starts = tokens.starts(ids);
        int covered = starts[ids.length];
        int[] labels = new int[ids.length];
        Arrays.fill(labels, LossMask.IGNORE);
        List<int[]> spans = of(text);
        for (int r = 0; r < spans.size(); r++) {
            int[] span = spans.get(r);
            if (supervised != null && r < supervised.length && !supervised[r]) continue;
            for (int boundary : span) {
                if (boundary < covered)
                    assertTrue(Arrays.binarySearch(starts, boundary) >= 0, "a token straddles the reply boundary at byte " + boundary);
            }
            for (int k = 0; k < ids.length; k++) if (starts[k] >= span[0] && starts[k] < span[1]) labels[k] = ids[k];
        }
        return labels;
    }

    private static int utf8Length(String text, int chars) {
        return text.substring(0, chars).getBytes(StandardCharsets.UTF_8).length;
    }
}
