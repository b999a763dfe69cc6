package minimind4j.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Request validation and reply splitting, without a model. */
class ChatReplyParsingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ChatRequest parse(String json) throws Exception {
        return ChatRequest.parse(JSON.readTree(json));
    }

    @Test
    void requestDefaultsAreMiniMindsAndFieldsPassToTheTemplate() throws Exception {
        ChatRequest r = parse("{\"messages\": [{\"role\": \"system\", \"content\": \"s\"},"
                + " {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"a\"}, {\"type\": \"text\", \"text\": \"b\"}]},"
                + " {\"role\": \"assistant\", \"tool_calls\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": \"{}\"}}]},"
                + " {\"role\": \"tool\", \"content\": \"42\", \"tool_call_id\": \"c1\"}]}");
        assertEquals(0.7, r.temperature());
        assertEquals(0.92, r.topP());
        assertEquals(50, r.topK());
        assertEquals(1.0, r.repetitionPenalty());
        assertNull(r.maxTokens());
        assertNull(r.seed());
        assertNull(r.tools());
        assertFalse(r.stream());
        assertFalse(r.openThinking());
        assertEquals("ab", r.messages().get(1).get("content"), "text parts are joined");
        assertNull(r.messages().get(2).get("content"));
        assertTrue(r.messages().get(2).get("tool_calls") instanceof List);
        assertEquals("c1", r.messages().get(3).get("tool_call_id"));

        ChatRequest s = parse("{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}], \"max_completion_tokens\": 7,"
                + " \"max_tokens\": 9, \"seed\": -3, \"top_k\": 0, \"chat_template_kwargs\": {\"enable_thinking\": true},"
                + " \"stream\": true, \"stream_options\": {\"include_usage\": true}, \"tools\": []}");
        assertEquals(7, s.maxTokens(), "max_completion_tokens wins over the older max_tokens");
        assertEquals(-3L, s.seed());
        assertEquals(0, s.topK());
        assertTrue(s.openThinking());
        assertTrue(s.stream() && s.includeUsage());
        assertNull(s.tools(), "an empty tools list is no tools, as MiniMind's `tools or None`");
    }

    @Test
    void errorsNameTheField() {
        ApiError e = assertThrows(ApiError.class, () -> parse("{\"messages\": [{\"role\": \"user\", \"content\": \"q\"},"
                + " {\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {}}]}]}"));
        assertEquals(400, e.status());
        assertEquals("messages[1].content[0]", e.body().at("/error/param").asText());
        ApiError big = assertThrows(ApiError.class, () -> parse("{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}],"
                + " \"seed\": 123456789012345678901234567890}"));
        assertEquals("seed", big.body().at("/error/param").asText());
        ApiError model = assertThrows(ApiError.class, () -> parse("{\"model\": 3, \"messages\": [{\"role\": \"user\", \"content\": \"q\"}]}"));
        assertEquals("invalid_type", model.body().at("/error/code").asText());
    }

    @Test
    void toolCallsAreParsedAsMiniMindsScriptDoes() {
        String text = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"巴黎\", \"days\": 2}}\n</tool_call>\n"
                + "<tool_call>not json</tool_call><tool_call>{\"name\": \"now\"}</tool_call>";
        AssistantReply r = AssistantReply.parse(text);
        assertEquals(2, r.toolCalls().size());
        Map<String, Object> first = r.toolCalls().get(0);
        assertTrue(first.get("id").toString().matches("call_[A-Za-z0-9]{24}"), first.get("id").toString());
        assertEquals("function", first.get("type"));
        assertEquals(Map.of("name", "get_weather", "arguments", "{\"city\": \"巴黎\", \"days\": 2}"), first.get("function"));
        // ids are random, not numbered by time: two calls (and two requests) never share one
        assertNotEquals(first.get("id"), r.toolCalls().get(1).get("id"));
        assertNotEquals(first.get("id"), AssistantReply.parse(text).toolCalls().get(0).get("id"));
        assertEquals(Map.of("name", "now", "arguments", "{}"), r.toolCalls().get(1).get("function"));
        assertEquals("Let me check.", r.content(), "tool call spans are cut out and the rest stripped");
        assertNull(r.reasoningContent());
    }

    @Test
    void thinkingIsSplitOffAndPlainTextKeptVerbatim() {
        AssistantReply t = AssistantReply.parse("<think>\nhmm\n</think>\n\n  answer ");
        assertEquals("hmm", t.reasoningContent());
        assertEquals("answer", t.content());
        AssistantReply open = AssistantReply.parse("reasoning only</think>\n\nthe answer");
        assertEquals("reasoning only", open.reasoningContent());
        assertEquals("the answer", open.content());
        AssistantReply plain = AssistantReply.parse("  just text\n");
        assertEquals("  just text\n", plain.content(), "kept as generated, so streamed and unstreamed replies agree");
        assertTrue(plain.toolCalls().isEmpty());
    }

    @Test
    void streamedThinkingSplitsAtTheTagEvenWhenTheTagIsSplit() {
        ThinkingSplitter s = new ThinkingSplitter();
        StringBuilder reasoning = new StringBuilder(), content = new StringBuilder();
        for (String piece : List.of("I think", " so</th", "in", "k>", "\n\n", "Yes", "</thi")) {
            ThinkingSplitter.Delta d = s.accept(piece);
            assertFalse(d.reasoning().contains("<"), "a partial tag leaked into reasoning: " + d.reasoning());
            reasoning.append(d.reasoning());
            content.append(d.content());
        }
        ThinkingSplitter.Delta end = s.finish();
        reasoning.append(end.reasoning());
        content.append(end.content());
        assertEquals("I think so", reasoning.toString());
        assertEquals("Yes</thi", content.toString());

        ThinkingSplitter unfinished = new ThinkingSplitter();
        assertEquals("still </", unfinished.accept("still </").reasoning() + unfinished.finish().reasoning());
    }

    @Test
    void streamedToolCallsAreToolCallDeltasNeverContent() {
        // the reply MiniMind's model writes for a tool call, cut into pieces that split both tags and the JSON
        String reply = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"巴黎\"}}\n</tool_call>"
                + "<tool_call>not json</tool_call> and <tool_call>{\"name\": \"now\"}</tool_call> then <tool_ca";
        for (int size : new int[]{1, 2, 3, 5, 7, 11, 1000}) {
            ToolCallStream s = new ToolCallStream();
            StringBuilder content = new StringBuilder();
            List<Map<String, Object>> calls = new ArrayList<>();
            for (int i = 0; i < reply.length(); i += size) {
                ToolCallStream.Delta d = s.accept(reply.substring(i, Math.min(reply.length(), i + size)));
                assertFalse(d.content().contains("<tool_call>\n{"), "a tool call leaked into content: " + d.content());
                content.append(d.content());
                calls.addAll(d.calls());
            }
            content.append(s.finish());
            assertEquals("Let me check.\n<tool_call>not json</tool_call> and  then <tool_ca", content.toString(), "pieces of " + size);
            assertEquals(2, calls.size());
            assertEquals(0, calls.get(0).get("index"));
            assertEquals(1, calls.get(1).get("index"));
            assertEquals(Map.of("name", "get_weather", "arguments", "{\"city\": \"巴黎\"}"), calls.get(0).get("function"));
            assertEquals(Map.of("name", "now", "arguments", "{}"), calls.get(1).get("function"));
            assertTrue(calls.get(0).get("id").toString().matches("call_[A-Za-z0-9]{24}"));
            assertNotEquals(calls.get(0).get("id"), calls.get(1).get("id"));
        }
        ToolCallStream open = new ToolCallStream();
        assertEquals("", open.accept("<tool_call>{\"name\": ").content());
        assertEquals("<tool_call>{\"name\": ", open.finish(), "an unclosed span is released as written");
    }
}
