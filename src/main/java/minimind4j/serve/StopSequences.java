package minimind4j.serve;

import java.util.List;

/**
 * OpenAI's {@code stop}: the reply ends before the first stop string to appear, which is not returned. "First" is the
 * one that is complete earliest as the text grows (the longer one when two end together), the only order a server
 * that stops as text arrives can honour; it does not depend on how the text is split into pieces.
 * Text arrives in pieces as tokens are decoded, so a tail that could still grow into a stop string is held back
 * until the next piece settles it; concatenating every released piece gives the reply cut at the stop string (or,
 * if none occurs, the whole reply).
 */
final class StopSequences {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    StopSequences(List<String> stops) {
        this.stops = stops == null ? List.of() : stops;
    }

    boolean stopped() { return stopped; }

    /** Takes the next piece of text and returns what can be released now (possibly empty). */
    String accept(String piece) {
        if (stopped || piece.isEmpty()) return "";
        if (stops.isEmpty()) return piece;
        held.append(piece);
        int cut = -1, end = Integer.MAX_VALUE;
        for (String s : stops) {
            int at = held.indexOf(s);  // a string's earliest occurrence is also its earliest end
            if (at >= 0 && (at + s.length() < end || at + s.length() == end && at < cut)) {
                end = at + s.length();
                cut = at;
            }
        }
        if (cut >= 0) {
            stopped = true;
            String out = held.substring(0, cut);
            held.setLength(0);
            return out;
        }
        int keep = longestPrefixTail();
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    /** The end of generation without a stop string: whatever was held back is plain text after all. */
    String finish() {
        String out = stopped ? "" : held.toString();
        held.setLength(0);
        return out;
    }

    /** Length of the longest tail of the held text that is a proper prefix of some stop string. */
    private int longestPrefixTail() {
        int best = 0;
        String h = held.toString();
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, h.length()); len > best; len--) {
                if (h.regionMatches(h.length() - len, s, 0, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
