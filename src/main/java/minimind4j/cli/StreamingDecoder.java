package minimind4j.cli;

import minimind4j.tokenizer.MiniMindTokenizer;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * Prints generated text as tokens arrive. Byte-level BPE tokens can end inside a UTF-8 character, so the text is
 * re-decoded from the reply's start and only the new, complete part is printed (the replacement character that
 * marks an unfinished sequence is held back).
 */
final class StreamingDecoder {
    private final MiniMindTokenizer tok;
    private final PrintStream out;
    private int[] ids = new int[64];
    private int n;
    private int printed;

    StreamingDecoder(MiniMindTokenizer tok, PrintStream out) {
        this.tok = tok;
        this.out = out;
    }

    /** Adds a token and returns the newly printable text (also printed, when an output was given). */
    String accept(int id) {
        if (n == ids.length) ids = Arrays.copyOf(ids, n * 2);
        ids[n++] = id;
        String text = tok.decode(Arrays.copyOf(ids, n), true);
        int end = text.length();
        while (end > printed && text.charAt(end - 1) == '\uFFFD') end--;
        if (end <= printed) return "";
        String fresh = text.substring(printed, end);
        printed = end;
        if (out != null) {
            out.print(fresh);
            out.flush();
        }
        return fresh;
    }

    String finish() {
        String text = tok.decode(Arrays.copyOf(ids, n), true);
        String rest = text.length() > printed ? text.substring(printed) : "";
        printed = text.length();
        if (out != null && !rest.isEmpty()) out.print(rest);
        return rest;
    }
}
