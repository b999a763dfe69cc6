package minimind4j.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import minimind4j.TestGo;
import minimind4j.TestPaths;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Modelfile's TEMPLATE pieces come from rendering each tokenizer's own chat template (read from MiniMind's
 * tokenizer_config.json files): MiniMind2 adds a default system turn, minimind-3 an empty think block. The TEMPLATE,
 * executed by Go's text/template on Ollama-shaped values, renders the conversations as the Jinja template does (tool
 * JSON compared as JSON: Ollama prints it compactly). Ollama itself is not run (not installed here).
 */
class OllamaModelfileTest {
    @Test
    void piecesFollowEachTemplate() {
        try (MiniMindTokenizer m2 = MiniMindTokenizer.load(TestPaths.minimind2()); MiniMindTokenizer m3 = MiniMindTokenizer.load(TestPaths.minimind3())) {
            OllamaModelfile.Pieces p2 = OllamaModelfile.pieces(m2), p3 = OllamaModelfile.pieces(m3);
            assertEquals("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n", p2.defaultSystem());
            assertEquals("<|im_start|>assistant\n", p2.generationPrompt());
            assertEquals("<|im_start|>assistant\n", p2.assistantOpen());
            assertEquals("", p3.defaultSystem());
            assertEquals("<|im_start|>assistant\n<think>\n\n</think>\n\n", p3.generationPrompt());
            assertEquals("<|im_start|>assistant\n<think>\n\n</think>\n\n", p3.assistantOpen());
            for (OllamaModelfile.Pieces p : new OllamaModelfile.Pieces[]{p2, p3}) {
                assertTrue(p.toolsHead().startsWith("# Tools\n\nYou may call one or more functions") && p.toolsHead().endsWith("<tools>"), p.toolsHead());
                assertTrue(p.toolsTail().startsWith("\n</tools>\n\nFor each function call") && p.toolsTail().endsWith("</tool_call><|im_end|>\n"), p.toolsTail());
            }
            String modelfile = OllamaModelfile.of("./m.gguf", m3);
            assertTrue(modelfile.contains("FROM ./m.gguf\n") && modelfile.contains("PARAMETER stop \"<|im_end|>\"\n")
                    && modelfile.contains("PARAMETER temperature 0.85\n") && modelfile.contains("PARAMETER top_p 0.85\n"), modelfile);
            assertFalse(modelfile.substring(modelfile.indexOf("TEMPLATE")).contains("\"\"\"\"\"\""));
        }
    }

    private static Map<String, Object> msg(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    /** Conversations: plain, with a system turn and history, with tools (a call and two tool answers), tools alone. */
    private static List<Object[]> cases() {
        Map<String, Object> params = new LinkedHashMap<>();  // keys in Go's (sorted) order
        params.put("properties", Map.of("city", Map.of("type", "string")));
        params.put("required", List.of("city"));
        params.put("type", "object");
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", "get_weather");
        fn.put("description", "查询天气");
        fn.put("parameters", params);
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", fn);
        Map<String, Object> call = msg("assistant", "");
        call.put("tool_calls", List.of(Map.of("type", "function", "function", Map.of("name", "get_weather", "arguments", "{\"city\":\"北京\"}"))));
        List<Object[]> cases = new ArrayList<>();
        cases.add(new Object[]{List.of(msg("user", "你好")), null});
        cases.add(new Object[]{List.of(msg("system", "你是一个助手。"), msg("user", "1+1?"), msg("assistant", "2"), msg("user", "2+2?")), null});
        cases.add(new Object[]{List.of(msg("system", "S"), msg("user", "北京天气?"), call, msg("tool", "晴"), msg("tool", "25度")), List.of(tool)});
        cases.add(new Object[]{List.of(msg("user", "北京天气?")), List.of(tool)});
        return cases;
    }

    /** One conversation as Ollama hands it to the template: .System, .Tools, .Messages with tool calls' arguments as maps. */
    @SuppressWarnings("unchecked")
    private static ObjectNode ollamaValues(List<Map<String, Object>> messages, List<Object> tools, ObjectMapper json) throws Exception {
        ObjectNode v = json.createObjectNode();
        for (Map<String, Object> m : messages) if (m.get("role").equals("system")) v.put("system", (String) m.get("content"));
        if (tools != null) v.set("tools", json.valueToTree(tools));
        ArrayNode ms = v.putArray("messages");
        for (Map<String, Object> m : messages) {
            ObjectNode o = ms.addObject().put("role", (String) m.get("role")).put("content", (String) m.get("content"));
            if (m.containsKey("tool_calls")) {
                ArrayNode calls = o.putArray("tool_calls");
                for (Object c : (List<Object>) m.get("tool_calls")) {
                    Map<String, Object> f = (Map<String, Object>) ((Map<String, Object>) c).get("function");
                    calls.addObject().putObject("function").put("name", (String) f.get("name")).set("arguments", json.readTree((String) f.get("arguments")));
                }
            }
        }
        return v;
    }

    /** The text with each line that is a JSON object parsed (Jinja's tojson puts spaces after separators, Go's does not). */
    private static List<Object> lines(String text, ObjectMapper json) throws Exception {
        List<Object> out = new ArrayList<>();
        for (String line : text.split("\n", -1)) out.add(line.startsWith("{\"type\"") ? json.readTree(line) : line);
        return out;
    }

    @Test
    @SuppressWarnings("unchecked")
    void templateRendersAsTheJinjaTemplateInGo() throws Exception {
        ObjectMapper json = new ObjectMapper();
        for (Path dir : List.of(TestPaths.minimind2(), TestPaths.minimind3())) {
            try (MiniMindTokenizer tok = MiniMindTokenizer.load(dir)) {
                ObjectNode job = json.createObjectNode().put("template", OllamaModelfile.template(OllamaModelfile.pieces(tok)));
                ArrayNode goCases = job.putArray("cases");
                List<String> expected = new ArrayList<>();
                for (Object[] c : cases()) {
                    List<Map<String, Object>> messages = (List<Map<String, Object>>) c[0];
                    List<Object> tools = (List<Object>) c[1];
                    expected.add(tok.applyChatTemplate(messages, tools == null ? null : new ArrayList<>(tools), true, Map.of()));
                    goCases.add(ollamaValues(messages, tools, json));
                }
                JsonNode rendered = TestGo.render(job);
                for (int i = 0; i < expected.size(); i++)
                    assertEquals(lines(expected.get(i), json), lines(rendered.get(i).asText(), json), dir.getFileName() + " case " + i + ":\n" + rendered.get(i).asText());
            }
        }
    }
}
