package minimind4j.serve;

import minimind4j.generate.FinishReason;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's chat API as JSON: the objects the server sends (model cards, completions, stream chunks, usage, error
 * bodies) and the parsing of a request body. Pure functions of their arguments, with no HTTP in them, so that the
 * wire format is testable without a socket ({@code OpenAiWireTest}).
 */
final class OpenAiWire {
    /** Trailing text after the JSON value is an error, as Python's json.loads makes it. */
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private OpenAiWire() {}

    /**
     * What every object of one completion repeats: its id ({@code chatcmpl-...}), its creation time in Unix seconds
     * and the model name the server reports.
     */
    record Header(String id, long created, String model) {}

    // ------------------------------------------------------------------------------------------------ models, health

    /** {@code GET /v1/models/{id}}; {@code created} is when the server started. */
    static ObjectNode modelCard(String modelId, long created) {
        ObjectNode m = JSON.createObjectNode();
        m.put("id", modelId);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "minimind4j");
        return m;
    }

    /** {@code GET /v1/models}: the server's one model. */
    static ObjectNode modelList(ObjectNode card) {
        ObjectNode list = JSON.createObjectNode();
        list.put("object", "list");
        list.putArray("data").add(card);
        return list;
    }

    /** {@code GET /health}. */
    static ObjectNode health() {
        return JSON.createObjectNode().put("status", "ok");
    }

    // ------------------------------------------------------------------------------------------------ completions

    /** A plain reply: one {@code chat.completion} object with the message, its finish reason and the token counts. */
    static ObjectNode completion(Header h, AssistantReply reply, FinishReason reason, int promptTokens,
                                 int completionTokens) {
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
        choice.put("finish_reason", reason.orToolCalls(!reply.toolCalls().isEmpty()).wireName());
        ObjectNode response = object(h, "chat.completion");
        response.putArray("choices").add(choice);
        response.set("usage", usage(promptTokens, completionTokens));
        return response;
    }

    /** Token counts; the caller counts every generated token as a completion token, end-of-sequence included. */
    static ObjectNode usage(int promptTokens, int completionTokens) {
        ObjectNode u = JSON.createObjectNode();
        u.put("prompt_tokens", promptTokens);
        u.put("completion_tokens", completionTokens);
        u.put("total_tokens", promptTokens + completionTokens);
        return u;
    }

    // ------------------------------------------------------------------------------------------------ stream chunks

    /** One {@code chat.completion.chunk}; {@code finishReason} is null on every chunk but the closing one. */
    static ObjectNode chunk(Header h, ObjectNode delta, FinishReason finishReason) {
        ObjectNode choice = JSON.createObjectNode();
        choice.put("index", 0);
        choice.set("delta", delta);
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason == null ? null : finishReason.wireName());
        ObjectNode c = object(h, "chat.completion.chunk");
        c.putArray("choices").add(choice);
        return c;
    }

    /** The first delta of a stream: the role, with empty content (as OpenAI's first chunk). */
    static ObjectNode roleDelta() {
        return JSON.createObjectNode().put("role", "assistant").put("content", "");
    }

    /** A delta of text: {@code field} is "content" or "reasoning_content". */
    static ObjectNode textDelta(String field, String text) {
        return JSON.createObjectNode().put(field, text);
    }

    /** A delta of whole tool calls, each as {@link AssistantReply#toolCall} makes it plus its index in the reply. */
    static ObjectNode toolCallsDelta(List<Map<String, Object>> calls) {
        ArrayNode array = JSON.createArrayNode();
        for (Map<String, Object> c : calls) {
            ObjectNode call = JSON.createObjectNode().put("index", (Integer) c.get("index"));
            call.put("id", (String) c.get("id"));
            call.put("type", "function");
            call.set("function", JSON.valueToTree(c.get("function")));
            array.add(call);
        }
        ObjectNode delta = JSON.createObjectNode();
        delta.set("tool_calls", array);
        return delta;
    }

    /** The last chunk of a stream that asked for {@code stream_options.include_usage}: no choices, the usage. */
    static ObjectNode usageChunk(Header h, int promptTokens, int completionTokens) {
        ObjectNode last = object(h, "chat.completion.chunk");
        last.putArray("choices");
        last.set("usage", usage(promptTokens, completionTokens));
        return last;
    }

    private static ObjectNode object(Header h, String object) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", h.id());
        o.put("object", object);
        o.put("created", h.created());
        o.put("model", h.model());
        return o;
    }

    // ------------------------------------------------------------------------------------------------ errors, bytes

    /**
     * The body of an error the HTTP layer found (a malformed request line, a header too large, ...): OpenAI's error
     * object, typed server_error for 5xx and invalid_request_error otherwise.
     */
    static ObjectNode errorBody(int status, String message) {
        return new ApiError(status, status >= 500 ? "server_error" : "invalid_request_error", message, null, null).body();
    }

    /** A request body as JSON, or the 400 OpenAI gives for one that does not parse (with where it stopped). */
    static JsonNode parseRequestBody(byte[] body) throws ApiError {
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

    static byte[] bytes(JsonNode json) {
        try {
            return JSON.writeValueAsBytes(json);
        } catch (JsonProcessingException e) { // a tree of plain nodes always writes
            throw new IllegalStateException(e);
        }
    }

    static String text(JsonNode json) {
        try {
            return JSON.writeValueAsString(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
