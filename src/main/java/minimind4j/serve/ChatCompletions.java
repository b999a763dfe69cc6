package minimind4j.serve;

import minimind4j.generate.FinishReason;
import minimind4j.generate.Generator;
import minimind4j.generate.Sampling;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * {@code POST /v1/chat/completions}: one path for plain and streamed replies. The body is read without a thread,
 * then on an HTTP thread the request is parsed, templated and tokenized ({@link #prepare}), submitted to the
 * {@link GenerationQueue} and generated; a {@link Sink} is what differs, {@link PlainReply} answering once at the end,
 * {@link StreamedReply} writing server-sent events as the text comes.
 */
final class ChatCompletions {

    /** A request made ready for the worker: what it asked, the job, and the header its response objects carry. */
    record Prepared(ChatRequest request, GenerationQueue.Job job, OpenAiWire.Header header) {
        String id() { return header.id(); }
    }

    /** One request under way: its exchange, its text so far, its place in the queue and the watch on its client. */
    record Generation(Exchange ex, Prepared p, ReplyText text, GenerationQueue.Ticket ticket,
                      ConnectionGuard.DisconnectWatch watch) {}

    /** How a generation ended as the client is told: a finish reason, or the error that replaces the reply. */
    record Ending(Generator.Result result, FinishReason reason, ApiError error) {}

    /** Where a reply goes as it is generated. */
    interface Sink {
        /** On the generation thread: text that is final (cut at stop strings, whole characters); never empty. */
        void piece(String text);

        /**
         * Generation ended, with its result (a stop string's "stop" already set) or a failure; on whichever thread
         * completed it, so this must not block.
         */
        void ended(Generation g, Generator.Result result, Throwable failure);

        /** On the request's HTTP thread once generation is under way: a stream writes from here until the end. */
        void respond(Generation g);
    }

    private final MiniMindTokenizer tokenizer;
    private final ChatServer.Options options;
    private final ChatServer.Limits limits;
    private final int contextLimit;
    private final int eosId;
    private final GenerationQueue queue;
    private final Executor threads;
    private final Consumer<ChatServer.Completion> log;
    private final SecureRandom seeds = new SecureRandom();

    ChatCompletions(MiniMindTokenizer tokenizer, ChatServer.Options options, int contextLimit, GenerationQueue queue,
                    Executor threads, Consumer<ChatServer.Completion> log) {
        this.tokenizer = tokenizer;
        this.options = options;
        this.limits = options.limits();
        this.contextLimit = contextLimit;
        this.eosId = tokenizer.eosId();
        this.queue = queue;
        this.threads = threads;
        this.log = log;
    }

    /** Reads the body asynchronously (a slow client holds no thread), then answers on an HTTP thread. */
    void handle(Exchange ex) throws ApiError {
        Request req = ex.request();
        RequestGuards.requireJson(req);
        long limit = options.maxBodyBytes();
        long declared = req.getLength();
        if (declared > limit) throw tooLarge(declared);
        long deadline = limits.requestTimeoutMillis() > 0
                ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limits.requestTimeoutMillis()) : Long.MAX_VALUE;
        Content.Source.asByteArrayAsync(req, (int) Math.min(limit, Integer.MAX_VALUE - 16))
                .orTimeout(limits.bodyTimeoutMillis(), TimeUnit.MILLISECONDS)
                .whenCompleteAsync((body, failure) -> {
                    try {
                        if (failure != null) throw bodyFailure(ex, failure);
                        ChatRequest request = ChatRequest.parse(OpenAiWire.parseRequestBody(body));
                        generate(ex, prepare(request, deadline));
                    } catch (ApiError e) {
                        ex.sendError(e);
                    } catch (Throwable e) {
                        ex.failed(e);
                    }
                }, threads);
    }

    private ApiError bodyFailure(Exchange ex, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof TimeoutException) {
            return new ApiError(408, "invalid_request_error", "The request body did not arrive within "
                    + limits.bodyTimeoutMillis() / 1000.0 + " s.", null, "request_timeout").withHeader("Connection", "close");
        }
        if (Request.getContentBytesRead(ex.request()) > options.maxBodyBytes() || cause instanceof IllegalArgumentException
                || String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT).contains("too large")) {
            return tooLarge(-1);
        }
        return new ApiError(400, "invalid_request_error", "The request body could not be read: " + cause.getMessage(),
                null, null).withHeader("Connection", "close");
    }

    private ApiError tooLarge(long length) {
        // the unread rest of the body is not worth draining
        return new ApiError(413, "invalid_request_error", "The request body" + (length >= 0 ? " (" + length + " bytes)" : "")
                + " is larger than this server accepts (" + options.maxBodyBytes() + " bytes, --max_body_bytes).",
                null, "request_too_large").withHeader("Connection", "close");
    }

    /** Renders the prompt as MiniMind's script does (chat template, generation prompt, tools) and checks its length. */
    private Prepared prepare(ChatRequest r, long deadline) throws ApiError {
        String prompt;
        try {
            prompt = tokenizer.applyChatTemplate(r.messages(), r.tools(), true, Map.of("open_thinking", r.openThinking()));
        } catch (RuntimeException e) { // the template raised (raise_exception) or could not read the messages
            throw ApiError.invalid("The chat template could not render these messages: " + e.getMessage(), "messages",
                    "invalid_value");
        }
        int[] ids = tokenizer.encode(prompt);
        if (limits.maxPromptTokens() > 0 && ids.length > limits.maxPromptTokens()) {
            throw ApiError.invalid("The prompt is " + ids.length + " tokens; this server accepts at most "
                    + limits.maxPromptTokens() + " (--max_prompt_tokens). Please shorten the messages.", "messages",
                    "context_length_exceeded");
        }
        int maxNew;
        if (r.maxTokens() != null) {
            // a max_tokens the context cannot hold is refused (as OpenAI does); one that fits but exceeds the
            // server's per-reply cap is lowered to the cap
            if ((long) ids.length + r.maxTokens() > contextLimit) throw contextExceeded(ids.length, r.maxTokens());
            maxNew = Math.min(r.maxTokens(), options.maxNewTokens());
        } else {
            if (ids.length + 1 > contextLimit) throw contextExceeded(ids.length, 1);
            maxNew = Math.min(options.maxNewTokens(), contextLimit - ids.length);
        }
        Sampling sampling = new Sampling(r.temperature(), r.topP(), r.topK(), r.repetitionPenalty());
        long seed = r.seed() != null ? r.seed() : seeds.nextLong();
        byte[] idBytes = new byte[12];
        seeds.nextBytes(idBytes);
        OpenAiWire.Header header = new OpenAiWire.Header("chatcmpl-" + HexFormat.of().formatHex(idBytes),
                System.currentTimeMillis() / 1000, options.modelId());
        return new Prepared(r, new GenerationQueue.Job(ids, maxNew, sampling, eosId, seed, deadline), header);
    }

    private ApiError contextExceeded(int promptTokens, int completionTokens) {
        return ApiError.invalid("This model's maximum context length is " + contextLimit + " tokens. However, you"
                + " requested " + ((long) promptTokens + completionTokens) + " tokens (" + promptTokens + " in the messages, "
                + completionTokens + " in the completion). Please reduce the length of the messages or completion.",
                "messages", "context_length_exceeded");
    }

    /** Submits the job and hands its text and its end to the sink the request asked for. */
    private void generate(Exchange ex, Prepared p) throws ApiError {
        Sink sink = p.request().stream() ? new StreamedReply(this, limits.idleTimeoutMillis()) : new PlainReply(this, threads);
        ReplyText text = new ReplyText(tokenizer, p.request().stop());
        GenerationQueue.Ticket ticket = submit(p.job(), id -> {
            String piece = text.accept(id);
            if (!piece.isEmpty()) sink.piece(piece);
            return !text.stopped();
        });
        // watches for the client leaving while nothing is written; a response calls stop() before its last writes
        ConnectionGuard.DisconnectWatch watch = ConnectionGuard.DisconnectWatch.start(
                ex.request().getConnectionMetaData().getConnection().getEndPoint(), ticket::cancel);
        Generation g = new Generation(ex, p, text, ticket, watch);
        ticket.result().whenComplete((r, e) -> sink.ended(g, r == null ? null : text.withReason(r), e));
        sink.respond(g);
    }

    private GenerationQueue.Ticket submit(GenerationQueue.Job job, IntPredicate onToken) throws ApiError {
        try {
            return queue.submit(job, onToken);
        } catch (GenerationQueue.Full full) {
            // OpenAI's 429: its SDKs wait Retry-After and try again
            throw new ApiError(429, "requests",
                    "The server is busy: " + queue.active() + " requests generating and " + queue.waiting()
                            + " waiting (--max_batch " + limits.maxBatch() + ", --max_queue " + limits.maxQueue()
                            + "). Retry shortly.", null, "rate_limit_exceeded").withHeader("Retry-After", "1");
        }
    }

    /**
     * What the client is told of a generation's end, and the log entry (none for a failure, which goes to stderr):
     * a cancelled or timed-out generation becomes an error, any other keeps its finish reason.
     */
    Ending settle(Generation g, Generator.Result r, Throwable failure) {
        if (failure != null) {
            System.err.println("minimind serve: generation failed: " + failure);
            return new Ending(null, null, ApiError.server("Generation failed: " + failure.getMessage()));
        }
        log(g.p(), r);
        FinishReason reason = r.reason();
        return switch (reason) {
            case CANCELLED -> new Ending(r, reason, new ApiError(503, "server_error", g.ticket().cancelled()
                    ? "The request was cancelled." : "The server is shutting down; the request was not completed.",
                    null, null));
            case TIMEOUT -> new Ending(r, reason, new ApiError(504, "server_error", "The request did not finish within"
                    + " --request_timeout (" + limits.requestTimeoutMillis() / 1000.0 + " s; " + r.tokens().length
                    + " tokens generated). Ask for fewer tokens or retry when the server is less busy.", null, "timeout"));
            default -> new Ending(r, reason, null);
        };
    }

    /** One finished generation to the request log; a log that throws does not fail the request. */
    void log(Prepared p, Generator.Result r) {
        try {
            log.accept(new ChatServer.Completion(p.id(), p.request().stream(), r.promptTokens(), r.tokens().length,
                    r.reason(), r.seconds()));
        } catch (RuntimeException e) {
            System.err.println("minimind serve: request log failed: " + e);
        }
    }
}
