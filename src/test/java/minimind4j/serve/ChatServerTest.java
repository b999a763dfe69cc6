package minimind4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import minimind4j.generate.Generator;
import minimind4j.generate.Sampling;
import minimind4j.model.MiniMindLM;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP API end to end: a real HttpClient against a server on an ephemeral port, tiny random model, MiniMind2 tokenizer. */
class ChatServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONTEXT = 300;
    private static final int CAP = 48;

    private static ServerFixture fixture;
    private static MiniMindLM model;
    private static MiniMindTokenizer tok;
    private static ChatServer server;
    private static final LinkedBlockingQueue<ChatServer.Completion> completions = new LinkedBlockingQueue<>();
    private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void start() throws Exception {
        fixture = ServerFixture.tinyModel();
        model = fixture.model();
        tok = fixture.tok();
        server = fixture.start(new ChatServer.Options("127.0.0.1", 0, 4096, CAP, CONTEXT, "tiny-test"), completions::add);
    }

    @AfterAll
    static void stop() {
        if (fixture != null) fixture.close();
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static HttpResponse<String> post(String path, String body) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
        return http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private static HttpResponse<String> get(String path) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofSeconds(60)).GET().build();
        return http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private static ObjectNode request(String userText, int maxTokens, boolean stream) {
        ObjectNode r = JSON.createObjectNode();
        r.put("model", "anything");
        r.putArray("messages").addObject().put("role", "user").put("content", userText);
        r.put("temperature", 0);
        r.put("max_tokens", maxTokens);
        r.put("stream", stream);
        return r;
    }

    /** The data payloads of an event stream, in order, checking every line is data, a comment or a separator. */
    private static List<String> events(String body) {
        List<String> data = new ArrayList<>();
        for (String line : body.split("\n", -1)) {
            if (line.isEmpty() || line.startsWith(":")) continue;
            assertTrue(line.startsWith("data: "), "not an SSE data line: " + line);
            data.add(line.substring("data: ".length()));
        }
        return data;
    }

    /** What a streamed response says: concatenated content, finish reason, usage (if any), chunks. */
    private record Streamed(String content, String finishReason, JsonNode usage, List<JsonNode> chunks) {}

    private static Streamed readStream(HttpResponse<String> res) throws Exception {
        assertEquals(200, res.statusCode(), res.body());
        assertTrue(res.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<String> data = events(res.body());
        assertEquals("[DONE]", data.get(data.size() - 1));
        List<JsonNode> chunks = new ArrayList<>();
        for (String d : data.subList(0, data.size() - 1)) chunks.add(JSON.readTree(d));
        assertEquals("assistant", chunks.get(0).at("/choices/0/delta/role").asText(), "first delta names the role");
        StringBuilder content = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        String id = chunks.get(0).get("id").asText();
        for (JsonNode c : chunks) {
            assertEquals("chat.completion.chunk", c.get("object").asText());
            assertEquals(id, c.get("id").asText());
            assertEquals("tiny-test", c.get("model").asText());
            if (c.has("usage")) {
                usage = c.get("usage");
                continue;
            }
            assertTrue(finish == null, "nothing but usage may follow the finish chunk");
            JsonNode choice = c.at("/choices/0");
            content.append(choice.path("delta").path("content").asText(""));
            if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asText();
        }
        assertNotNull(finish, "a final chunk carries finish_reason");
        return new Streamed(content.toString(), finish, usage, chunks);
    }

    private static JsonNode assertError(HttpResponse<String> res, int status, String param, String code) throws Exception {
        assertEquals(status, res.statusCode(), res.body());
        assertTrue(res.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode body = JSON.readTree(res.body());
        JsonNode e = body.get("error");
        assertNotNull(e, res.body());
        assertTrue(e.get("message").isTextual() && !e.get("message").asText().isEmpty());
        assertEquals(status >= 500 ? "server_error" : "invalid_request_error", e.get("type").asText());
        assertTrue(e.has("param") && e.has("code"), res.body());
        if (param != null) assertEquals(param, e.get("param").asText(), res.body());
        if (code != null) assertEquals(code, e.get("code").asText(), res.body());
        assertFalse(res.body().contains("Exception") || res.body().contains("at minimind4j") || res.body().contains("at java."),
                "no stack trace for the client: " + res.body());
        return e;
    }

    private static int[] promptIds(String userText, List<Object> tools) {
        List<Map<String, Object>> messages = List.of(Map.of("role", "user", "content", userText));
        return tok.encode(tok.applyChatTemplate(messages, tools, true, null));
    }

    // ------------------------------------------------------------------------------------------------ tests

    @Test
    void nonStreamedReplyHasOpenAisShapeAndCountsTokens() throws Exception {
        long before = System.currentTimeMillis() / 1000;
        HttpResponse<String> res = post("/v1/chat/completions", request("你好，介绍一下你自己", 16, false).toString());
        assertEquals(200, res.statusCode(), res.body());
        assertTrue(res.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode r = JSON.readTree(res.body());
        assertTrue(r.get("id").asText().startsWith("chatcmpl-"));
        assertEquals("chat.completion", r.get("object").asText());
        assertTrue(r.get("created").asLong() >= before && r.get("created").asLong() <= before + 60);
        assertEquals("tiny-test", r.get("model").asText());
        assertEquals(1, r.get("choices").size());
        JsonNode choice = r.at("/choices/0");
        assertEquals(0, choice.get("index").asInt());
        assertEquals("assistant", choice.at("/message/role").asText());
        String content = choice.at("/message/content").asText();

        int[] prompt = promptIds("你好，介绍一下你自己", null);
        Generator.Result expected = new Generator(model).generate(prompt, 16, Sampling.GREEDY, tok.eosId(), 0, null);
        assertEquals(tok.decode(expected.tokens(), true), content, "the reply is the greedy continuation of the templated prompt");
        assertEquals(expected.finishReason(), choice.get("finish_reason").asText());
        assertEquals(prompt.length, r.at("/usage/prompt_tokens").asInt());
        assertEquals(expected.tokens().length, r.at("/usage/completion_tokens").asInt());
        assertEquals(prompt.length + expected.tokens().length, r.at("/usage/total_tokens").asInt());
    }

    @Test
    void streamedChunksAddUpToTheNonStreamedReply() throws Exception {
        String question = "为什么天空是蓝色的？🎉";
        JsonNode plain = JSON.readTree(post("/v1/chat/completions", request(question, 40, false).toString()).body());
        ObjectNode streamRequest = request(question, 40, true);
        streamRequest.putObject("stream_options").put("include_usage", true);
        Streamed s = readStream(post("/v1/chat/completions", streamRequest.toString()));
        assertEquals(plain.at("/choices/0/message/content").asText(), s.content());
        assertEquals(plain.at("/choices/0/finish_reason").asText(), s.finishReason());
        assertEquals(plain.get("usage"), s.usage());
        // (that no delta splits a character is StreamedCharactersTest: this tiny random model's replies are ASCII)
        // without include_usage there is no usage chunk
        assertEquals(null, readStream(post("/v1/chat/completions", request(question, 4, true).toString())).usage());
    }

    @Test
    void stopStringsCutTheReplyStreamedOrNot() throws Exception {
        String question = "讲一个很长的故事";
        JsonNode full = JSON.readTree(post("/v1/chat/completions", request(question, 40, false).toString()).body());
        String content = full.at("/choices/0/message/content").asText();
        assertTrue(content.length() >= 8, "the test needs some text to cut: " + content);
        String stop = content.substring(content.length() / 2, content.length() / 2 + 2);
        String expected = content.substring(0, content.indexOf(stop));
        ObjectNode req = request(question, 40, false);
        req.putArray("stop").add(stop).add("never appears \u2603\u2603");
        JsonNode cut = JSON.readTree(post("/v1/chat/completions", req.toString()).body());
        assertEquals(expected.strip(), cut.at("/choices/0/message/content").asText().strip());
        assertEquals("stop", cut.at("/choices/0/finish_reason").asText());
        assertTrue(cut.at("/usage/completion_tokens").asInt() < full.at("/usage/completion_tokens").asInt(),
                "generation ended at the stop string, not at max_tokens");
        ObjectNode streamReq = request(question, 40, true);
        streamReq.put("stop", stop);
        Streamed s = readStream(post("/v1/chat/completions", streamReq.toString()));
        assertEquals(cut.at("/choices/0/message/content").asText(), s.content());
        assertEquals("stop", s.finishReason());
    }

    @Test
    void toolsAreRenderedIntoThePrompt() throws Exception {
        ObjectNode r = request("What is the weather in Paris?", 1, false);
        ArrayNode tools = r.putArray("tools");
        ObjectNode fn = tools.addObject().put("type", "function").putObject("function");
        fn.put("name", "get_weather").put("description", "Weather of a city");
        fn.putObject("parameters").put("type", "object").putObject("properties").putObject("city").put("type", "string");
        JsonNode res = JSON.readTree(post("/v1/chat/completions", r.toString()).body());
        @SuppressWarnings("unchecked")
        List<Object> toolList = JSON.convertValue(tools, List.class);
        assertEquals(promptIds("What is the weather in Paris?", toolList).length, res.at("/usage/prompt_tokens").asInt());
        assertTrue(res.at("/usage/prompt_tokens").asInt() > promptIds("What is the weather in Paris?", null).length + 30);
    }

    @Test
    void concurrentRequestsGetWhatTheyWouldGetAlone() throws Exception {
        String[] questions = {"推荐一些中国的美食", "解释什么是机器学习", "如果明天下雨，我应该如何出门"};
        boolean[] streamed = {false, true, false};
        String[] alone = new String[questions.length];
        for (int i = 0; i < questions.length; i++) alone[i] = reply(post("/v1/chat/completions",
                request(questions[i], 32, streamed[i]).toString()), streamed[i]);
        List<CompletableFuture<HttpResponse<String>>> together = new ArrayList<>();
        for (int i = 0; i < questions.length; i++) {
            HttpRequest req = HttpRequest.newBuilder(URI.create(server.url() + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofString(request(questions[i], 32, streamed[i]).toString())).build();
            together.add(http.sendAsync(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)));
        }
        for (int i = 0; i < questions.length; i++) {
            assertEquals(alone[i], reply(together.get(i).get(60, TimeUnit.SECONDS), streamed[i]), "request " + i);
        }
        assertFalse(alone[0].equals(alone[1]), "different prompts should give different replies");
    }

    private static String reply(HttpResponse<String> res, boolean streamed) throws Exception {
        if (streamed) return readStream(res).content();
        assertEquals(200, res.statusCode(), res.body());
        return JSON.readTree(res.body()).at("/choices/0/message/content").asText();
    }

    @Test
    void badRequestsGetOpenAiErrorsAndTheServerKeepsServing() throws Exception {
        String path = "/v1/chat/completions";
        assertError(post(path, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}"), 400, null, null);
        assertError(post(path, "not json at all"), 400, null, null);
        assertError(post(path, "[1, 2]"), 400, null, null);
        assertError(post(path, ""), 400, null, null);
        assertError(post(path, "{\"temperature\": 0}"), 400, "messages", "missing_required_parameter");
        assertError(post(path, "{\"messages\": \"hi\"}"), 400, "messages", "invalid_type");
        assertError(post(path, "{\"messages\": []}"), 400, "messages", "empty_array");
        assertError(post(path, "{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}"), 400, "messages[0].role", "invalid_value");
        assertError(post(path, "{\"messages\": [{\"content\": \"hi\"}]}"), 400, "messages[0].role", "missing_required_parameter");
        assertError(post(path, "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}"), 400, "messages[0].content", "invalid_type");
        assertError(post(path, "{\"messages\": [{\"role\": \"user\"}]}"), 400, "messages[0].content", "missing_required_parameter");
        String ok = "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]";
        assertError(post(path, "{" + ok + ", \"temperature\": \"hot\"}"), 400, "temperature", "invalid_type");
        assertError(post(path, "{" + ok + ", \"temperature\": -1}"), 400, "temperature", "invalid_value");
        assertError(post(path, "{" + ok + ", \"top_p\": 1.5}"), 400, "top_p", "invalid_value");
        assertError(post(path, "{" + ok + ", \"top_k\": 2.5}"), 400, "top_k", "invalid_type");
        assertError(post(path, "{" + ok + ", \"max_tokens\": 1.5}"), 400, "max_tokens", "invalid_type");
        assertError(post(path, "{" + ok + ", \"max_tokens\": 0}"), 400, "max_tokens", "invalid_value");
        assertError(post(path, "{" + ok + ", \"stream\": \"yes\"}"), 400, "stream", "invalid_type");
        assertError(post(path, "{" + ok + ", \"seed\": \"42\"}"), 400, "seed", "invalid_type");
        assertError(post(path, "{" + ok + ", \"tools\": {}}"), 400, "tools", "invalid_type");
        assertError(post(path, "{" + ok + ", \"repetition_penalty\": 0}"), 400, "repetition_penalty", "invalid_value");
        assertError(post(path, "{" + ok + ", \"stop\": 5}"), 400, "stop", "invalid_type");
        assertError(post(path, "{" + ok + ", \"stop\": [\"a\", 1]}"), 400, "stop[1]", "invalid_type");
        assertError(post(path, "{" + ok + ", \"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}"), 400, "stop", "invalid_value");
        assertError(post(path, "{" + ok + ", \"stop\": \"\"}"), 400, "stop", "invalid_value");
        assertError(post(path, "{" + ok + ", \"n\": 2}"), 400, "n", "invalid_value");
        assertError(post(path, "{\"messages\": [{\"role\": \"assistant\", \"content\": \"x\", \"tool_calls\": 3}]}"), 400,
                "messages[0].tool_calls", "invalid_type");

        // unknown fields are ignored, nulls mean "default"
        HttpResponse<String> fine = post(path, "{" + ok + ", \"max_tokens\": 1, \"temperature\": null, \"frequency_penalty\": 0.5, \"n\": 1, \"foo\": {\"bar\": []}}");
        assertEquals(200, fine.statusCode(), fine.body());

        // too large: declared and actual length over --max_body_bytes
        String huge = "{" + ok + ", \"pad\": \"" + "x".repeat(5000) + "\"}";
        assertError(post(path, huge), 413, null, "request_too_large");

        // prompt + max_tokens beyond the context
        String longText = "天空 ".repeat(CONTEXT);
        JsonNode e = assertError(post(path, request(longText, 1, false).toString()), 400, "messages", "context_length_exceeded");
        assertTrue(e.get("message").asText().contains("maximum context length is " + CONTEXT), e.toString());
        int prompt = promptIds("hi", null).length;
        assertError(post(path, request("hi", CONTEXT - prompt + 1, false).toString()), 400, "messages", "context_length_exceeded");
        // ... but a max_tokens over the per-reply cap is lowered to it, not refused
        HttpResponse<String> capped = post(path, request("hi", CONTEXT - prompt, false).toString());
        assertEquals(200, capped.statusCode(), capped.body());
        assertTrue(JSON.readTree(capped.body()).at("/usage/completion_tokens").asInt() <= CAP);

        // wrong method, unknown path
        HttpResponse<String> getChat = get(path);
        assertError(getChat, 405, null, "method_not_allowed");
        assertEquals("POST", getChat.headers().firstValue("Allow").orElse(""));
        assertError(post("/v1/models", "{}"), 405, null, "method_not_allowed");
        assertError(get("/v1/nothing"), 404, null, null);
        assertError(post("/v1/chat/completions/extra", "{}"), 404, null, null);

        HttpResponse<String> health = get("/health");
        assertEquals(200, health.statusCode());
        assertEquals(JSON.readTree("{\"status\": \"ok\"}"), JSON.readTree(health.body()));
    }

    @Test
    void listsItsOneModel() throws Exception {
        JsonNode list = JSON.readTree(get("/v1/models").body());
        assertEquals("list", list.get("object").asText());
        assertEquals(1, list.get("data").size());
        assertEquals("tiny-test", list.at("/data/0/id").asText());
        assertEquals("model", list.at("/data/0/object").asText());
        assertEquals("tiny-test", JSON.readTree(get("/v1/models/tiny-test").body()).get("id").asText());
    }

    @Test
    void aClientThatDisconnectsMidStreamStopsItsGeneration() throws Exception {
        // a server of its own, allowed a reply far longer than the test will wait for
        try (ChatServer longReplies = ChatServer.start(model, tok,
                new ChatServer.Options("127.0.0.1", 0, 4096, 30_000, 0, "tiny-test"), completions::add)) {
            completions.clear();
            HttpRequest req = HttpRequest.newBuilder(URI.create(longReplies.url() + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(request("讲一个很长的故事", 30_000, true).toString())).build();
            HttpResponse<InputStream> res = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, res.statusCode());
            try (InputStream in = res.body()) {
                BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                int contentChunks = 0;
                while (contentChunks < 3) {
                    String line = lines.readLine();
                    assertNotNull(line);
                    if (line.contains("\"content\"") && !line.contains("\"role\"")) contentChunks++;
                }
            } // closing the body before the end closes the connection
            ChatServer.Completion done = completions.poll(30, TimeUnit.SECONDS);
            assertNotNull(done, "the generation should end soon after the client left");
            assertEquals("cancelled", done.finishReason());
            assertTrue(done.completionTokens() < 30_000, "stopped after " + done.completionTokens() + " tokens");
        }
    }
}
