package minimind4j.serve;

import minimind4j.generate.FinishReason;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The OpenAI wire format without a socket: each object the server sends, compared with the literal JSON an OpenAI
 * client reads (the shapes ChatServerTest and ServeHardeningTest check over HTTP).
 */
class OpenAiWireTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final OpenAiWire.Header HEADER = new OpenAiWire.Header("chatcmpl-abc", 1700000000L, "tiny-test");

    /** Compared as a client reads it: the bytes the server would send, parsed (a long 42 and an int 42 are one number). */
    private static void assertJson(String expected, JsonNode actual) throws Exception {
        assertEquals(JSON.readTree(expected), JSON.readTree(OpenAiWire.bytes(actual)), actual.toString());
    }

    @Test
    void finishReasonsHaveOpenAisNames() {
        assertEquals("stop", FinishReason.STOP.wireName());
        assertEquals("length", FinishReason.LENGTH.wireName());
        assertEquals("tool_calls", FinishReason.TOOL_CALLS.wireName());
        assertEquals("cancelled", FinishReason.CANCELLED.wireName());
        assertEquals("timeout", FinishReason.TIMEOUT.wireName());
        assertEquals(FinishReason.TOOL_CALLS, FinishReason.STOP.orToolCalls(true));
        assertEquals(FinishReason.LENGTH, FinishReason.LENGTH.orToolCalls(false));
    }

    @Test
    void plainCompletion() throws Exception {
        AssistantReply reply = new AssistantReply("Hello!", null, List.of());
        assertJson("""
                {"id": "chatcmpl-abc", "object": "chat.completion", "created": 1700000000, "model": "tiny-test",
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"},
                              "logprobs": null, "finish_reason": "length"}],
                 "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}}""",
                OpenAiWire.completion(HEADER, reply, FinishReason.LENGTH, 12, 5));
    }

    @Test
    void completionWithReasoningAndToolCallsFinishesWithToolCalls() throws Exception {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", "get_weather");
        function.put("arguments", "{\"city\": \"Paris\"}");
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("id", "call_1");
        call.put("type", "function");
        call.put("function", function);
        AssistantReply reply = new AssistantReply("", "think first", List.of(call));
        assertJson("""
                {"id": "chatcmpl-abc", "object": "chat.completion", "created": 1700000000, "model": "tiny-test",
                 "choices": [{"index": 0,
                              "message": {"role": "assistant", "content": "", "reasoning_content": "think first",
                                          "tool_calls": [{"id": "call_1", "type": "function",
                                                          "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]},
                              "logprobs": null, "finish_reason": "tool_calls"}],
                 "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}""",
                OpenAiWire.completion(HEADER, reply, FinishReason.STOP, 3, 4));
    }

    @Test
    void streamChunks() throws Exception {
        assertJson("""
                {"id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1700000000, "model": "tiny-test",
                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}]}""",
                OpenAiWire.chunk(HEADER, OpenAiWire.roleDelta(), null));
        assertJson("""
                {"id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1700000000, "model": "tiny-test",
                 "choices": [{"index": 0, "delta": {"content": "你好🎉"}, "logprobs": null, "finish_reason": null}]}""",
                OpenAiWire.chunk(HEADER, OpenAiWire.textDelta("content", "你好🎉"), null));
        assertJson("""
                {"id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1700000000, "model": "tiny-test",
                 "choices": [{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"}]}""",
                OpenAiWire.chunk(HEADER, OpenAiWire.JSON.createObjectNode(), FinishReason.STOP));
        assertJson("""
                {"id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1700000000, "model": "tiny-test",
                 "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 40, "total_tokens": 49}}""",
                OpenAiWire.usageChunk(HEADER, 9, 40));
    }

    @Test
    void toolCallDelta() throws Exception {
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("id", "call_1");
        call.put("type", "function");
        call.put("function", Map.of("name", "f", "arguments", "{}"));
        call.put("index", 0);
        assertJson("""
                {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}""",
                OpenAiWire.toolCallsDelta(List.of(call)));
    }

    @Test
    void modelsAndHealth() throws Exception {
        assertJson("""
                {"id": "tiny-test", "object": "model", "created": 42, "owned_by": "minimind4j"}""",
                OpenAiWire.modelCard("tiny-test", 42));
        assertJson("""
                {"object": "list", "data": [{"id": "tiny-test", "object": "model", "created": 42, "owned_by": "minimind4j"}]}""",
                OpenAiWire.modelList(OpenAiWire.modelCard("tiny-test", 42)));
        assertJson("{\"status\": \"ok\"}", OpenAiWire.health());
        assertEquals("{\"status\":\"ok\"}", new String(OpenAiWire.bytes(OpenAiWire.health()), StandardCharsets.UTF_8));
    }

    @Test
    void errorBodies() throws Exception {
        assertJson("""
                {"error": {"message": "Bad Request", "type": "invalid_request_error", "param": null, "code": null}}""",
                OpenAiWire.errorBody(400, "Bad Request"));
        assertJson("""
                {"error": {"message": "boom", "type": "server_error", "param": null, "code": null}}""",
                OpenAiWire.errorBody(500, "boom"));
    }

    @Test
    void requestBodiesMustBeOneJsonValue() throws Exception {
        assertJson("{\"messages\": []}", OpenAiWire.parseRequestBody("{\"messages\": []}".getBytes(StandardCharsets.UTF_8)));
        for (String bad : new String[]{"not json at all", "{\"messages\": [", "{} {}"}) {
            ApiError e = assertThrows(ApiError.class, () -> OpenAiWire.parseRequestBody(bad.getBytes(StandardCharsets.UTF_8)));
            assertEquals(400, e.status());
            assertEquals("invalid_request_error", e.body().at("/error/type").asText());
        }
    }
}
