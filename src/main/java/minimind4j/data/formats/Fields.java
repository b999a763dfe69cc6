package minimind4j.data.formats;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.data.formats.Conversation.Invalid;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** What the converters share: content as a string or a list of parts, JSON given as strings, weights, tool calls. */
final class Fields {
    static final ObjectMapper JSON = new ObjectMapper();

    /** One JSON record as an object, or why it is not one. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> object(String json) throws Invalid {
        Object root;
        try {
            root = JSON.readValue(json, Object.class);
        } catch (JsonProcessingException e) {
            throw new Invalid("not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (!(root instanceof Map)) throw new Invalid("expected a JSON object");
        return (Map<String, Object>) root;
    }
    /** LLaMA-Factory's (and LLaVA's) media placeholders: a record using them needs the media to mean anything. */
    private static final Pattern MEDIA_PLACEHOLDER = Pattern.compile("<(image|video|audio)>");

    private Fields() {}

    static String where(int index) { return "message " + (index + 1); }

    /**
     * The text of a content value: a string, or a list of parts ({@code {"type": "text", "text": ...}}, OpenAI; or
     * {@code "value"}, LLaMA-Factory) joined with newlines, as vLLM joins text parts. Reasoning and tool-call parts
     * (LLaMA-Factory's v1 format) are collected into {@code reasoning}/{@code calls} when given. Image, audio or
     * video parts and media placeholders make the record multimodal.
     */
    static String text(Object content, String where, StringBuilder reasoning, List<Turn.ToolCall> calls) throws Invalid {
        if (content == null) return null;
        if (content instanceof String s) return checkedText(s);
        if (!(content instanceof List<?> parts)) throw new Invalid(where + ": content must be a string or a list of parts");
        List<String> texts = new ArrayList<>();
        for (Object p : parts) {
            if (p instanceof String s) { texts.add(s); continue; }
            if (!(p instanceof Map<?, ?> part)) throw new Invalid(where + ": a content part is not a JSON object");
            String type = part.get("type") instanceof String t ? t : "text";
            Object value = part.containsKey("text") ? part.get("text") : part.get("value");
            switch (type) {
                case "text", "input_text", "output_text" -> {
                    if (!(value instanceof String s)) throw new Invalid(where + ": a text part has no \"text\" string");
                    texts.add(s);
                }
                case "reasoning", "thinking" -> {
                    if (reasoning == null || !(value instanceof String s)) throw new Invalid(where + ": unexpected \"" + type + "\" part");
                    if (!reasoning.isEmpty()) reasoning.append('\n');
                    reasoning.append(s);
                }
                case "tool_call" -> {
                    if (calls == null) throw new Invalid(where + ": unexpected \"tool_call\" part");
                    calls.addAll(toolCalls(value, where));
                }
                case "image", "image_url", "input_image", "video", "video_url", "audio", "input_audio", "audio_url" ->
                        throw multimodal("a \"" + type + "\" content part (" + where + ")");
                default -> throw new Invalid(where + ": unknown content part type \"" + type + "\"");
            }
        }
        return checkedText(String.join("\n", texts));
    }

    private static String checkedText(String s) throws NotSftData {
        var m = MEDIA_PLACEHOLDER.matcher(s);
        if (m.find()) throw multimodal("a " + m.group() + " placeholder");
        return s;
    }

    static NotSftData multimodal(String what) {
        return new NotSftData("multimodal", what + " refers to media a text model cannot see;"
                + " drop those records, or train a vision/audio model with a multimodal trainer (e.g. MiniMind-V)");
    }

    /** A value given either as JSON or as a string holding JSON (MiniMind's tools and tool_calls, ShareGPT's tools). */
    static Object parseIfString(Object value, String where, String key) throws Invalid {
        if (!(value instanceof String s)) return value;
        try {
            return JSON.readValue(s, Object.class);
        } catch (JsonProcessingException e) {
            throw new Invalid(where + ": \"" + key + "\" is a string but not valid JSON (" + e.getOriginalMessage() + ")");
        }
    }

    /** Python truthiness, as MiniMind's {@code if message.get("tools")} tests it. */
    static boolean isPresent(Object v) {
        if (v == null) return false;
        if (v instanceof String s) return !s.isBlank();
        if (v instanceof List<?> l) return !l.isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        return true;
    }

    @SuppressWarnings("unchecked")
    static List<Object> toolList(Object value, String where, String key) throws Invalid {
        if (!isPresent(value)) return null;
        Object v = parseIfString(value, where, key);
        if (v instanceof List<?> l) return (List<Object>) l;
        throw new Invalid(where + ": \"" + key + "\" must be a JSON array of tool schemas");
    }

    /**
     * Tool calls from a list (or one call, or a JSON string of either), each {@code {"name", "arguments"}} or
     * OpenAI's {@code {"type": "function", "function": {"name", "arguments"}}}.
     */
    static List<Turn.ToolCall> toolCalls(Object value, String where) throws Invalid {
        if (!isPresent(value)) return List.of();
        Object v = parseIfString(value, where, "tool_calls");
        List<?> list = v instanceof List<?> l ? l : List.of(v);
        List<Turn.ToolCall> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> call)) throw new Invalid(where + ": a tool call is not a JSON object");
            Map<?, ?> fn = call.get("function") instanceof Map<?, ?> f ? f : call;
            if (!(fn.get("name") instanceof String name) || name.isEmpty()) throw new Invalid(where + ": a tool call has no \"name\"");
            Object args = fn.containsKey("arguments") ? fn.get("arguments") : fn.get("parameters");
            out.add(new Turn.ToolCall(name, args == null ? new LinkedHashMap<>() : args));
        }
        return out;
    }

    /**
     * Whether a turn is trained on: OpenAI's {@code "weight": 0} and LLaMA-Factory's {@code "loss_weight": 0}
     * exclude it.
     */
    static boolean supervised(Map<?, ?> message, String where) throws Invalid {
        for (String key : List.of("weight", "loss_weight")) {
            Object w = message.get(key);
            if (w == null) continue;
            if (w instanceof Boolean b) return b;
            if (!(w instanceof Number n)) throw new Invalid(where + ": \"" + key + "\" must be a number (0 or 1)");
            return n.doubleValue() != 0;
        }
        return true;
    }

    /** The reasoning a message carries in its own field (MiniMind/DeepSeek's reasoning_content, TRL's thinking). */
    static String reasoningField(Map<?, ?> message, String where) throws Invalid {
        for (String key : List.of("reasoning_content", "reasoning", "thinking")) {
            Object r = message.get(key);
            if (r == null) continue;
            if (!(r instanceof String s)) throw new Invalid(where + ": \"" + key + "\" must be a string");
            return s;
        }
        return null;
    }

    static String jsonOf(Object v) {
        try {
            return JSON.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            return String.valueOf(v);
        }
    }
}
