package minimind4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Server-sent events on a response, written blocking from the thread that streams: each write waits at most the
 * idle timeout, so a client that stops reading counts as gone (an IOException) instead of holding the thread.
 */
final class SseWriter {
    private final Response res;
    private final long timeoutMillis;

    SseWriter(Response res, long timeoutMillis) {
        this.res = res;
        this.timeoutMillis = timeoutMillis;
    }

    /** One event: {@code data: <json>}. */
    void data(JsonNode json) throws IOException {
        raw("data: " + OpenAiWire.text(json) + "\n\n");
    }

    /** A comment line: clients ignore it, and it keeps proxies and the idle timeout from closing a quiet stream. */
    void keepAlive() throws IOException {
        raw(": keep-alive\n\n");
    }

    /** OpenAI's end-of-stream marker. */
    void done() throws IOException {
        raw("data: [DONE]\n\n");
    }

    /** Ends the response. */
    void end() throws IOException {
        write(true, ByteBuffer.allocate(0));
    }

    private void raw(String s) throws IOException {
        write(false, ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
    }

    private void write(boolean last, ByteBuffer buf) throws IOException {
        Callback.Completable done = new Callback.Completable();
        res.write(last, buf, done);
        try {
            done.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("client gone: " + e, e);
        }
    }
}
