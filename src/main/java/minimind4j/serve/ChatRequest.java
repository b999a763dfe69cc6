package minimind4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated {@code POST /v1/chat/completions} body. Fields this server does not know are ignored, as OpenAI-style
 * servers do; a known field of the wrong type or out of range is a 400 naming the field. Sampling defaults are
 * MiniMind's serve_openai_api.py (temperature 0.7, top_p 0.92, its generate()'s top_k 50); {@code stream} defaults
 * to false as in OpenAI's API (MiniMind's script defaults to true).
 *
 * @param messages         messages as the chat template reads them: role, content (a string, or null for an
 *                         assistant message without text), and any other fields given (tool_calls, ...)
 * @param tools            tool schemas for the template, or null when none were given
 * @param maxTokens        max_completion_tokens or max_tokens, or null when neither was given
 * @param seed             the sampling seed, or null for a fresh one
 * @param openThinking     MiniMind's open_thinking (also read from chat_template_kwargs open_thinking/enable_thinking)
 * @param stop             OpenAI's stop: up to 4 strings the reply ends before (empty when none were given)
 */
record ChatRequest(List<Map<String, Object>> messages, List<Object> tools, double temperature, double topP, int topK,
                   Integer maxTokens, boolean stream, boolean includeUsage, Long seed, double repetitionPenalty,
                   boolean openThinking, List<String> stop) {

    static final double DEFAULT_TEMPERATURE = 0.7;
    static final double DEFAULT_TOP_P = 0.92;
    static final int DEFAULT_TOP_K = 50;
    static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

    private static final ObjectMapper JSON = new ObjectMapper();

    static ChatRequest parse(JsonNode body) throws ApiError {
        if (body == null || !body.isObject()) {
            throw ApiError.invalid("The request body must be a JSON object.", null, null);
        }
        optionalString(body, "model");
        List<Map<String, Object>> messages = messages(body);
        List<Object> tools = tools(body);
        double temperature = number(body, "temperature", DEFAULT_TEMPERATURE);
        if (temperature < 0) throw outOfRange("temperature", temperature, "a number >= 0 (0 = greedy)");
        double topP = number(body, "top_p", DEFAULT_TOP_P);
        if (!(topP > 0 && topP <= 1)) throw outOfRange("top_p", topP, "a number in (0, 1]");
        long topK = integer(body, "top_k", DEFAULT_TOP_K);
        if (topK < 0) throw outOfRange("top_k", topK, "an integer >= 0 (0 = no top-k cut)");
        double repetitionPenalty = number(body, "repetition_penalty", 1.0);
        if (!(repetitionPenalty > 0)) throw outOfRange("repetition_penalty", repetitionPenalty, "a number > 0");
        String maxField = present(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        Integer maxTokens = null;
        if (present(body, maxField)) {
            long m = integer(body, maxField, 0);
            if (m < 1) throw outOfRange(maxField, m, "an integer >= 1");
            maxTokens = (int) Math.min(m, Integer.MAX_VALUE);
        }
        boolean stream = bool(body, "stream", false);
        boolean includeUsage = false;
        if (present(body, "stream_options")) {
            JsonNode options = body.get("stream_options");
            if (!options.isObject()) throw ApiError.invalidType("stream_options", "an object", kind(options));
            includeUsage = bool(options, "include_usage", "stream_options.include_usage", false);
        }
        Long seed = present(body, "seed") ? integer(body, "seed", 0) : null;
        boolean openThinking = bool(body, "open_thinking", false);
        if (present(body, "chat_template_kwargs")) {
            JsonNode kwargs = body.get("chat_template_kwargs");
            if (!kwargs.isObject()) throw ApiError.invalidType("chat_template_kwargs", "an object", kind(kwargs));
            // MiniMind's ChatRequest.get_open_thinking: any of these switches thinking on
            openThinking |= kwargs.path("open_thinking").asBoolean(false) || kwargs.path("enable_thinking").asBoolean(false);
        }
        // one choice per request: n > 1 is refused rather than silently answered once
        long n = integer(body, "n", 1);
        if (n != 1) throw outOfRange("n", n, "1 (this server generates one choice per request)");
        return new ChatRequest(messages, tools, temperature, topP, (int) Math.min(topK, Integer.MAX_VALUE), maxTokens,
                stream, includeUsage, seed, repetitionPenalty, openThinking, stop(body));
    }

    /** A string or an array of up to 4 non-empty strings, as OpenAI's API takes it. */
    private static List<String> stop(JsonNode body) throws ApiError {
        if (!present(body, "stop")) return List.of();
        JsonNode v = body.get("stop");
        if (v.isTextual()) {
            if (v.asText().isEmpty()) throw outOfRange("stop", "an empty string", "a non-empty string");
            return List.of(v.asText());
        }
        if (!v.isArray()) throw ApiError.invalidType("stop", "a string or an array of strings", kind(v));
        if (v.size() > 4) throw outOfRange("stop", v.size() + " sequences", "at most 4 sequences");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode s = v.get(i);
            if (!s.isTextual()) throw ApiError.invalidType("stop[" + i + "]", "a string", kind(s));
            if (s.asText().isEmpty()) throw outOfRange("stop[" + i + "]", "an empty string", "a non-empty string");
            out.add(s.asText());
        }
        return out;
    }

    private static List<Map<String, Object>> messages(JsonNode body) throws ApiError {
        if (!present(body, "messages")) throw ApiError.missing("messages");
        JsonNode list = body.get("messages");
        if (!list.isArray()) throw ApiError.invalidType("messages", "an array", kind(list));
        if (list.isEmpty()) {
            throw ApiError.invalid("Invalid 'messages': empty array. Expected an array with at least one message.",
                    "messages", "empty_array");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode m = list.get(i);
            if (!m.isObject()) throw ApiError.invalidType(at, "an object", kind(m));
            if (!present(m, "role")) throw ApiError.missing(at + ".role");
            JsonNode roleNode = m.get("role");
            if (!roleNode.isTextual()) throw ApiError.invalidType(at + ".role", "a string", kind(roleNode));
            String role = roleNode.asText();
            if (!ROLES.contains(role)) {
                throw ApiError.invalid("Invalid value: '" + role + "'. Supported values are: 'system', 'user',"
                        + " 'assistant' and 'tool'.", at + ".role", "invalid_value");
            }
            String content = content(m, at, role);
            if (present(m, "tool_calls")) {
                JsonNode calls = m.get("tool_calls");
                if (!calls.isArray()) throw ApiError.invalidType(at + ".tool_calls", "an array", kind(calls));
                for (int j = 0; j < calls.size(); j++) {
                    if (!calls.get(j).isObject()) {
                        throw ApiError.invalidType(at + ".tool_calls[" + j + "]", "an object", kind(calls.get(j)));
                    }
                }
            }
            // every other field goes to the template as given, as transformers passes the dicts through
            @SuppressWarnings("unchecked")
            Map<String, Object> message = JSON.convertValue(m, LinkedHashMap.class);
            message.put("content", content);
            out.add(message);
        }
        return out;
    }

    /** A message's text: a string, text parts joined, or null (only an assistant message may have none). */
    private static String content(JsonNode m, String at, String role) throws ApiError {
        String param = at + ".content";
        if (!present(m, "content")) {
            if (role.equals("assistant")) return null;
            throw ApiError.missing(param);
        }
        JsonNode c = m.get("content");
        if (c.isTextual()) return c.asText();
        if (!c.isArray()) throw ApiError.invalidType(param, "a string or an array of content parts", kind(c));
        StringBuilder text = new StringBuilder();
        for (int k = 0; k < c.size(); k++) {
            JsonNode part = c.get(k);
            String partAt = param + "[" + k + "]";
            if (!part.isObject()) throw ApiError.invalidType(partAt, "an object", kind(part));
            if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                throw ApiError.invalid("Invalid '" + partAt + "': only {\"type\": \"text\", \"text\": ...} parts are"
                        + " supported by this model.", partAt, "invalid_value");
            }
            text.append(part.get("text").asText());
        }
        return text.toString();
    }

    private static List<Object> tools(JsonNode body) throws ApiError {
        if (!present(body, "tools")) return null;
        JsonNode tools = body.get("tools");
        if (!tools.isArray()) throw ApiError.invalidType("tools", "an array", kind(tools));
        for (int i = 0; i < tools.size(); i++) {
            if (!tools.get(i).isObject()) throw ApiError.invalidType("tools[" + i + "]", "an object", kind(tools.get(i)));
        }
        if (tools.isEmpty()) return null; // MiniMind passes `tools or None`
        @SuppressWarnings("unchecked")
        List<Object> list = JSON.convertValue(tools, ArrayList.class);
        return list;
    }

    /** Present and not JSON null: null counts as "use the default", as OpenAI's API treats it. */
    private static boolean present(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v != null && !v.isNull();
    }

    private static void optionalString(JsonNode body, String field) throws ApiError {
        if (present(body, field) && !body.get(field).isTextual()) {
            throw ApiError.invalidType(field, "a string", kind(body.get(field)));
        }
    }

    private static double number(JsonNode body, String field, double fallback) throws ApiError {
        if (!present(body, field)) return fallback;
        JsonNode v = body.get(field);
        if (!v.isNumber()) throw ApiError.invalidType(field, "a number", kind(v));
        double d = v.asDouble();
        if (!Double.isFinite(d)) throw outOfRange(field, d, "a finite number");
        return d;
    }

    private static long integer(JsonNode body, String field, long fallback) throws ApiError {
        if (!present(body, field)) return fallback;
        JsonNode v = body.get(field);
        if (!v.isIntegralNumber()) throw ApiError.invalidType(field, "an integer", kind(v));
        if (!v.canConvertToLong()) throw outOfRange(field, v.asText(), "a 64-bit integer");
        return v.asLong();
    }

    private static boolean bool(JsonNode body, String field, boolean fallback) throws ApiError {
        return bool(body, field, field, fallback);
    }

    private static boolean bool(JsonNode node, String field, String param, boolean fallback) throws ApiError {
        if (!present(node, field)) return fallback;
        JsonNode v = node.get(field);
        if (!v.isBoolean()) throw ApiError.invalidType(param, "a boolean", kind(v));
        return v.asBoolean();
    }

    private static ApiError outOfRange(String field, Object value, String expected) {
        return ApiError.invalid("Invalid '" + field + "': expected " + expected + ", but got " + value + ".", field,
                "invalid_value");
    }

    /** The JSON kind of a value, for error messages ("a string", "an object", ...). */
    private static String kind(JsonNode v) {
        if (v.isTextual()) return "a string";
        if (v.isIntegralNumber()) return "an integer";
        if (v.isNumber()) return "a decimal";
        if (v.isBoolean()) return "a boolean";
        if (v.isArray()) return "an array";
        if (v.isObject()) return "an object";
        return "null";
    }
}
