package minimind4j.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import minimind4j.generate.Generator;
import minimind4j.generate.Sampling;
import minimind4j.generate.StreamingDecoder;
import minimind4j.model.MiniMindLM;
import minimind4j.tokenizer.MiniMindTokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * An OpenAI-compatible chat server for one MiniMind model, as MiniMind's scripts/serve_openai_api.py:
 * {@code POST /v1/chat/completions} (plain or streamed as server-sent events), {@code GET /v1/models},
 * {@code GET /health}. Built on the JDK's HTTP server, so it adds no dependency.
 *
 * <p>Concurrency: HTTP threads (a small pool) read, validate, template and tokenize requests; generation happens on
 * one worker thread ({@link GenerationQueue}), one request at a time in arrival order. Requests never share state
 * with each other, so concurrent requests get exactly what they would get alone; they just wait their turn.
 * A streamed request whose client disconnects is cancelled at its next token (or before it starts).
 *
 * <p>The server does not own the model or tokenizer: close the server first, then them.
 */
public final class ChatServer implements AutoCloseable {

    /**
     * @param host         address to bind (loopback by default: the API has no authentication)
     * @param port         port, 0 for any free one
     * @param maxBodyBytes larger request bodies get 413
     * @param maxNewTokens the most tokens one reply may have; a larger max_tokens is lowered to it
     * @param maxContext   prompt + reply tokens allowed per request; 0 = the model's max positions
     * @param modelId      the name /v1/models and responses report
     */
    public record Options(String host, int port, long maxBodyBytes, int maxNewTokens, int maxContext, String modelId) {
        public Options {
            if (maxBodyBytes < 1) throw new IllegalArgumentException("max_body_bytes must be at least 1");
            if (maxNewTokens < 1) throw new IllegalArgumentException("max_new_tokens must be at least 1");
            if (maxContext < 0) throw new IllegalArgumentException("max_seq_len must be >= 0 (0 = the model's)");
        }
    }

    /** One finished generation, for the log (and for tests): finish reason stop, length or cancelled. */
    public record Completion(String id, boolean stream, int promptTokens, int completionTokens, String finishReason,
                             double seconds) {}

    /** How long a waiting stream stays silent before a keep-alive comment (which also notices a departed client). */
    private static final long KEEP_ALIVE_MILLIS = 2000;
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final MiniMindTokenizer tokenizer;
    private final Options options;
    private final Consumer<Completion> log;
    private final int contextLimit;
    private final int eosId;
    private final long startedSeconds = System.currentTimeMillis() / 1000;
    private final SecureRandom seeds = new SecureRandom();
    private final GenerationQueue queue;
    private final ExecutorService httpThreads;
    private final HttpServer http;

    private ChatServer(MiniMindLM model, MiniMindTokenizer tokenizer, Options options, Consumer<Completion> log)
            throws IOException {
        this.tokenizer = tokenizer;
        this.options = options;
        this.log = log != null ? log : c -> {};
        int positions = model.config().maxPositionEmbeddings();
        this.contextLimit = options.maxContext() > 0 ? Math.min(options.maxContext(), positions) : positions;
        this.eosId = tokenizer.eosId();
        this.queue = new GenerationQueue(new Generator(model));
        AtomicInteger n = new AtomicInteger();
        this.httpThreads = Executors.newFixedThreadPool(16, r -> {
            Thread t = new Thread(r, "minimind-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(options.host()), options.port()), 0);
        } catch (IOException e) {
            queue.close();
            httpThreads.shutdownNow();
            throw e;
        }
        this.http = server;
        http.createContext("/", this::handle);
        http.setExecutor(httpThreads);
        http.start();
    }

    /** Binds and starts serving; {@code log} (may be null) sees each finished generation. */
    public static ChatServer start(MiniMindLM model, MiniMindTokenizer tokenizer, Options options,
                                   Consumer<Completion> log) throws IOException {
        return new ChatServer(model, tokenizer, options, log);
    }

    public int port() { return http.getAddress().getPort(); }

    /** The base URL, e.g. {@code http://127.0.0.1:8998}. */
    public String url() {
        InetAddress a = http.getAddress().getAddress();
        String host = a.getHostAddress();
        if (host.contains(":")) host = "[" + host + "]";
        return "http://" + host + ":" + port();
    }

    /** The most prompt + reply tokens a request may ask for. */
    public int contextLimit() { return contextLimit; }

    /**
     * Stops: the running generation ends at its next token, queued ones are cancelled, connections close. Returns
     * once the worker has stopped, so the model may be freed right after.
     */
    @Override
    public void close() {
        queue.close();
        http.stop(1);
        httpThreads.shutdownNow();
        try {
            httpThreads.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------------------------------------ routing

    private void handle(HttpExchange ex) {
        try (ex) {
            try {
                route(ex);
            } catch (ApiError e) {
                if (ex.getResponseCode() == -1) {
                    try {
                        sendJson(ex, e.status(), e.body());
                    } catch (IOException ignored) {
                        // client gone
                    }
                }
            } catch (IOException e) {
                // the client went away mid-exchange; nobody is left to answer
            } catch (Throwable e) {
                // a bug or a native failure: log it here, give the client one line and keep serving
                System.err.println("minimind serve: " + ex.getRequestMethod() + " " + ex.getRequestURI() + " failed: " + e);
                if (ex.getResponseCode() == -1) {
                    try {
                        sendJson(ex, 500, ApiError.server("The server had an error processing the request.").body());
                    } catch (IOException ignored) {
                        // client gone
                    }
                }
            }
        }
    }

    private void route(HttpExchange ex) throws IOException, ApiError {
        String path = ex.getRequestURI().getPath();
        switch (path) {
            case "/v1/chat/completions" -> {
                requireMethod(ex, "POST");
                chatCompletions(ex);
            }
            case "/v1/models" -> {
                requireMethod(ex, "GET");
                ObjectNode list = JSON.createObjectNode();
                list.put("object", "list");
                list.putArray("data").add(modelCard());
                sendJson(ex, 200, list);
            }
            case "/health" -> {
                requireMethod(ex, "GET");
                sendJson(ex, 200, JSON.createObjectNode().put("status", "ok"));
            }
            default -> {
                if (path.equals("/v1/models/" + options.modelId())) {
                    requireMethod(ex, "GET");
                    sendJson(ex, 200, modelCard());
                    return;
                }
                throw new ApiError(404, "invalid_request_error",
                        "Invalid URL (" + ex.getRequestMethod() + " " + path + ")", null, "not_found");
            }
        }
    }

    private static void requireMethod(HttpExchange ex, String method) throws ApiError {
        if (!ex.getRequestMethod().equals(method)) {
            ex.getResponseHeaders().set("Allow", method);
            throw new ApiError(405, "invalid_request_error", "Method " + ex.getRequestMethod() + " is not allowed for "
                    + ex.getRequestURI().getPath() + "; use " + method + ".", null, "method_not_allowed");
        }
    }

    private ObjectNode modelCard() {
        ObjectNode m = JSON.createObjectNode();
        m.put("id", options.modelId());
        m.put("object", "model");
        m.put("created", startedSeconds);
        m.put("owned_by", "minimind4j");
        return m;
    }

    // ------------------------------------------------------------------------------------------------ chat completions

    /** A request made ready for the worker: its ids, the job, and the names its response carries. */
    private record Prepared(ChatRequest request, GenerationQueue.Job job, String id, long created) {}

    private void chatCompletions(HttpExchange ex) throws IOException, ApiError {
        JsonNode body = parseJson(readBody(ex));
        ChatRequest request = ChatRequest.parse(body);
        Prepared p = prepare(request);
        if (request.stream()) stream(ex, p);
        else complete(ex, p);
    }

    private byte[] readBody(HttpExchange ex) throws IOException, ApiError {
        long limit = options.maxBodyBytes();
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            long length;
            try {
                length = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                throw ApiError.invalid("Content-Length is not a number.", null, null);
            }
            if (length > limit) throw tooLarge(ex, length);
        }
        // also counted while reading: a chunked body has no Content-Length to check up front
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        InputStream in = ex.getRequestBody();
        for (int r; (r = in.read(buf)) != -1; ) {
            out.write(buf, 0, r);
            if (out.size() > limit) throw tooLarge(ex, -1);
        }
        return out.toByteArray();
    }

    private ApiError tooLarge(HttpExchange ex, long length) {
        ex.getResponseHeaders().set("Connection", "close"); // the unread rest of the body is not worth draining
        return new ApiError(413, "invalid_request_error", "The request body" + (length >= 0 ? " (" + length + " bytes)" : "")
                + " is larger than this server accepts (" + options.maxBodyBytes() + " bytes, --max_body_bytes).",
                null, "request_too_large");
    }

    private static JsonNode parseJson(byte[] body) throws ApiError {
        try {
            return JSON.readTree(body);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            throw ApiError.invalid("We could not parse the JSON body of your request: " + e.getOriginalMessage() + where
                    + ". The API expects a JSON object.", null, null);
        } catch (IOException e) {
            throw ApiError.invalid("We could not read the JSON body of your request.", null, null);
        }
    }

    /** Renders the prompt as MiniMind's script does (chat template, generation prompt, tools) and checks its length. */
    private Prepared prepare(ChatRequest r) throws ApiError {
        String prompt;
        try {
            prompt = tokenizer.applyChatTemplate(r.messages(), r.tools(), true, Map.of("open_thinking", r.openThinking()));
        } catch (RuntimeException e) { // the template raised (raise_exception) or could not read the messages
            throw ApiError.invalid("The chat template could not render these messages: " + e.getMessage(), "messages",
                    "invalid_value");
        }
        int[] ids = tokenizer.encode(prompt);
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
        return new Prepared(r, new GenerationQueue.Job(ids, maxNew, sampling, eosId, seed),
                "chatcmpl-" + HexFormat.of().formatHex(idBytes), System.currentTimeMillis() / 1000);
    }

    private ApiError contextExceeded(int promptTokens, int completionTokens) {
        return ApiError.invalid("This model's maximum context length is " + contextLimit + " tokens. However, you"
                + " requested " + ((long) promptTokens + completionTokens) + " tokens (" + promptTokens + " in the messages, "
                + completionTokens + " in the completion). Please reduce the length of the messages or completion.",
                "messages", "context_length_exceeded");
    }

    /**
     * A reply's text as it is generated: decoded token by token (on the generation thread, so a stop string ends
     * generation at once) and cut at the request's stop strings.
     */
    private static final class ReplyText {
        private final StreamingDecoder decoder;
        private final StopSequences stops;
        private final StringBuilder text = new StringBuilder();

        ReplyText(MiniMindTokenizer tokenizer, List<String> stop) {
            this.decoder = new StreamingDecoder(tokenizer, null);
            this.stops = new StopSequences(stop);
        }

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

        /** The generator reports a stop string as its callback saying "no more"; to the client it is "stop". */
        Generator.Result withReason(Generator.Result r) {
            return stopped() ? new Generator.Result(r.tokens(), r.promptTokens(), "stop", r.seconds()) : r;
        }
    }

    private void complete(HttpExchange ex, Prepared p) throws IOException, ApiError {
        ReplyText text = new ReplyText(tokenizer, p.request().stop());
        GenerationQueue.Ticket ticket = queue.submit(p.job(), id -> {
            text.accept(id);
            return !text.stopped();
        });
        Generator.Result r = text.withReason(await(ticket));
        logCompletion(p, false, r);
        if (r.finishReason().equals("cancelled")) throw unavailable();
        text.finish();
        AssistantReply reply = AssistantReply.parse(text.text.toString(), p.created());
        ObjectNode message = JSON.createObjectNode();
        message.put("role", "assistant");
        message.put("content", reply.content());
        if (reply.reasoningContent() != null && !reply.reasoningContent().isEmpty())
            message.put("reasoning_content", reply.reasoningContent());
        if (!reply.toolCalls().isEmpty()) message.set("tool_calls", JSON.valueToTree(reply.toolCalls()));
        ObjectNode choice = JSON.createObjectNode();
        choice.put("index", 0);
        choice.set("message", message);
        choice.putNull("logprobs");
        choice.put("finish_reason", reply.toolCalls().isEmpty() ? r.finishReason() : "tool_calls");
        ObjectNode response = header(p, "chat.completion");
        response.putArray("choices").add(choice);
        response.set("usage", usage(r));
        sendJson(ex, 200, response);
    }

    private static Generator.Result await(GenerationQueue.Ticket ticket) throws ApiError {
        try {
            return ticket.result().get();
        } catch (ExecutionException e) {
            System.err.println("minimind serve: generation failed: " + e.getCause());
            throw ApiError.server("Generation failed: " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            ticket.cancel();
            Thread.currentThread().interrupt();
            throw unavailable();
        }
    }

    private static ApiError unavailable() {
        return new ApiError(503, "server_error", "The server is shutting down; the request was not completed.", null, null);
    }

    /** What a streaming handler waits for: a piece of text, or the end. */
    private record Finished(Generator.Result result, Throwable error) {}

    private void stream(HttpExchange ex, Prepared p) throws IOException {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        GenerationQueue.Ticket ticket = null;
        boolean finished = false;
        try {
            ObjectNode first = JSON.createObjectNode().put("role", "assistant").put("content", "");
            send(out, chunk(p, first, null));
            ReplyText reply = new ReplyText(tokenizer, p.request().stop());
            ticket = queue.submit(p.job(), id -> {
                String piece = reply.accept(id);
                if (!piece.isEmpty()) events.add(piece);
                return !reply.stopped();
            });
            ticket.result().whenComplete((r, e) -> events.add(new Finished(r == null ? null : reply.withReason(r), e)));
            ThinkingSplitter thinking = p.request().openThinking() ? new ThinkingSplitter() : null;
            StringBuilder text = new StringBuilder();
            while (true) {
                Object event = events.poll(KEEP_ALIVE_MILLIS, TimeUnit.MILLISECONDS);
                if (event == null) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } else if (event instanceof String piece) {
                    sendText(out, p, piece, thinking, text);
                } else {
                    Finished f = (Finished) event;
                    sendText(out, p, reply.finish(), thinking, text);
                    if (thinking != null) sendDelta(out, p, thinking.finish());
                    finished = true;
                    if (f.error() != null || f.result().finishReason().equals("cancelled")) {
                        if (f.error() != null) System.err.println("minimind serve: generation failed: " + f.error());
                        else logCompletion(p, true, f.result());
                        ApiError e = f.error() != null ? ApiError.server("Generation failed: " + f.error().getMessage()) : unavailable();
                        send(out, e.body());
                    } else {
                        logCompletion(p, true, f.result());
                        finish(out, p, f.result(), text.toString());
                    }
                    out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            // a write failed (client gone) or the server is stopping: stop generating for nobody
            if (!finished && ticket != null) {
                ticket.cancel();
                GenerationQueue.Ticket t = ticket;
                t.result().thenAccept(r -> logCompletion(p, true, r));
            }
        }
    }

    private void sendText(OutputStream out, Prepared p, String piece, ThinkingSplitter thinking, StringBuilder text)
            throws IOException {
        if (piece.isEmpty()) return;
        text.append(piece);
        if (thinking != null) sendDelta(out, p, thinking.accept(piece));
        else send(out, chunk(p, JSON.createObjectNode().put("content", piece), null));
    }

    private void sendDelta(OutputStream out, Prepared p, ThinkingSplitter.Delta d) throws IOException {
        if (!d.reasoning().isEmpty()) send(out, chunk(p, JSON.createObjectNode().put("reasoning_content", d.reasoning()), null));
        if (!d.content().isEmpty()) send(out, chunk(p, JSON.createObjectNode().put("content", d.content()), null));
    }

    /** The closing chunks: tool calls parsed from the whole reply (as MiniMind's script), finish reason, usage. */
    private void finish(OutputStream out, Prepared p, Generator.Result r, String text) throws IOException {
        List<Map<String, Object>> calls = AssistantReply.parse(text, p.created()).toolCalls();
        if (!calls.isEmpty()) {
            ArrayNode indexed = JSON.createArrayNode();
            for (int i = 0; i < calls.size(); i++) {
                ObjectNode c = JSON.createObjectNode().put("index", i); // streamed tool calls carry their index
                c.setAll((ObjectNode) JSON.valueToTree(calls.get(i)));
                indexed.add(c);
            }
            ObjectNode delta = JSON.createObjectNode();
            delta.set("tool_calls", indexed);
            send(out, chunk(p, delta, null));
        }
        send(out, chunk(p, JSON.createObjectNode(), calls.isEmpty() ? r.finishReason() : "tool_calls"));
        if (p.request().includeUsage()) {
            ObjectNode last = header(p, "chat.completion.chunk");
            last.putArray("choices");
            last.set("usage", usage(r));
            send(out, last);
        }
    }

    private ObjectNode chunk(Prepared p, ObjectNode delta, String finishReason) {
        ObjectNode choice = JSON.createObjectNode();
        choice.put("index", 0);
        choice.set("delta", delta);
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        ObjectNode c = header(p, "chat.completion.chunk");
        c.putArray("choices").add(choice);
        return c;
    }

    private ObjectNode header(Prepared p, String object) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", p.id());
        o.put("object", object);
        o.put("created", p.created());
        o.put("model", options.modelId());
        return o;
    }

    /** Token counts; completion_tokens counts every generated token, the end-of-sequence token included. */
    private static ObjectNode usage(Generator.Result r) {
        ObjectNode u = JSON.createObjectNode();
        u.put("prompt_tokens", r.promptTokens());
        u.put("completion_tokens", r.tokens().length);
        u.put("total_tokens", r.promptTokens() + r.tokens().length);
        return u;
    }

    private void logCompletion(Prepared p, boolean stream, Generator.Result r) {
        try {
            log.accept(new Completion(p.id(), stream, r.promptTokens(), r.tokens().length, r.finishReason(), r.seconds()));
        } catch (RuntimeException e) {
            System.err.println("minimind serve: request log failed: " + e);
        }
    }

    private static void send(OutputStream out, JsonNode json) throws IOException {
        out.write(("data: " + JSON.writeValueAsString(json) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void sendJson(HttpExchange ex, int status, JsonNode json) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(json);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
