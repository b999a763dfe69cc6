package minimind4j.serve;

import minimind4j.generate.Generator;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;

import java.io.IOException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A reply streamed as server-sent events: a role chunk, then content (and reasoning, and tool-call) deltas as the text
 * comes, then the finish chunk (or the error that ends the stream), the usage if asked for, and {@code [DONE]}. The
 * request's HTTP thread writes it all; the generation thread only queues pieces of text, so a slow client never
 * slows the batch.
 */
final class StreamedReply implements ChatCompletions.Sink {
    /** How long a waiting stream stays silent before a keep-alive comment. */
    private static final long KEEP_ALIVE_MILLIS = 2000;

    /** The end of generation, as queued for the writing thread. */
    private record Finished(Generator.Result result, Throwable error) {}

    /** Pieces of text (String) and, last, the {@link Finished}. */
    private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private final ChatCompletions path;
    private final long writeTimeoutMillis;

    /** @param writeTimeoutMillis the idle timeout: a write that waits longer means the client is gone */
    StreamedReply(ChatCompletions path, long writeTimeoutMillis) {
        this.path = path;
        this.writeTimeoutMillis = writeTimeoutMillis;
    }

    @Override
    public void piece(String text) { events.add(text); }

    @Override
    public void ended(ChatCompletions.Generation g, Generator.Result result, Throwable failure) {
        events.add(new Finished(result, failure));
    }

    /** Writes the whole stream from this thread. */
    @Override
    public void respond(ChatCompletions.Generation g) {
        Exchange ex = g.ex();
        ChatCompletions.Prepared p = g.p();
        Response res = ex.response();
        res.setStatus(200);
        res.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        res.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        ex.corsHeaders();
        Deltas out = new Deltas(new SseWriter(res, writeTimeoutMillis), p.header(),
                p.request().openThinking() ? new ThinkingSplitter() : null,
                p.request().tools() != null ? new ToolCallStream() : null);
        boolean finished = false;
        try {
            out.sse().data(OpenAiWire.chunk(p.header(), OpenAiWire.roleDelta(), null));
            while (true) {
                Object event = events.poll(KEEP_ALIVE_MILLIS, TimeUnit.MILLISECONDS);
                if (event == null) {
                    out.sse().keepAlive();
                } else if (event instanceof String piece) {
                    out.text(piece);
                } else {
                    Finished f = (Finished) event;
                    out.text(g.text().finish());
                    boolean calledTools = out.finish();
                    finished = true;
                    g.watch().stop();
                    ChatCompletions.Ending end = path.settle(g, f.result(), f.error());
                    if (end.error() != null) {
                        out.sse().data(end.error().body());
                    } else {
                        Generator.Result r = end.result();
                        out.sse().data(OpenAiWire.chunk(p.header(), OpenAiWire.JSON.createObjectNode(),
                                end.reason().orToolCalls(calledTools)));
                        if (p.request().includeUsage())
                            out.sse().data(OpenAiWire.usageChunk(p.header(), r.promptTokens(), r.tokens().length));
                    }
                    out.sse().done();
                    out.sse().end();
                    ex.callback().succeeded();
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ex.callback().failed(e);
        } catch (IOException e) {
            // the client went away (or stopped reading) mid-stream
            ex.callback().failed(e);
        } finally {
            // a write failed (client gone) or the server is stopping: stop generating for nobody
            if (!finished) {
                g.ticket().cancel();
                g.watch().stop();
                g.ticket().result().thenAccept(r -> path.log(p, r));
            }
        }
    }

    /**
     * Reply text as delta chunks: reasoning split from content when the request opened thinking, tool-call spans
     * taken out of the content and sent as tool_calls deltas when it has tools. Empty deltas are not sent.
     */
    private record Deltas(SseWriter sse, OpenAiWire.Header header, ThinkingSplitter thinking, ToolCallStream tools) {

        void text(String piece) throws IOException {
            if (piece.isEmpty()) return;
            if (thinking != null) {
                ThinkingSplitter.Delta d = thinking.accept(piece);
                send("reasoning_content", d.reasoning());
                content(d.content());
            } else {
                content(piece);
            }
        }

        /** Sends what the splitters still hold; whether the reply called tools. */
        boolean finish() throws IOException {
            if (thinking != null) {
                ThinkingSplitter.Delta rest = thinking.finish();
                send("reasoning_content", rest.reasoning());
                content(rest.content());
            }
            if (tools == null) return false;
            send("content", tools.finish());
            return tools.calls() > 0;
        }

        private void content(String content) throws IOException {
            if (tools == null) {
                send("content", content);
                return;
            }
            ToolCallStream.Delta d = tools.accept(content);
            send("content", d.content());
            if (!d.calls().isEmpty()) sse.data(OpenAiWire.chunk(header, OpenAiWire.toolCallsDelta(d.calls()), null));
        }

        private void send(String field, String text) throws IOException {
            if (!text.isEmpty()) sse.data(OpenAiWire.chunk(header, OpenAiWire.textDelta(field, text), null));
        }
    }
}
