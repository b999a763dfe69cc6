package minimind4j.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import minimind4j.generate.Generator;
import minimind4j.generate.Sampling;
import minimind4j.generate.StreamingDecoder;
import minimind4j.model.MiniMindLM;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * An OpenAI-compatible chat server for one MiniMind model, as MiniMind's scripts/serve_openai_api.py:
 * {@code POST /v1/chat/completions} (plain or streamed as server-sent events), {@code GET /v1/models},
 * {@code GET /health}, and a chat page at {@code /}.
 *
 * <p>HTTP is Jetty 12: asynchronous reads (a slow or idle client costs a socket, not a thread), idle, header and
 * body timeouts, a connection limit, keep-alive. Every answer the server gives, Jetty's own protocol errors
 * included, is OpenAI's JSON error body when it is an error.
 *
 * <p>Generation: requests are parsed, templated and tokenized on HTTP threads, then decoded together by one worker
 * ({@link GenerationQueue}: continuous batching, each request with its own KV cache and sampling). A request whose
 * client has gone, streamed or not, is stopped at its next token, or dropped before it starts.
 *
 * <p>The server does not own the model or tokenizer: close the server first, then them.
 */
public final class ChatServer implements AutoCloseable {

    /**
     * @param host         address to bind (loopback by default)
     * @param port         port, 0 for any free one
     * @param maxBodyBytes larger request bodies get 413
     * @param maxNewTokens the most tokens one reply may have; a larger max_tokens is lowered to it
     * @param maxContext   prompt + reply tokens allowed per request; 0 = the model's max positions
     * @param modelId      the name /v1/models and responses report
     * @param limits       batching, queue, time and connection limits
     * @param access       API key and cross-origin rules
     */
    public record Options(String host, int port, long maxBodyBytes, int maxNewTokens, int maxContext, String modelId,
                          Limits limits, Access access) {
        public Options {
            if (maxBodyBytes < 1) throw new IllegalArgumentException("max_body_bytes must be at least 1");
            if (maxNewTokens < 1) throw new IllegalArgumentException("max_new_tokens must be at least 1");
            if (maxContext < 0) throw new IllegalArgumentException("max_seq_len must be >= 0 (0 = the model's)");
            if (limits == null) limits = Limits.DEFAULT;
            if (access == null) access = Access.OPEN;
        }

        /** Default limits, no API key, no cross-origin access. */
        public Options(String host, int port, long maxBodyBytes, int maxNewTokens, int maxContext, String modelId) {
            this(host, port, maxBodyBytes, maxNewTokens, maxContext, modelId, Limits.DEFAULT, Access.OPEN);
        }

        public Options withLimits(Limits l) { return new Options(host, port, maxBodyBytes, maxNewTokens, maxContext, modelId, l, access); }

        public Options withAccess(Access a) { return new Options(host, port, maxBodyBytes, maxNewTokens, maxContext, modelId, limits, a); }
    }

    /**
     * @param maxBatch             sequences decoded together (1 = one request at a time)
     * @param maxQueue             requests waiting for a batch slot; more get 429 with Retry-After
     * @param maxPromptTokens      longest prompt accepted (0 = whatever the context holds)
     * @param requestTimeoutMillis a request's time from arrival to its last token (0 = none)
     * @param maxConnections       open connections at most; more wait in the accept queue
     * @param idleTimeoutMillis    a connection silent this long (no bytes either way) is closed
     * @param headerTimeoutMillis  a request head must be complete this long after the connection opened or its
     *                             previous response ended
     * @param bodyTimeoutMillis    a request body must be complete this long after its head
     */
    public record Limits(int maxBatch, int maxQueue, int maxPromptTokens, long requestTimeoutMillis, int maxConnections,
                         long idleTimeoutMillis, long headerTimeoutMillis, long bodyTimeoutMillis) {
        public static final Limits DEFAULT = new Limits(32, 64, 0, 600_000, 256, 60_000, 10_000, 30_000);

        public Limits {
            if (maxBatch < 1) throw new IllegalArgumentException("max_batch must be at least 1");
            if (maxQueue < 0) throw new IllegalArgumentException("max_queue must be >= 0");
            if (maxPromptTokens < 0) throw new IllegalArgumentException("max_prompt_tokens must be >= 0");
            if (requestTimeoutMillis < 0) throw new IllegalArgumentException("request_timeout must be >= 0");
            if (maxConnections < 1) throw new IllegalArgumentException("max_connections must be at least 1");
            if (idleTimeoutMillis < 1 || headerTimeoutMillis < 1 || bodyTimeoutMillis < 1)
                throw new IllegalArgumentException("timeouts must be positive");
        }

        public Limits withBatch(int batch, int queue) {
            return new Limits(batch, queue, maxPromptTokens, requestTimeoutMillis, maxConnections, idleTimeoutMillis,
                    headerTimeoutMillis, bodyTimeoutMillis);
        }

        public Limits withPrompt(int promptTokens, long requestMillis) {
            return new Limits(maxBatch, maxQueue, promptTokens, requestMillis, maxConnections, idleTimeoutMillis,
                    headerTimeoutMillis, bodyTimeoutMillis);
        }

        public Limits withConnections(int connections, long idleMillis, long headerMillis, long bodyMillis) {
            return new Limits(maxBatch, maxQueue, maxPromptTokens, requestTimeoutMillis, connections, idleMillis,
                    headerMillis, bodyMillis);
        }
    }

    /**
     * @param apiKey      required as {@code Authorization: Bearer <key>} on /v1/*, or null for none
     * @param corsOrigins origins (scheme://host[:port], or "*") whose pages may call the API; empty = none
     */
    public record Access(String apiKey, List<String> corsOrigins) {
        public static final Access OPEN = new Access(null, List.of());

        public Access {
            if (apiKey != null && apiKey.isEmpty()) apiKey = null;
            corsOrigins = corsOrigins == null ? List.of() : List.copyOf(corsOrigins);
        }

        boolean allowsOrigin(String origin) {
            return corsOrigins.contains("*") || corsOrigins.contains(origin);
        }
    }

    /** One finished generation, for the log (and for tests): finish reason stop, length, cancelled or timeout. */
    public record Completion(String id, boolean stream, int promptTokens, int completionTokens, String finishReason,
                             double seconds) {}

    /** How long a waiting stream stays silent before a keep-alive comment. */
    private static final long KEEP_ALIVE_MILLIS = 2000;
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "[::1]", "::1");

    private final MiniMindTokenizer tokenizer;
    private final Options options;
    private final Limits limits;
    private final Access access;
    private final Consumer<Completion> log;
    private final int contextLimit;
    private final int eosId;
    private final boolean loopback;
    private final long startedSeconds = System.currentTimeMillis() / 1000;
    private final SecureRandom seeds = new SecureRandom();
    private final byte[] chatPage;
    private final GenerationQueue queue;
    private final ConnectionGuard guard;
    private final Server http;
    private final ServerConnector connector;
    private final Executor threads;
    private final String urlHost;

    private ChatServer(MiniMindLM model, MiniMindTokenizer tokenizer, Options options, Consumer<Completion> log)
            throws IOException {
        this.tokenizer = tokenizer;
        this.options = options;
        this.limits = options.limits();
        this.access = options.access();
        this.log = log != null ? log : c -> {};
        int positions = model.config().maxPositionEmbeddings();
        this.contextLimit = options.maxContext() > 0 ? Math.min(options.maxContext(), positions) : positions;
        this.eosId = tokenizer.eosId();
        InetAddress address = InetAddress.getByName(options.host()); // UnknownHostException for a bad --host
        this.loopback = address.isLoopbackAddress();
        String h = address.getHostAddress();
        this.urlHost = h.contains(":") ? "[" + h + "]" : h;
        try (InputStream in = ChatServer.class.getResourceAsStream("chat.html")) {
            this.chatPage = in == null ? "<!doctype html><p>chat page missing from the build</p>".getBytes(StandardCharsets.UTF_8)
                    : in.readAllBytes();
        }

        // a streamed response holds a thread while it runs; reads and waits never do
        QueuedThreadPool pool = new QueuedThreadPool(Math.max(64, limits.maxBatch() + limits.maxQueue() + 32), 4);
        pool.setName("minimind-http");
        pool.setDaemon(true);
        this.threads = pool;
        this.http = new Server(pool);
        HttpConfiguration hc = new HttpConfiguration();
        hc.setSendServerVersion(false);
        hc.setSendXPoweredBy(false);
        hc.setRequestHeaderSize(16 * 1024);
        this.connector = new ServerConnector(http, 1, 1, new HttpConnectionFactory(hc));
        connector.setHost(h);
        connector.setPort(options.port());
        connector.setIdleTimeout(limits.idleTimeoutMillis());
        this.guard = new ConnectionGuard(limits.headerTimeoutMillis());
        connector.addBean(guard);
        http.addConnector(connector);
        http.addBean(new NetworkConnectionLimit(limits.maxConnections(), connector));
        http.setErrorHandler(new JsonErrorHandler());
        http.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                ChatServer.this.handle(request, response, callback);
                return true;
            }
        });
        this.queue = new GenerationQueue(model, limits.maxBatch(), limits.maxQueue());
        try {
            http.start();
        } catch (Exception e) {
            queue.close();
            guard.close();
            try {
                http.stop();
            } catch (Exception ignored) {
                // it never started
            }
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof BindException b) throw b;
            }
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
    }

    /** Binds and starts serving; {@code log} (may be null) sees each finished generation. */
    public static ChatServer start(MiniMindLM model, MiniMindTokenizer tokenizer, Options options,
                                   Consumer<Completion> log) throws IOException {
        return new ChatServer(model, tokenizer, options, log);
    }

    public int port() { return connector.getLocalPort(); }

    /** The base URL, e.g. {@code http://127.0.0.1:8998}. */
    public String url() { return "http://" + urlHost + ":" + port(); }

    /** The most prompt + reply tokens a request may ask for. */
    public int contextLimit() { return contextLimit; }

    /**
     * Stops: running generations end at their next token, queued ones are cancelled, connections close. Returns
     * once the worker has stopped, so the model may be freed right after.
     */
    @Override
    public void close() {
        queue.close();
        guard.close();
        try {
            http.setStopTimeout(1000);
            http.stop();
        } catch (java.util.concurrent.TimeoutException e) {
            // a client kept its connection open past the 1 s grace: Jetty closed it anyway, nothing to report
        } catch (Exception e) {
            System.err.println("minimind serve: stopping the HTTP server: " + e);
        }
    }

    // ------------------------------------------------------------------------------------------------ routing

    /** One exchange's response: the Jetty objects, and the CORS header it carries when its origin is allowed. */
    private record Exchange(Request request, Response response, Callback callback, String corsOrigin) {}

    private void handle(Request request, Response response, Callback callback) {
        Connection connection = request.getConnectionMetaData().getConnection();
        guard.requestStarted(connection);
        Request.addCompletionListener(request, failure -> guard.requestDone(connection));
        Exchange ex = new Exchange(request, response, callback, corsOrigin(request));
        try {
            route(ex);
        } catch (ApiError e) {
            sendError(ex, e);
        } catch (Throwable e) {
            failed(ex, e);
        }
    }

    private void failed(Exchange ex, Throwable e) {
        // a bug or a native failure: log it here, give the client one line and keep serving
        System.err.println("minimind serve: " + ex.request().getMethod() + " " + ex.request().getHttpURI().getPath()
                + " failed: " + e);
        sendError(ex, ApiError.server("The server had an error processing the request."));
    }

    private void route(Exchange ex) throws ApiError {
        Request req = ex.request();
        String method = req.getMethod();
        String path = req.getHttpURI().getPath();
        checkHost(req);
        String origin = req.getHeaders().get(HttpHeader.ORIGIN);
        if (origin != null && ex.corsOrigin() == null && !sameOrigin(origin, req)) {
            throw new ApiError(403, "invalid_request_error", "Cross-origin requests from " + origin + " are not allowed;"
                    + " start the server with --cors_origin " + origin + " to allow them.", null, "origin_not_allowed");
        }
        if (method.equals("OPTIONS")) {
            preflight(ex);
            return;
        }
        if (path.equals("/v1") || path.startsWith("/v1/")) checkApiKey(req);
        switch (path) {
            case "/" -> {
                requireMethod(ex, "GET", "HEAD");
                send(ex, 200, "text/html; charset=utf-8", chatPage);
            }
            case "/v1/chat/completions" -> {
                requireMethod(ex, "POST");
                chatCompletions(ex);
            }
            case "/v1/models" -> {
                requireMethod(ex, "GET", "HEAD");
                ObjectNode list = JSON.createObjectNode();
                list.put("object", "list");
                list.putArray("data").add(modelCard());
                sendJson(ex, 200, list);
            }
            case "/health" -> {
                requireMethod(ex, "GET", "HEAD");
                sendJson(ex, 200, JSON.createObjectNode().put("status", "ok"));
            }
            default -> {
                if (path.equals("/v1/models/" + options.modelId())) {
                    requireMethod(ex, "GET", "HEAD");
                    sendJson(ex, 200, modelCard());
                    return;
                }
                throw new ApiError(404, "invalid_request_error", "Invalid URL (" + method + " " + path + ")", null,
                        "not_found");
            }
        }
    }

    /**
     * DNS rebinding: a page on evil.example whose name later resolves to 127.0.0.1 still sends Host: evil.example.
     * A server bound to loopback answers only requests addressed to a loopback name.
     */
    private void checkHost(Request req) throws ApiError {
        if (!loopback) return;
        String host = req.getHeaders().get(HttpHeader.HOST);
        String name = host == null ? "" : hostName(host.trim().toLowerCase(Locale.ROOT));
        if (!(LOOPBACK_NAMES.contains(name) || name.startsWith("127.") && name.matches("127(\\.\\d{1,3}){3}"))) {
            throw new ApiError(403, "invalid_request_error", "Host '" + host + "' is not allowed: this server listens on"
                    + " loopback and answers only localhost, 127.0.0.1 or [::1]; use --host to serve other names.",
                    null, "host_not_allowed");
        }
    }

    /** "name:port", "[v6]:port", "name" -> the name ("[v6]" keeps its brackets). */
    private static String hostName(String host) {
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            return end < 0 ? host : host.substring(0, end + 1);
        }
        int colon = host.lastIndexOf(':');
        return colon < 0 ? host : host.substring(0, colon);
    }

    /** The page at / calling the API: its Origin is this very server, as the Host header names it. */
    private static boolean sameOrigin(String origin, Request req) {
        String host = req.getHeaders().get(HttpHeader.HOST);
        return host != null && origin.equalsIgnoreCase("http://" + host.trim());
    }

    private String corsOrigin(Request req) {
        String origin = req.getHeaders().get(HttpHeader.ORIGIN);
        return origin != null && access.allowsOrigin(origin) ? origin : null;
    }

    private void preflight(Exchange ex) throws ApiError {
        Request req = ex.request();
        if (ex.corsOrigin() == null || req.getHeaders().get(HttpHeader.ACCESS_CONTROL_REQUEST_METHOD) == null) {
            ex.response().getHeaders().put(HttpHeader.ALLOW, "GET, HEAD, POST, OPTIONS");
            send(ex, 204, null, new byte[0]);
            return;
        }
        HttpFields.Mutable h = ex.response().getHeaders();
        h.put(HttpHeader.ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, POST, OPTIONS");
        String asked = req.getHeaders().get(HttpHeader.ACCESS_CONTROL_REQUEST_HEADERS);
        h.put(HttpHeader.ACCESS_CONTROL_ALLOW_HEADERS, asked != null ? asked : "Authorization, Content-Type");
        h.put(HttpHeader.ACCESS_CONTROL_MAX_AGE, "600");
        send(ex, 204, null, new byte[0]);
    }

    private void checkApiKey(Request req) throws ApiError {
        if (access.apiKey() == null) return;
        String auth = req.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new ApiError(401, "invalid_request_error", "You didn't provide an API key. You need to provide your"
                    + " API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    null, "missing_api_key").withHeader("WWW-Authenticate", "Bearer");
        }
        byte[] given = auth.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, access.apiKey().getBytes(StandardCharsets.UTF_8))) {
            throw new ApiError(401, "invalid_request_error", "Incorrect API key provided. The key is the one given to"
                    + " this server with --api_key or MINIMIND_API_KEY.", null, "invalid_api_key")
                    .withHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        }
    }

    private static void requireMethod(Exchange ex, String... methods) throws ApiError {
        String m = ex.request().getMethod();
        for (String allowed : methods) if (allowed.equals(m)) return;
        String allow = String.join(", ", methods);
        throw new ApiError(405, "invalid_request_error", "Method " + m + " is not allowed for "
                + ex.request().getHttpURI().getPath() + "; use " + String.join(" or ", methods) + ".", null,
                "method_not_allowed").withHeader("Allow", allow);
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

    private void chatCompletions(Exchange ex) throws ApiError {
        Request req = ex.request();
        String type = req.getHeaders().get(HttpHeader.CONTENT_TYPE);
        if (type != null) {
            String mime = type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
            // text/plain and form posts are what a web page may send cross-origin without asking: never JSON here
            if (!(mime.equals("application/json") || mime.endsWith("+json"))) {
                throw new ApiError(415, "invalid_request_error", "Unsupported Content-Type '" + type + "': send the"
                        + " request body as application/json.", null, "unsupported_media_type");
            }
        }
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
                        ChatRequest request = ChatRequest.parse(parseJson(body));
                        Prepared p = prepare(request, deadline);
                        if (request.stream()) stream(ex, p);
                        else complete(ex, p);
                    } catch (ApiError e) {
                        sendError(ex, e);
                    } catch (Throwable e) {
                        failed(ex, e);
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
        return new Prepared(r, new GenerationQueue.Job(ids, maxNew, sampling, eosId, seed, deadline),
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
     * generation at the token that completes it) and cut at the request's stop strings.
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

    private GenerationQueue.Ticket submit(GenerationQueue.Job job, java.util.function.IntPredicate onToken) throws ApiError {
        try {
            return queue.submit(job, onToken);
        } catch (GenerationQueue.Full full) {
            return throwBusy();
        }
    }

    private GenerationQueue.Ticket throwBusy() throws ApiError {
        // OpenAI's 429: its SDKs wait Retry-After and try again
        throw new ApiError(429, "requests",
                "The server is busy: " + queue.active() + " requests generating and " + queue.waiting()
                        + " waiting (--max_batch " + limits.maxBatch() + ", --max_queue " + limits.maxQueue()
                        + "). Retry shortly.", null, "rate_limit_exceeded").withHeader("Retry-After", "1");
    }

    /** Watches for the client leaving while nothing is written; the response must call stop() before writing. */
    private static ConnectionGuard.DisconnectWatch watch(Exchange ex, GenerationQueue.Ticket ticket) {
        return ConnectionGuard.DisconnectWatch.start(
                ex.request().getConnectionMetaData().getConnection().getEndPoint(), ticket::cancel);
    }

    private void complete(Exchange ex, Prepared p) throws ApiError {
        ReplyText text = new ReplyText(tokenizer, p.request().stop());
        GenerationQueue.Ticket ticket = submit(p.job(), id -> {
            text.accept(id);
            return !text.stopped();
        });
        ConnectionGuard.DisconnectWatch watch = watch(ex, ticket);
        ticket.result().whenCompleteAsync((result, failure) -> {
            watch.stop();
            if (watch.readAhead()) ex.response().getHeaders().put(HttpHeader.CONNECTION, "close");
            try {
                if (failure != null) {
                    System.err.println("minimind serve: generation failed: " + failure);
                    throw ApiError.server("Generation failed: " + failure.getMessage());
                }
                Generator.Result r = text.withReason(result);
                logCompletion(p, false, r);
                if (r.finishReason().equals("cancelled")) throw unavailable(ticket);
                if (r.finishReason().equals("timeout")) throw timedOut(r);
                text.finish();
                AssistantReply reply = AssistantReply.parse(text.text.toString());
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
            } catch (ApiError e) {
                sendError(ex, e);
            } catch (Throwable e) {
                failed(ex, e);
            }
        }, threads);
    }

    private ApiError unavailable(GenerationQueue.Ticket ticket) {
        return new ApiError(503, "server_error", ticket.cancelled() ? "The request was cancelled."
                : "The server is shutting down; the request was not completed.", null, null);
    }

    private ApiError timedOut(Generator.Result r) {
        return new ApiError(504, "server_error", "The request did not finish within --request_timeout ("
                + limits.requestTimeoutMillis() / 1000.0 + " s; " + r.tokens().length + " tokens generated)."
                + " Ask for fewer tokens or retry when the server is less busy.", null, "timeout");
    }

    /** What a streaming handler waits for: a piece of text, or the end. */
    private record Finished(Generator.Result result, Throwable error) {}

    /** Writes a streamed response from this (HTTP pool) thread; the worker only queues pieces of text. */
    private void stream(Exchange ex, Prepared p) throws ApiError {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        ReplyText reply = new ReplyText(tokenizer, p.request().stop());
        GenerationQueue.Ticket ticket = submit(p.job(), id -> {
            String piece = reply.accept(id);
            if (!piece.isEmpty()) events.add(piece);
            return !reply.stopped();
        });
        ticket.result().whenComplete((r, e) -> events.add(new Finished(r == null ? null : reply.withReason(r), e)));
        ConnectionGuard.DisconnectWatch watch = watch(ex, ticket);
        Response res = ex.response();
        res.setStatus(200);
        res.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        res.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        corsHeaders(ex);
        SseWriter out = new SseWriter(res, limits.idleTimeoutMillis());
        boolean finished = false;
        try {
            ObjectNode first = JSON.createObjectNode().put("role", "assistant").put("content", "");
            out.data(chunk(p, first, null));
            ThinkingSplitter thinking = p.request().openThinking() ? new ThinkingSplitter() : null;
            ToolCallStream tools = p.request().tools() != null ? new ToolCallStream() : null;
            StringBuilder text = new StringBuilder();
            while (true) {
                Object event = events.poll(KEEP_ALIVE_MILLIS, TimeUnit.MILLISECONDS);
                if (event == null) {
                    out.raw(": keep-alive\n\n");
                } else if (event instanceof String piece) {
                    sendText(out, p, piece, thinking, tools, text);
                } else {
                    Finished f = (Finished) event;
                    sendText(out, p, reply.finish(), thinking, tools, text);
                    if (thinking != null) {
                        ThinkingSplitter.Delta rest = thinking.finish();
                        sendDelta(out, p, "reasoning_content", rest.reasoning());
                        sendContent(out, p, rest.content(), tools);
                    }
                    if (tools != null) sendDelta(out, p, "content", tools.finish());
                    finished = true;
                    watch.stop();
                    String reason = f.result() == null ? null : f.result().finishReason();
                    if (f.error() != null || "cancelled".equals(reason) || "timeout".equals(reason)) {
                        if (f.error() != null) System.err.println("minimind serve: generation failed: " + f.error());
                        else logCompletion(p, true, f.result());
                        ApiError e = f.error() != null ? ApiError.server("Generation failed: " + f.error().getMessage())
                                : "timeout".equals(reason) ? timedOut(f.result()) : unavailable(ticket);
                        out.data(e.body());
                    } else {
                        logCompletion(p, true, f.result());
                        finish(out, p, f.result(), tools != null && tools.calls() > 0);
                    }
                    out.raw("data: [DONE]\n\n");
                    out.end();
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
                ticket.cancel();
                watch.stop();
                ticket.result().thenAccept(r -> logCompletion(p, true, r));
            }
        }
    }

    /** Blocking writes of server-sent events, each bounded by the idle timeout (a client that stops reading is gone). */
    private static final class SseWriter {
        private final Response res;
        private final long timeoutMillis;

        SseWriter(Response res, long timeoutMillis) {
            this.res = res;
            this.timeoutMillis = timeoutMillis;
        }

        void data(JsonNode json) throws IOException {
            raw("data: " + JSON.writeValueAsString(json) + "\n\n");
        }

        void raw(String s) throws IOException {
            write(false, ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
        }

        void end() throws IOException {
            write(true, ByteBuffer.allocate(0));
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

    private void sendText(SseWriter out, Prepared p, String piece, ThinkingSplitter thinking, ToolCallStream tools,
                          StringBuilder text) throws IOException {
        if (piece.isEmpty()) return;
        text.append(piece);
        if (thinking != null) {
            ThinkingSplitter.Delta d = thinking.accept(piece);
            sendDelta(out, p, "reasoning_content", d.reasoning());
            sendContent(out, p, d.content(), tools);
        } else {
            sendContent(out, p, piece, tools);
        }
    }

    /** Content text, with tool-call spans taken out and sent as tool_calls deltas when the request has tools. */
    private void sendContent(SseWriter out, Prepared p, String content, ToolCallStream tools) throws IOException {
        if (tools == null) {
            sendDelta(out, p, "content", content);
            return;
        }
        ToolCallStream.Delta d = tools.accept(content);
        sendDelta(out, p, "content", d.content());
        if (!d.calls().isEmpty()) {
            ArrayNode calls = JSON.createArrayNode();
            for (Map<String, Object> c : d.calls()) {
                ObjectNode call = JSON.createObjectNode().put("index", (Integer) c.get("index"));
                call.put("id", (String) c.get("id"));
                call.put("type", "function");
                call.set("function", JSON.valueToTree(c.get("function")));
                calls.add(call);
            }
            ObjectNode delta = JSON.createObjectNode();
            delta.set("tool_calls", calls);
            out.data(chunk(p, delta, null));
        }
    }

    private void sendDelta(SseWriter out, Prepared p, String field, String text) throws IOException {
        if (!text.isEmpty()) out.data(chunk(p, JSON.createObjectNode().put(field, text), null));
    }

    /** The closing chunks: finish reason, usage. */
    private void finish(SseWriter out, Prepared p, Generator.Result r, boolean calledTools) throws IOException {
        out.data(chunk(p, JSON.createObjectNode(), calledTools ? "tool_calls" : r.finishReason()));
        if (p.request().includeUsage()) {
            ObjectNode last = header(p, "chat.completion.chunk");
            last.putArray("choices");
            last.set("usage", usage(r));
            out.data(last);
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

    // ------------------------------------------------------------------------------------------------ writing

    private static void corsHeaders(Exchange ex) {
        if (ex.corsOrigin() == null) return;
        HttpFields.Mutable h = ex.response().getHeaders();
        h.put(HttpHeader.ACCESS_CONTROL_ALLOW_ORIGIN, ex.corsOrigin());
        h.put(HttpHeader.VARY, "Origin");
    }

    private static void sendJson(Exchange ex, int status, JsonNode json) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        send(ex, status, "application/json", bytes);
    }

    private static void send(Exchange ex, int status, String contentType, byte[] bytes) {
        Response res = ex.response();
        if (res.isCommitted()) {
            ex.callback().failed(new IOException("response already started"));
            return;
        }
        res.setStatus(status);
        if (contentType != null) res.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        res.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        corsHeaders(ex);
        // HEAD: Jetty sends the headers (Content-Length included) and drops the body
        res.write(true, ByteBuffer.wrap(bytes), ex.callback());
    }

    private static void sendError(Exchange ex, ApiError e) {
        for (Map.Entry<String, String> h : e.headers().entrySet()) ex.response().getHeaders().put(h.getKey(), h.getValue());
        sendJson(ex, e.status(), e.body());
    }

    /**
     * Errors Jetty answers itself (a malformed request line, a header too large, a URI too long, ...): OpenAI's JSON
     * error body instead of Jetty's HTML page.
     */
    private static final class JsonErrorHandler extends ErrorHandler {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            Object s = request.getAttribute(ERROR_STATUS);
            int status = s instanceof Integer i ? i : response.getStatus() >= 400 ? response.getStatus() : 500;
            Object m = request.getAttribute(ERROR_MESSAGE);
            String message = m instanceof String text && !text.isEmpty() ? text : org.eclipse.jetty.http.HttpStatus.getMessage(status);
            byte[] bytes = errorBody(status, message);
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
            response.write(true, ByteBuffer.wrap(bytes), callback);
            return true;
        }

        private static byte[] errorBody(int status, String message) {
            ApiError e = new ApiError(status, status >= 500 ? "server_error" : "invalid_request_error", message, null, null);
            try {
                return JSON.writeValueAsBytes(e.body());
            } catch (JsonProcessingException x) {
                throw new IllegalStateException(x);
            }
        }
    }
}
