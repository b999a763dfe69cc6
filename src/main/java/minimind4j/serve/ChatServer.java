package minimind4j.serve;

import minimind4j.generate.FinishReason;
import minimind4j.model.MiniMindLM;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
 * <p>This class is the server's lifecycle and routing; {@link RequestGuards} checks each request first,
 * {@link ChatCompletions} answers chat requests, {@link OpenAiWire} is the JSON they are answered in.
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

    /**
     * One finished generation, for the log (and for tests): finish reason stop, length, cancelled or timeout.
     *
     * @param reason why it ended; {@link #finishReason()} is its wire name
     */
    public record Completion(String id, boolean stream, int promptTokens, int completionTokens, FinishReason reason,
                             double seconds) {
        /** The finish reason's name as the API and the log write it: "stop", "length", "cancelled" or "timeout". */
        public String finishReason() { return reason.wireName(); }
    }

    private final Options options;
    private final int contextLimit;
    private final long startedSeconds = System.currentTimeMillis() / 1000;
    private final byte[] chatPage;
    private final RequestGuards guards;
    private final ChatCompletions completions;
    private final GenerationQueue queue;
    private final ConnectionGuard guard;
    private final Server http;
    private final ServerConnector connector;
    private final String urlHost;

    private ChatServer(MiniMindLM model, MiniMindTokenizer tokenizer, Options options, Consumer<Completion> log)
            throws IOException {
        this.options = options;
        Limits limits = options.limits();
        int positions = model.config().maxPositionEmbeddings();
        this.contextLimit = options.maxContext() > 0 ? Math.min(options.maxContext(), positions) : positions;
        InetAddress address = InetAddress.getByName(options.host()); // UnknownHostException for a bad --host
        this.guards = new RequestGuards(options.access(), address.isLoopbackAddress());
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
        this.completions = new ChatCompletions(tokenizer, options, contextLimit, queue, pool, log != null ? log : c -> {});
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

    private void handle(Request request, Response response, Callback callback) {
        Connection connection = request.getConnectionMetaData().getConnection();
        guard.requestStarted(connection);
        Request.addCompletionListener(request, failure -> guard.requestDone(connection));
        Exchange ex = new Exchange(request, response, callback, guards.corsOrigin(request));
        try {
            route(ex);
        } catch (ApiError e) {
            ex.sendError(e);
        } catch (Throwable e) {
            ex.failed(e);
        }
    }

    private void route(Exchange ex) throws ApiError {
        Request req = ex.request();
        String method = req.getMethod();
        String path = req.getHttpURI().getPath();
        guards.checkHost(req);
        guards.checkOrigin(req, ex.corsOrigin());
        if (method.equals("OPTIONS")) {
            RequestGuards.preflightHeaders(req, ex.corsOrigin(), ex.response().getHeaders());
            ex.send(204, null, new byte[0]);
            return;
        }
        if (path.equals("/v1") || path.startsWith("/v1/")) guards.checkApiKey(req);
        switch (path) {
            case "/" -> {
                RequestGuards.requireMethod(req, "GET", "HEAD");
                ex.send(200, "text/html; charset=utf-8", chatPage);
            }
            case "/v1/chat/completions" -> {
                RequestGuards.requireMethod(req, "POST");
                completions.handle(ex);
            }
            case "/v1/models" -> {
                RequestGuards.requireMethod(req, "GET", "HEAD");
                ex.sendJson(200, OpenAiWire.modelList(OpenAiWire.modelCard(options.modelId(), startedSeconds)));
            }
            case "/health" -> {
                RequestGuards.requireMethod(req, "GET", "HEAD");
                ex.sendJson(200, OpenAiWire.health());
            }
            default -> {
                if (path.equals("/v1/models/" + options.modelId())) {
                    RequestGuards.requireMethod(req, "GET", "HEAD");
                    ex.sendJson(200, OpenAiWire.modelCard(options.modelId(), startedSeconds));
                    return;
                }
                throw new ApiError(404, "invalid_request_error", "Invalid URL (" + method + " " + path + ")", null,
                        "not_found");
            }
        }
    }
}
