package minimind4j.export;

import minimind4j.tokenizer.MiniMindTokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An Ollama Modelfile for a GGUF export: FROM the file, a Go TEMPLATE equivalent to the tokenizer's (Jinja) chat
 * template, the stop tokens, and MiniMind's eval_llm.py sampling defaults (temperature 0.85, top_p 0.85; top_k 50,
 * transformers' generate default). The TEMPLATE is derived by rendering the Jinja template on probe conversations: the
 * system turn it adds when none is given, the text around the tool list, the assistant turn's opening (minimind-3's
 * empty think block) and the generation prompt; turns are ChatML. A template that does not render ChatML turns gets
 * no TEMPLATE line (Ollama then falls back to what it detects from the GGUF's tokenizer.chat_template).
 * Not run in Ollama here: Ollama is not installed on this project's machines.
 */
public final class OllamaModelfile {
    private OllamaModelfile() {}

    private static final String USER = "USERMARK", SYSTEM = "SYSTEMMARK", REPLY = "REPLYMARK", TOOL = "TOOLMARK";

    /** The pieces of a ChatML template, or null when {@code tok}'s template does not render ChatML turns. */
    record Pieces(String defaultSystem, String toolsHead, String toolsTail, String assistantOpen, String generationPrompt) {}

    static Pieces pieces(MiniMindTokenizer tok) {
        if (tok.config().chatTemplate() == null) return null;
        List<Map<String, Object>> user = List.of(msg("user", USER));
        String plain = tok.applyChatTemplate(user, null, false, Map.of());
        String userTurn = "<|im_start|>user\n" + USER + "<|im_end|>\n";
        if (!plain.endsWith(userTurn)) return null;
        String defaultSystem = plain.substring(0, plain.length() - userTurn.length());
        String gen = tok.applyChatTemplate(user, null, true, Map.of());
        if (!gen.startsWith(plain)) return null;
        String generationPrompt = gen.substring(plain.length());
        String withReply = tok.applyChatTemplate(List.of(msg("user", USER), msg("assistant", REPLY)), null, false, Map.of());
        if (!withReply.startsWith(plain) || !withReply.endsWith(REPLY + "<|im_end|>\n")) return null;
        String assistantOpen = withReply.substring(plain.length(), withReply.length() - (REPLY + "<|im_end|>\n").length());
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", TOOL);
        fn.put("description", "d");
        fn.put("parameters", Map.of("type", "object", "properties", Map.of()));
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", fn);
        String tools = tok.applyChatTemplate(List.of(msg("system", SYSTEM), msg("user", USER)), new ArrayList<>(List.of(tool)), false, Map.of());
        String open = "<|im_start|>system\n" + SYSTEM + "\n\n";
        int at = tools.indexOf(TOOL), turnEnd = tools.lastIndexOf(userTurn);
        if (!tools.startsWith(open) || at < 0 || turnEnd < 0) return null;
        int lineStart = tools.lastIndexOf('\n', at), lineEnd = tools.indexOf('\n', at);
        return new Pieces(defaultSystem, tools.substring(open.length(), lineStart), tools.substring(lineEnd, turnEnd),
                assistantOpen, generationPrompt);
    }

    public static String of(String ggufFile, MiniMindTokenizer tok) {
        StringBuilder m = new StringBuilder();
        m.append("# Ollama: ollama create <name> -f Modelfile, then ollama run <name>\n");
        m.append("FROM ").append(ggufFile).append('\n');
        Pieces p = pieces(tok);
        if (p != null) m.append("TEMPLATE \"\"\"").append(template(p)).append("\"\"\"\n");
        else m.append("# no TEMPLATE: the tokenizer's chat template does not render ChatML turns; Ollama uses the GGUF's\n");
        for (String stop : new String[]{tok.eosToken(), tok.padToken()})
            if (stop != null) m.append("PARAMETER stop \"").append(stop).append("\"\n");
        m.append("PARAMETER temperature 0.85\nPARAMETER top_p 0.85\nPARAMETER top_k 50\n");
        return m.toString();
    }

    /**
     * Go text/template, the variables Ollama provides: .System, .Tools, .Messages (Role, Content, ToolCalls). A
     * "{{-" trims the literal text before it, so none follows literal text that ends in a newline.
     */
    static String template(Pieces p) {
        return "{{- if .Tools }}<|im_start|>system\n"
                + "{{ if .System }}{{ .System }}\n\n{{ end }}" + p.toolsHead()
                + "{{- range .Tools }}\n{\"type\": \"function\", \"function\": {{ .Function }}}{{- end }}"
                + p.toolsTail()
                + "{{ else if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n"
                + "{{ else }}" + p.defaultSystem() + "{{ end }}"
                + "{{- $prev := \"\" }}"
                + "{{- range $i, $m := .Messages }}"
                + "{{- $last := eq (len (slice $.Messages $i)) 1 }}"
                + "{{- if and (eq $prev \"tool\") (ne $m.Role \"tool\") }}<|im_end|>\n{{ end }}"
                + "{{- if eq $m.Role \"user\" }}<|im_start|>user\n{{ $m.Content }}<|im_end|>\n"
                + "{{ else if eq $m.Role \"assistant\" }}" + p.assistantOpen() + "{{ $m.Content }}"
                + "{{- range $j, $c := $m.ToolCalls }}{{ if or $j $m.Content }}\n{{ end }}"
                + "<tool_call>\n{\"name\": \"{{ $c.Function.Name }}\", \"arguments\": {{ $c.Function.Arguments }}}\n</tool_call>{{ end }}"
                + "{{ if not $last }}<|im_end|>\n{{ end }}"
                + "{{- else if eq $m.Role \"tool\" }}{{ if ne $prev \"tool\" }}<|im_start|>user{{ end }}\n<tool_response>\n{{ $m.Content }}\n</tool_response>"
                + "{{- end }}"
                + "{{- $prev = $m.Role }}"
                + "{{- end }}"
                + "{{- if eq $prev \"tool\" }}<|im_end|>\n{{ end }}"
                + "{{- if ne $prev \"assistant\" }}" + p.generationPrompt() + "{{ end }}";
    }

    private static Map<String, Object> msg(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }
}
