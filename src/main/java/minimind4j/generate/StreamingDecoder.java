package minimind4j.generate;

import minimind4j.tokenizer.MiniMindTokenizer;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * Turns generated tokens into text as they arrive. Byte-level BPE tokens can end inside a UTF-8 character, so a
 * piece is only released once it decodes completely: the replacement character that marks an unfinished sequence
 * at the end is held back until later tokens finish it (or {@link #finish} gives up on it).
 *
 * <p>Byte-level decoding is concatenative at character boundaries, so after every fully released piece the window
 * restarts: each token costs one decode of the few tokens since the last boundary, not of the whole reply.
 * Concatenating every returned piece gives exactly {@code tok.decode(allTokens, true)}.
 */
public final class StreamingDecoder {
    private final MiniMindTokenizer tok;
    private final PrintStream out;
    private int[] ids = new int[64];
    private int n;
    /** Tokens before {@code start} are fully released; {@code released} chars of the window's text are too. */
    private int start;
    private int released;

    /** @param out where released text is also printed, or null to only return it */
    public StreamingDecoder(MiniMindTokenizer tok, PrintStream out) {
        this.tok = tok;
        this.out = out;
    }

    /** Adds a token and returns the newly complete text (possibly empty). */
    public String accept(int id) {
        if (n == ids.length) ids = Arrays.copyOf(ids, n * 2);
        ids[n++] = id;
        String text = tok.decode(Arrays.copyOfRange(ids, start, n), true);
        int end = text.length();
        while (end > released && text.charAt(end - 1) == '\uFFFD') end--;
        String fresh = end > released ? text.substring(released, end) : "";
        if (end == text.length()) {
            start = n;
            released = 0;
        } else {
            released = Math.max(released, end);
        }
        emit(fresh);
        return fresh;
    }

    /** Releases whatever is still held back (an unfinished character becomes U+FFFD, as the full decode has it). */
    public String finish() {
        String text = tok.decode(Arrays.copyOfRange(ids, start, n), true);
        String rest = text.length() > released ? text.substring(released) : "";
        start = n;
        released = 0;
        emit(rest);
        return rest;
    }

    private void emit(String s) {
        if (out != null && !s.isEmpty()) {
            out.print(s);
            out.flush();
        }
    }
}
