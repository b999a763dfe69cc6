package minimind4j.serve;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.tokenizer.ChatTemplate;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A generated reply split as MiniMind's serve_openai_api.py {@code parse_response} splits it: the reasoning inside
 * {@code <think>…</think>} (or before a lone {@code </think>}), and each {@code <tool_call>{json}</tool_call>} span
 * that parses as a JSON object becomes an OpenAI tool call.
 *
 * <p>One difference on purpose: MiniMind strips the content's surrounding whitespace always; here the text is kept
 * as generated unless a think block or a tool call was cut out of it, so that a plain streamed reply and the same
 * reply unstreamed are the same string.
 *
 * @param reasoningContent the reasoning, or null when there was none
 * @param toolCalls        OpenAI tool calls ({id, type: function, function: {name, arguments}}); empty when none
 */
record AssistantReply(String content, String reasoningContent, List<Map<String, Object>> toolCalls) {

    private static final Pattern THINK = Pattern.compile("<think>(.*?)</think>", Pattern.DOTALL);
    private static final Pattern THINK_AND_SPACE = Pattern.compile("<think>.*?</think>\\s*", Pattern.DOTALL);
    private static final Pattern TOOL_CALL = Pattern.compile("<tool_call>(.*?)</tool_call>", Pattern.DOTALL);
    /** Python's json.loads refuses text after the value; so does this. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** transformers' tojson is Python's json.dumps(ensure_ascii=False): MiniMind's arguments text, byte for byte. */
    private static final ChatTemplate PYTHON_JSON = ChatTemplate.compile("{{ value | tojson }}");

    private static final SecureRandom IDS = new SecureRandom();
    private static final char[] ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

    /** A fresh tool-call id, as OpenAI's: {@code call_} and 24 random letters and digits (unique across requests). */
    static String newCallId() {
        char[] c = new char[24];
        for (int i = 0; i < c.length; i++) c[i] = ID_CHARS[IDS.nextInt(ID_CHARS.length)];
        return "call_" + new String(c);
    }

    static AssistantReply parse(String text) {
        String reasoning = null;
        boolean cut = false;
        Matcher think = THINK.matcher(text);
        if (think.find()) {
            reasoning = think.group(1).strip();
            text = THINK_AND_SPACE.matcher(text).replaceAll("");
            cut = true;
        } else {
            int end = text.indexOf("</think>");
            if (end >= 0) {
                reasoning = text.substring(0, end).strip();
                text = text.substring(end + "</think>".length());
                cut = true;
            }
        }
        List<Map<String, Object>> calls = new ArrayList<>();
        Matcher call = TOOL_CALL.matcher(text);
        while (call.find()) {
            Map<String, Object> entry = toolCall(call.group(1), newCallId());
            if (entry == null) continue; // MiniMind skips spans that are not JSON objects
            calls.add(entry);
        }
        if (!calls.isEmpty()) {
            text = TOOL_CALL.matcher(text).replaceAll("");
            cut = true;
        }
        return new AssistantReply(cut ? text.strip() : text, reasoning, calls);
    }

    /**
     * The OpenAI tool call ({id, type: function, function: {name, arguments}}) that the text inside one
     * {@code <tool_call>…</tool_call>} span stands for, or null if the span is not a JSON object.
     */
    static Map<String, Object> toolCall(String span, String id) {
        Map<String, Object> parsed = jsonObject(span.strip());
        if (parsed == null) return null;
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", parsed.getOrDefault("name", ""));
        function.put("arguments", PYTHON_JSON.render(Map.of("value", parsed.getOrDefault("arguments", Map.of()))));
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("id", id);
        entry.put("type", "function");
        entry.put("function", function);
        return entry;
    }

    private static Map<String, Object> jsonObject(String json) {
        try {
            JsonNode node = JSON.readTree(json);
            if (node == null || !node.isObject()) return null;
            @SuppressWarnings("unchecked")
            Map<String, Object> map = JSON.convertValue(node, LinkedHashMap.class);
            return map;
        } catch (Exception e) {
            return null;
        }
    }
}
