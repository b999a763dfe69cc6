package minimind4j.serve;

/**
 * For streamed replies with open_thinking: the prompt ends inside {@code <think>}, so text up to {@code </think>} is
 * reasoning ({@code delta.reasoning_content}) and the rest is content, with the newlines right after the tag dropped
 * (MiniMind's generate_stream_response). Unlike MiniMind's, a tag split across two pieces is still recognised: text
 * that could be the start of the tag is held back until the next piece says whether it is.
 */
final class ThinkingSplitter {
    private static final String END = "</think>";

    /** What one piece of text adds to each channel; either may be empty. */
    record Delta(String reasoning, String content) {}

    private boolean thinking = true;
    private boolean trimNewlines;
    private String pending = "";

    Delta accept(String piece) {
        if (!thinking) return new Delta("", afterTag(piece));
        String text = pending + piece;
        int end = text.indexOf(END);
        if (end >= 0) {
            thinking = false;
            pending = "";
            trimNewlines = true;
            return new Delta(text.substring(0, end), afterTag(text.substring(end + END.length())));
        }
        int keep = partialTagSuffix(text);
        pending = text.substring(text.length() - keep);
        return new Delta(text.substring(0, text.length() - keep), "");
    }

    /** Text held back at the end of the reply was reasoning after all. */
    Delta finish() {
        String rest = pending;
        pending = "";
        return new Delta(rest, "");
    }

    private String afterTag(String text) {
        if (!trimNewlines) return text;
        int i = 0;
        while (i < text.length() && text.charAt(i) == '\n') i++;
        if (i < text.length()) trimNewlines = false;
        return text.substring(i);
    }

    /** Length of the longest suffix of {@code text} that is a proper prefix of the closing tag. */
    private static int partialTagSuffix(String text) {
        for (int k = Math.min(END.length() - 1, text.length()); k > 0; k--) {
            if (text.endsWith(END.substring(0, k))) return k;
        }
        return 0;
    }
}
