package minimind4j.serve;

import minimind4j.generate.Generator;
import org.eclipse.jetty.http.HttpHeader;

import java.util.concurrent.Executor;

/**
 * A reply sent whole when generation ends: one {@code chat.completion} object, or the error that replaces it. No
 * thread waits for it meanwhile; the answer is written on an HTTP thread.
 */
final class PlainReply implements ChatCompletions.Sink {
    private final ChatCompletions path;
    private final Executor threads;

    PlainReply(ChatCompletions path, Executor threads) {
        this.path = path;
        this.threads = threads;
    }

    /** The text stays in the generation's {@link ReplyText} until the end. */
    @Override
    public void piece(String text) {}

    @Override
    public void ended(ChatCompletions.Generation g, Generator.Result result, Throwable failure) {
        threads.execute(() -> answer(g, result, failure)); // off the generation thread, which serves the whole batch
    }

    /** Nothing to do until the end. */
    @Override
    public void respond(ChatCompletions.Generation g) {}

    private void answer(ChatCompletions.Generation g, Generator.Result r, Throwable failure) {
        Exchange ex = g.ex();
        g.watch().stop();
        if (g.watch().readAhead()) ex.response().getHeaders().put(HttpHeader.CONNECTION, "close");
        try {
            ChatCompletions.Ending end = path.settle(g, r, failure);
            if (end.error() != null) throw end.error();
            g.text().finish();
            AssistantReply reply = AssistantReply.parse(g.text().text());
            ex.sendJson(200, OpenAiWire.completion(g.p().header(), reply, end.reason(), r.promptTokens(), r.tokens().length));
        } catch (ApiError e) {
            ex.sendError(e);
        } catch (Throwable e) {
            ex.failed(e);
        }
    }
}
