package minimind4j.serve;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class StopSequencesTest {
    /** Feeds {@code pieces}, then finishes; returns everything released. */
    private static String run(StopSequences s, List<String> pieces) {
        StringBuilder out = new StringBuilder();
        for (String p : pieces) out.append(s.accept(p));
        return out.append(s.finish()).toString();
    }

    @Test
    void aStopStringSplitAcrossPiecesIsCaughtAndNeverReleased() {
        StopSequences s = new StopSequences(List.of("world"));
        assertEquals("hello ", s.accept("hello wo"), "'wo' could start the stop string: held back");
        assertEquals("", s.accept("rld! more"));
        assertTrue(s.stopped());
        assertEquals("", s.accept("ignored after the stop"));
        assertEquals("", s.finish());
    }

    @Test
    void heldTextIsReleasedOnceItCannotBeAStopStringAnyMore() {
        StopSequences s = new StopSequences(List.of("\n\n", "END"));
        assertEquals("a", s.accept("a\n"));
        assertEquals("\nb", s.accept("b"), "'\\n' followed by 'b' is plain text");
        assertEquals("", s.accept("EN"));
        assertEquals("EN", s.finish(), "generation ended: the held prefix was text after all");
        assertFalse(s.stopped());
    }

    @Test
    void theEarliestOfSeveralStopStringsWins() {
        assertEquals("x", run(new StopSequences(List.of("cd", "bc")), List.of("xbcd")));
        assertEquals("ab", run(new StopSequences(List.of("abcd", "c")), List.of("abcd")), "'c' is complete before 'abcd'");
        assertEquals("x", run(new StopSequences(List.of("b", "ab")), List.of("xab")), "ending together: the longer wins");
        assertEquals("", run(new StopSequences(List.of("ab")), List.of("ab")));
        assertEquals("plain", run(new StopSequences(List.of()), List.of("pl", "ain")));
    }

    /** Against the definition, over random texts cut into random pieces: the text before the first stop string to end. */
    @Test
    void anySplitGivesTheTextCutAtTheFirstStopString() {
        Random r = new Random(11);
        for (int trial = 0; trial < 3000; trial++) {
            String text = randomText(r, r.nextInt(30));
            List<String> stops = new ArrayList<>();
            for (int k = 1 + r.nextInt(3); k > 0; k--) stops.add(randomText(r, 1 + r.nextInt(3)));
            int cut = text.length();
            for (int e = 1; e <= text.length(); e++) {
                String grown = text.substring(0, e);
                int best = -1;
                for (String s : stops) if (grown.endsWith(s)) best = Math.max(best, s.length());
                if (best >= 0) {
                    cut = e - best;
                    break;
                }
            }
            List<String> pieces = new ArrayList<>();
            for (int i = 0; i < text.length(); ) {
                int n = Math.min(text.length() - i, 1 + r.nextInt(4));
                pieces.add(text.substring(i, i + n));
                i += n;
            }
            StopSequences s = new StopSequences(stops);
            assertEquals(text.substring(0, cut), run(s, pieces), (text + " " + stops + " " + pieces).replace("\n", "\\n"));
            assertEquals(cut < text.length(), s.stopped(), text + " " + stops);
        }
    }

    private static String randomText(Random r, int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append("ab\n".charAt(r.nextInt(3)));
        return b.toString();
    }
}
