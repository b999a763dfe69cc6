package minimind4j.serve;

import minimind4j.generate.FinishReason;
import minimind4j.generate.Generator;
import minimind4j.generate.StreamingDecoder;
import minimind4j.tokenizer.MiniMindTokenizer;

import java.util.List;

/**
 * A reply's text as it is generated: decoded token by token (on the generation thread, so a stop string ends
 * generation at the token that completes it) and cut at the request's stop strings.
 */
final class ReplyText {
    private final StreamingDecoder decoder;
    private final StopSequences stops;
    private final StringBuilder text = new StringBuilder();

    ReplyText(MiniMindTokenizer tokenizer, List<String> stop) {
        this.decoder = new StreamingDecoder(tokenizer, null);
        this.stops = new StopSequences(stop);
    }

    /** The text this token completes (often "", while a character or a possible stop string is held back). */
    String accept(int id) {
        String s = stops.accept(decoder.accept(id));
        text.append(s);
        return s;
    }

    /** After the last token: what was still held back. */
    String finish() {
        String s = stops.accept(decoder.finish());
        s += stops.finish();
        text.append(s);
        return s;
    }

    boolean stopped() { return stops.stopped(); }

    /** All the text so far. */
    String text() { return text.toString(); }

    /** The generator reports a stop string as its callback saying "no more"; to the client it is "stop". */
    Generator.Result withReason(Generator.Result r) {
        return stopped() ? new Generator.Result(r.tokens(), r.promptTokens(), FinishReason.STOP, r.seconds()) : r;
    }
}
