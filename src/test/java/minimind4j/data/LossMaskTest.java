package minimind4j.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * LossMask on hand-written ids. Pretend vocabulary: 1 = {@code <|im_start|>}, 2 = {@code <|im_end|>},
 * 5 = "user", 7 = "assistant", 9 = "\n", 20.. = prompt text, 30.. = reply text. The reply header is [1, 7, 9] and
 * the reply end [2, 9], as {@code bos + "assistant\n"} and {@code eos + "\n"} tokenize in MiniMind's tokenizers.
 */
class LossMaskTest {
    private static final int X = LossMask.IGNORE;
    private final LossMask mask = new LossMask(new int[]{1, 7, 9}, new int[]{2, 9});

    @Test
    void aPromptWithoutReplyIsNeverSupervised() {
        // <s>user\n hi <e>\n : no header anywhere
        assertArrayEquals(new int[]{X, X, X, X, X, X}, mask.labels(new int[]{1, 5, 9, 20, 2, 9}));
        assertArrayEquals(new int[0], mask.labels(new int[0]));
    }

    @Test
    void aReplyIsSupervisedFromAfterTheHeaderThroughItsEnd() {
        // user turn (0-5) unsupervised; header 1,7,9 (6-8) unsupervised; reply 30,31 and the end 2,9 (9-12) supervised
        int[] ids = {1, 5, 9, 20, 2, 9, 1, 7, 9, 30, 31, 2, 9};
        assertArrayEquals(new int[]{X, X, X, X, X, X, X, X, X, 30, 31, 2, 9}, mask.labels(ids));
    }

    @Test
    void everyReplyOfAMultiTurnConversation() {
        // user 0-5, header 6-8, reply 30 + end at 9-11; user 12-17 (unsupervised again), header 18-20, reply 31,32
        // + end at 21-24; a header right after a reply (25-27) and its reply 33 + end at 28-30
        int[] ids = {1, 5, 9, 20, 2, 9, 1, 7, 9, 30, 2, 9, 1, 5, 9, 21, 2, 9, 1, 7, 9, 31, 32, 2, 9, 1, 7, 9, 33, 2, 9};
        int[] want = {X, X, X, X, X, X, X, X, X, 30, 2, 9, X, X, X, X, X, X, X, X, X, 31, 32, 2, 9, X, X, X, 33, 2, 9};
        assertArrayEquals(want, mask.labels(ids));
    }

    @Test
    void aReplyCutByTruncationIsSupervisedToTheEnd() {
        // no end marker after 30,31: supervised to the last token
        assertArrayEquals(new int[]{X, X, X, 30, 31}, mask.labels(new int[]{1, 7, 9, 30, 31}));
        // cut between <|im_end|> and "\n": the end marker is incomplete, so the reply runs on through the 2
        assertArrayEquals(new int[]{X, X, X, 30, 2}, mask.labels(new int[]{1, 7, 9, 30, 2}));
        // cut inside the header: [1, 7] is not the header, nothing is supervised
        assertArrayEquals(new int[]{X, X, X, X, X, X, X, X}, mask.labels(new int[]{1, 5, 9, 20, 2, 9, 1, 7}));
        // cut right after the header: an empty reply, nothing to supervise
        assertArrayEquals(new int[]{X, X, X}, mask.labels(new int[]{1, 7, 9}));
    }

    @Test
    void onlyTheFullEndSequenceEndsAReply() {
        // 2 followed by 40 (not "\n") is reply text; the reply ends at the later 2,9
        assertArrayEquals(new int[]{X, X, X, 30, 2, 40, 2, 9}, mask.labels(new int[]{1, 7, 9, 30, 2, 40, 2, 9}));
    }

    @Test
    void insideAReplyOnlyTheEndIsLookedFor() {
        // a second header inside a reply is reply text (MiniMind's generate_labels scans for the end only)
        assertArrayEquals(new int[]{X, X, X, 1, 7, 9, 30, 2, 9}, mask.labels(new int[]{1, 7, 9, 1, 7, 9, 30, 2, 9}));
        // an empty reply still supervises its end marker: the model learns to stop
        assertArrayEquals(new int[]{X, X, X, 2, 9}, mask.labels(new int[]{1, 7, 9, 2, 9}));
    }

    @Test
    void markersMustNotBeEmpty() {
        assertThrows(IllegalArgumentException.class, () -> new LossMask(new int[0], new int[]{2}));
        assertThrows(IllegalArgumentException.class, () -> new LossMask(new int[]{1}, new int[0]));
    }
}
