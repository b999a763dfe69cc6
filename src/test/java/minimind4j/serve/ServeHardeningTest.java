package minimind4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.model.MiniMindLM;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server under hostile or careless clients, over real loopback sockets: idle and trickling connection floods,
 * header and body timeouts, clients that leave, a full queue, time limits, API keys, Host and Origin rules, and
 * protocol errors Jetty answers itself. Every bound is generous (the machine is shared); what is asserted is that
 * the server answers at all, where a server with a thread per connection would hang.
 */
class ServeHardeningTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAT = "{\"messages\": [{\"role\": \"user\", \"content\": \"讲一个很长的故事\"}],"
            + " \"temperature\": 0, \"max_tokens\": %d, \"stream\": %s}";
    private static ServerFixture fixture;
    private static MiniMindLM model;
    private static MiniMindTokenizer tok;
    private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void load() throws Exception {
        fixture = ServerFixture.tinyModel();
        model = fixture.model();
        tok = fixture.tok();
    }

    @AfterAll
    static void free() {
        if (fixture != null) fixture.close();
    }

    private static ChatServer server(ChatServer.Limits limits, ChatServer.Access access,
                                     LinkedBlockingQueue<ChatServer.Completion> log) throws IOException {
        return ChatServer.start(model, tok, new ChatServer.Options("127.0.0.1", 0, 4096, 30_000, 0, "tiny")
                .withLimits(limits).withAccess(access), log == null ? null : log::add);
    }

    private static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private static HttpRequest.Builder get(ChatServer s, String path, long timeoutSeconds) {
        return HttpRequest.newBuilder(URI.create(s.url() + path)).timeout(Duration.ofSeconds(timeoutSeconds)).GET();
    }

    private static HttpRequest.Builder chat(ChatServer s, int maxTokens, boolean stream, long timeoutSeconds) {
        return HttpRequest.newBuilder(URI.create(s.url() + "/v1/chat/completions")).timeout(Duration.ofSeconds(timeoutSeconds))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(String.format(CHAT, maxTokens, stream)));
    }

    private static JsonNode error(HttpResponse<String> res, int status, String code) throws Exception {
        assertEquals(status, res.statusCode(), res.body());
        assertTrue(res.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), res.headers().toString());
        JsonNode e = JSON.readTree(res.body()).get("error");
        assertNotNull(e, res.body());
        assertTrue(e.get("message").isTextual() && e.has("type") && e.has("param") && e.has("code"), res.body());
        if (code != null) assertEquals(code, e.get("code").asText(), res.body());
        return e;
    }

    /** A raw HTTP/1.1 exchange on its own socket: what the server answers (status line, headers, body) or "" if it closed. */
    private static String raw(ChatServer s, String request, long timeoutMillis) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", s.port())) {
            socket.setSoTimeout((int) timeoutMillis);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            return readAll(socket.getInputStream());
        }
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            for (int r; (r = in.read(buf)) != -1; ) {
                out.write(buf, 0, r);
                String sofar = out.toString(StandardCharsets.UTF_8);
                int head = sofar.indexOf("\r\n\r\n");
                if (head >= 0) {
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(sofar.substring(0, head));
                    if (m.find() && out.size() >= head + 4 + Integer.parseInt(m.group(1))) break;
                }
            }
        } catch (SocketTimeoutException e) {
            // what came is what we judge
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String chatBody(int maxTokens, boolean stream) {
        return String.format(CHAT, maxTokens, stream);
    }

    private static Socket openRequest(ChatServer s, String body) throws IOException {
        Socket socket = new Socket("127.0.0.1", s.port());
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + b.length + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().write(b);
        socket.getOutputStream().flush();
        return socket;
    }

    // ------------------------------------------------------------------------------------------------ floods

    @Test
    void sixtyFourIdleOrTricklingConnectionsLeaveHealthAndChatAnswering() throws Exception {
        // timeouts far beyond the test: it is not a timeout that keeps the server answering
        ChatServer.Limits limits = ChatServer.Limits.DEFAULT.withConnections(256, 120_000, 120_000, 120_000);
        List<Socket> flood = new ArrayList<>();
        ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
        try (ChatServer s = server(limits, ChatServer.Access.OPEN, null)) {
            for (int i = 0; i < 64; i++) {
                Socket socket = new Socket("127.0.0.1", s.port());
                flood.add(socket);
                OutputStream out = socket.getOutputStream();
                if (i % 4 == 1) out.write("G".getBytes(StandardCharsets.UTF_8)); // one byte, then silence
                if (i % 4 == 3) { // a complete head, then a body at one byte a second
                    out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            + "Content-Length: 1000\r\n\r\n").getBytes(StandardCharsets.UTF_8));
                }
                out.flush();
            }
            // a quarter trickle their request head, a quarter their body, one byte a second each
            trickle.scheduleAtFixedRate(() -> {
                for (int i = 0; i < flood.size(); i++) {
                    if (i % 4 < 2) continue;
                    try {
                        flood.get(i).getOutputStream().write(i % 4 == 2 ? 'X' : ' ');
                        flood.get(i).getOutputStream().flush();
                    } catch (IOException ignored) {
                        // closed by the server: fine
                    }
                }
            }, 0, 1, TimeUnit.SECONDS);
            Thread.sleep(1500); // the flood is in place and trickling

            long t0 = System.nanoTime();
            HttpResponse<String> health = send(get(s, "/health", 5));
            long healthMillis = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(200, health.statusCode());
            t0 = System.nanoTime();
            HttpResponse<String> reply = send(chat(s, 4, false, 20));
            long chatMillis = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(200, reply.statusCode(), reply.body());
            assertEquals(4, JSON.readTree(reply.body()).at("/usage/completion_tokens").asInt());
            HttpResponse<String> streamed = send(chat(s, 4, true, 20));
            assertEquals(200, streamed.statusCode());
            assertTrue(streamed.body().endsWith("data: [DONE]\n\n"), streamed.body());
            System.out.printf("64 idle/trickling connections open: /health %d ms, 4-token chat %d ms%n", healthMillis, chatMillis);
        } finally {
            trickle.shutdownNow();
            for (Socket socket : flood) socket.close();
        }
    }

    @Test
    void slowHeadsAndBodiesAreCutOffByTheirTimeouts() throws Exception {
        ChatServer.Limits limits = ChatServer.Limits.DEFAULT.withConnections(256, 30_000, 800, 800);
        try (ChatServer s = server(limits, ChatServer.Access.OPEN, null)) {
            // a head that never completes: closed without an answer
            try (Socket socket = new Socket("127.0.0.1", s.port())) {
                socket.setSoTimeout(15_000);
                socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 127".getBytes(StandardCharsets.UTF_8));
                assertEquals(-1, socket.getInputStream().read(), "the server closes a head that takes too long");
            }
            // a body that never completes: 408 in OpenAI's format, then the connection closes
            try (Socket socket = new Socket("127.0.0.1", s.port())) {
                socket.setSoTimeout(15_000);
                socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 100\r\n\r\n{\"messages\"").getBytes(StandardCharsets.UTF_8));
                String res = readAll(socket.getInputStream());
                assertTrue(res.startsWith("HTTP/1.1 408"), res);
                assertTrue(res.contains("\"code\":\"request_timeout\""), res);
            }
            // an idle keep-alive connection is closed after the header timeout too
            try (Socket socket = new Socket("127.0.0.1", s.port())) {
                socket.setSoTimeout(15_000);
                socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.UTF_8));
                String res = readAll(socket.getInputStream());
                assertTrue(res.startsWith("HTTP/1.1 200"), res);
                assertEquals(-1, socket.getInputStream().read());
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ leaving, limits

    @Test
    void clientsThatLeaveFreeTheWorkerStreamedOrNotAndQueuedOnesNeverStart() throws Exception {
        LinkedBlockingQueue<ChatServer.Completion> log = new LinkedBlockingQueue<>();
        try (ChatServer s = server(ChatServer.Limits.DEFAULT.withBatch(1, 8), ChatServer.Access.OPEN, log)) {
            Socket running = openRequest(s, chatBody(29_000, false)); // generates for minutes unless stopped
            Thread.sleep(1000);
            Socket queued = openRequest(s, chatBody(29_000, true)); // waits behind it (one at a time)
            Thread.sleep(300);
            queued.close();
            running.close();
            ChatServer.Completion first = log.poll(30, TimeUnit.SECONDS);
            ChatServer.Completion second = log.poll(30, TimeUnit.SECONDS);
            assertNotNull(first, "the abandoned request should end soon after its client left");
            assertNotNull(second, "the abandoned queued request should be dropped");
            ChatServer.Completion ran = first.stream() ? second : first;
            ChatServer.Completion waited = first.stream() ? first : second;
            assertEquals("cancelled", ran.finishReason());
            assertTrue(ran.completionTokens() > 0 && ran.completionTokens() < 29_000, ran.toString());
            assertEquals("cancelled", waited.finishReason());
            assertEquals(0, waited.completionTokens(), "a queued request whose client left never starts");
            // the worker is free: a small request is answered at once
            long t0 = System.nanoTime();
            HttpResponse<String> next = send(chat(s, 4, false, 20));
            assertEquals(200, next.statusCode(), next.body());
            System.out.printf("after two abandoned requests, a 4-token request took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    @Test
    void aFullQueueIsA429WithRetryAfter() throws Exception {
        LinkedBlockingQueue<ChatServer.Completion> log = new LinkedBlockingQueue<>();
        try (ChatServer s = server(ChatServer.Limits.DEFAULT.withBatch(1, 1), ChatServer.Access.OPEN, log)) {
            try (Socket running = openRequest(s, chatBody(29_000, false))) {
                Thread.sleep(800);
                try (Socket waiting = openRequest(s, chatBody(29_000, false))) {
                    Thread.sleep(500);
                    HttpResponse<String> refused = send(chat(s, 4, false, 20));
                    JsonNode e = error(refused, 429, "rate_limit_exceeded");
                    assertTrue(e.get("message").asText().contains("--max_queue"), e.toString());
                    assertEquals("1", refused.headers().firstValue("Retry-After").orElse(""));
                    assertEquals(200, send(get(s, "/health", 5)).statusCode(), "health stays open when busy");
                }
            }
        }
    }

    @Test
    void promptAndTimeLimits() throws Exception {
        ChatServer.Limits limits = ChatServer.Limits.DEFAULT.withPrompt(20, 1500);
        try (ChatServer s = server(limits, ChatServer.Access.OPEN, null)) {
            JsonNode e = error(send(chat(s, 4, false, 20)), 400, "context_length_exceeded");
            assertTrue(e.get("message").asText().contains("--max_prompt_tokens"), e.toString());
        }
        limits = ChatServer.Limits.DEFAULT.withPrompt(0, 1500);
        try (ChatServer s = server(limits, ChatServer.Access.OPEN, null)) {
            JsonNode e = error(send(chat(s, 29_000, false, 60)), 504, "timeout");
            assertTrue(e.get("message").asText().contains("--request_timeout"), e.toString());
            HttpResponse<String> streamed = send(chat(s, 29_000, true, 60));
            assertEquals(200, streamed.statusCode());
            assertTrue(streamed.body().contains("\"code\":\"timeout\""), "the stream ends with the error");
            assertTrue(streamed.body().endsWith("data: [DONE]\n\n"));
        }
    }

    // ------------------------------------------------------------------------------------------------ access

    @Test
    void anApiKeyIsRequiredOnTheApiButNotOnHealth() throws Exception {
        try (ChatServer s = server(ChatServer.Limits.DEFAULT, new ChatServer.Access("sk-test-123", List.of()), null)) {
            HttpResponse<String> none = send(get(s, "/v1/models", 10));
            error(none, 401, "missing_api_key");
            assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
            error(send(get(s, "/v1/models", 10).header("Authorization", "Bearer sk-wrong")), 401, "invalid_api_key");
            error(send(chat(s, 2, false, 20).header("Authorization", "Bearer sk-test-1234")), 401, "invalid_api_key");
            error(send(chat(s, 2, false, 20)), 401, "missing_api_key");
            assertEquals(200, send(get(s, "/v1/models", 10).header("Authorization", "Bearer sk-test-123")).statusCode());
            assertEquals(200, send(chat(s, 2, false, 20).header("Authorization", "Bearer sk-test-123")).statusCode());
            assertEquals(200, send(get(s, "/health", 10)).statusCode());
            assertEquals(200, send(get(s, "/", 10)).statusCode(), "the chat page loads; it asks for the key");
        }
    }

    @Test
    void onLoopbackOnlyLoopbackHostNamesAreAnswered() throws Exception {
        try (ChatServer s = server(ChatServer.Limits.DEFAULT, ChatServer.Access.OPEN, null)) {
            for (String host : new String[]{"localhost:" + s.port(), "127.0.0.1:" + s.port(), "[::1]:" + s.port(), "localhost"}) {
                String res = raw(s, "GET /health HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n", 10_000);
                assertTrue(res.startsWith("HTTP/1.1 200"), host + ": " + res);
            }
            for (String host : new String[]{"evil.example", "evil.example:" + s.port(), "127.0.0.1.evil.example", "10.0.0.1"}) {
                String res = raw(s, "GET /v1/models HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n", 10_000);
                assertTrue(res.startsWith("HTTP/1.1 403"), host + ": " + res);
                assertTrue(res.contains("\"code\":\"host_not_allowed\""), res);
            }
        }
    }

    @Test
    void crossOriginCallsAreRefusedUnlessAllowedAndOnlyJsonIsAccepted() throws Exception {
        try (ChatServer s = server(ChatServer.Limits.DEFAULT, ChatServer.Access.OPEN, null)) {
            // what any web page can send without asking: a text/plain POST; refused for its origin, then for its type
            HttpRequest.Builder plain = HttpRequest.newBuilder(URI.create(s.url() + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(20)).header("Content-Type", "text/plain;charset=UTF-8")
                    .POST(HttpRequest.BodyPublishers.ofString(chatBody(2, false)));
            error(send(plain.copy().header("Origin", "http://evil.example")), 403, "origin_not_allowed");
            error(send(plain), 415, "unsupported_media_type");
            HttpRequest.Builder form = HttpRequest.newBuilder(URI.create(s.url() + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(chatBody(2, false)));
            error(send(form), 415, "unsupported_media_type");
            HttpResponse<String> preflight = send(HttpRequest.newBuilder(URI.create(s.url() + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(10)).header("Origin", "http://evil.example")
                    .header("Access-Control-Request-Method", "POST").method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
            assertEquals(403, preflight.statusCode());
            assertFalse(preflight.headers().firstValue("Access-Control-Allow-Origin").isPresent());
            // the server's own page (same origin) may call it
            HttpResponse<String> own = send(get(s, "/v1/models", 10).header("Origin", "http://127.0.0.1:" + s.port()));
            assertEquals(200, own.statusCode());
            assertFalse(own.headers().firstValue("Access-Control-Allow-Origin").isPresent());
        }
        try (ChatServer s = server(ChatServer.Limits.DEFAULT, new ChatServer.Access(null, List.of("http://app.example:3000")), null)) {
            HttpResponse<String> preflight = send(HttpRequest.newBuilder(URI.create(s.url() + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(10)).header("Origin", "http://app.example:3000")
                    .header("Access-Control-Request-Method", "POST")
                    .header("Access-Control-Request-Headers", "authorization, content-type")
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
            assertEquals(204, preflight.statusCode());
            assertEquals("http://app.example:3000", preflight.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
            assertTrue(preflight.headers().firstValue("Access-Control-Allow-Methods").orElse("").contains("POST"));
            HttpResponse<String> call = send(chat(s, 2, false, 20).header("Origin", "http://app.example:3000"));
            assertEquals(200, call.statusCode(), call.body());
            assertEquals("http://app.example:3000", call.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
            error(send(chat(s, 2, false, 20).header("Origin", "http://other.example")), 403, "origin_not_allowed");
        }
    }

    // ------------------------------------------------------------------------------------------------ protocol

    @Test
    void protocolErrorsAndHeadAreAnsweredInJson() throws Exception {
        try (ChatServer s = server(ChatServer.Limits.DEFAULT, ChatServer.Access.OPEN, null)) {
            for (String bad : new String[]{
                    "NOT A REQUEST\r\n\r\n",
                    "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "x".repeat(20_000) + "\r\n\r\n",
                    "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: nope\r\n\r\n",
                    "GET /health HTTP/1.1\r\n\r\n"}) { // HTTP/1.1 without Host
                String res = raw(s, bad, 10_000);
                assertTrue(res.matches("(?s)HTTP/1.1 [45]\\d\\d .*"), res);
                String lower = res.toLowerCase();
                assertTrue(lower.contains("content-type: application/json"), res);
                assertFalse(lower.contains("<html"), res);
                JsonNode body = JSON.readTree(res.substring(res.indexOf("\r\n\r\n") + 4));
                assertTrue(body.at("/error/message").isTextual(), res);
            }
            String head = raw(s, "HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 10_000);
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertTrue(head.endsWith("\r\n\r\n"), "HEAD has no body: " + head);
            String headChat = raw(s, "HEAD /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 10_000);
            assertTrue(headChat.startsWith("HTTP/1.1 405"), headChat);
            assertTrue(headChat.toLowerCase().contains("allow: post"), headChat);
            // keep-alive: several requests on one connection
            try (Socket socket = new Socket("127.0.0.1", s.port())) {
                socket.setSoTimeout(10_000);
                for (int i = 0; i < 3; i++) {
                    socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.UTF_8));
                    String res = readAll(socket.getInputStream());
                    assertTrue(res.startsWith("HTTP/1.1 200") && res.endsWith("{\"status\":\"ok\"}"), res);
                }
            }
        }
    }
}
