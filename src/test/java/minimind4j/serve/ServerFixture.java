package minimind4j.serve;

import minimind4j.TestPaths;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;

/**
 * The serve tests' one setup: a tiny random model (32 hidden, 2 layers, 4/2 heads, seed 5) with MiniMind2's tokenizer,
 * and the servers started on it. {@link #close} closes any server still open, then the model and tokenizer, in the
 * order the server requires (it does not own them).
 */
final class ServerFixture implements AutoCloseable {
    private final MiniMindLM model;
    private final MiniMindTokenizer tok;
    private final Deque<ChatServer> servers = new ArrayDeque<>();

    private ServerFixture(MiniMindLM model, MiniMindTokenizer tok) {
        this.model = model;
        this.tok = tok;
    }

    /** The tiny model and the tokenizer; a tokenizer that fails to load frees the model. */
    static ServerFixture tinyModel() {
        MiniMindLM model = MiniMindLM.init(ModelConfig.minimind2(32, 2, false).withHeads(4, 2), 5);
        try {
            return new ServerFixture(model, MiniMindTokenizer.load(TestPaths.minimind2()));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    MiniMindLM model() { return model; }

    MiniMindTokenizer tok() { return tok; }

    /** A server of the model; on loopback when the options say 127.0.0.1 (every serve test's do). */
    ChatServer start(ChatServer.Options options, Consumer<ChatServer.Completion> log) throws IOException {
        ChatServer s = ChatServer.start(model, tok, options, log);
        servers.push(s);
        return s;
    }

    @Override
    public void close() {
        // closing a server twice is harmless: a test may have closed its own already
        while (!servers.isEmpty()) servers.pop().close();
        model.close();
        tok.close();
    }
}
