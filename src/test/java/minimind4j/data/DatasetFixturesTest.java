package minimind4j.data;

import minimind4j.data.formats.Conversation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.TestPaths;
import minimind4j.TestPython;
import minimind4j.UserError;
import minimind4j.data.formats.DataFormat;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static minimind4j.data.Jsonl.json;
import static minimind4j.data.Jsonl.msg;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real public datasets (LLaMA-Factory's demo data, src/test/resources/datasets, see SOURCE.md) and hand-written
 * OpenAI / TRL records: each record, converted by the format's converter and rendered by the tokenizer's template,
 * is the text Python Jinja2 renders of the messages an independent Python conversion (scripts/render_datasets.py)
 * makes of it; the labels cover exactly the replies the data marks supervised; and data of other kinds is refused
 * in one line.
 */
class DatasetFixturesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static Path fixture(String name) { return TestPaths.resources().resolve("datasets").resolve(name); }

    /** OpenAI's and TRL's shapes, written after their documentation: no such files are public under a licence we can copy. */
    private Path handWritten() throws IOException {
        List<Object> tools = List.of(Map.of("type", "function", "function", Map.of("name", "get_weather",
                "description", "Weather of a city", "parameters", Map.of("type", "object", "properties", Map.of("city", Map.of("type", "string"))))));
        Map<String, Object> openAiCall = Map.of("id", "call_1", "type", "function",
                "function", Map.of("name", "get_weather", "arguments", "{\"city\": \"Paris\"}"));
        List<String> lines = List.of(
                // OpenAI: developer role, text parts, tool_calls with string arguments, tool role, a reply with weight 0
                json(Map.of("messages", List.of(
                        msg("developer", "You are terse."),
                        msg("user", List.of(Map.of("type", "text", "text", "Weather in Paris?"), Map.of("type", "text", "text", "Be brief."))),
                        msg("assistant", null, "tool_calls", List.of(openAiCall)),
                        msg("tool", "{\"temp\": 21}", "tool_call_id", "call_1"),
                        msg("assistant", "21 degrees.", "weight", 0),
                        msg("user", "Thanks"),
                        msg("assistant", "You're welcome.", "weight", 1)), "tools", tools)),
                // OpenAI legacy functions: function_call on the reply, the function role for the result
                json(Map.of("messages", List.of(
                        msg("user", "Weather in Oslo?"),
                        msg("assistant", "", "function_call", Map.of("name", "get_weather", "arguments", "{\"city\": \"Oslo\"}")),
                        msg("function", "{\"temp\": 3}", "name", "get_weather"),
                        msg("assistant", "3 degrees.", "reasoning_content", "The tool said 3.")), "tools", tools)),
                // TRL standard prompt/completion
                json(Map.of("prompt", "The sky is", "completion", " blue.")),
                // TRL conversational prompt/completion: the prompt's reply is not trained on
                json(Map.of("prompt", List.of(msg("system", "Be kind."), msg("user", "Hi"), msg("assistant", "Hello!"), msg("user", "Colour of the sky?")),
                        "completion", List.of(msg("assistant", "Blue.")))),
                // ShareGPT with a top-level system prompt, and Alpaca with history
                json(Map.of("system", "You are a pirate.", "conversations", List.of(Map.of("from", "human", "value", "Hi"), Map.of("from", "gpt", "value", "Arr!")))),
                json(Map.of("instruction", "And 2+2?", "input", "", "output", "4", "history", List.of(List.of("1+1?", "2")))));
        Path p = dir.resolve("handwritten.jsonl");
        Files.write(p, lines, StandardCharsets.UTF_8);
        return p;
    }

    private static List<JsonNode> pythonReference(String python, Path tokenizer, List<Path> files) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(python, TestPaths.resources().resolve("../../../scripts/render_datasets.py").normalize().toString(), tokenizer.toString()));
        for (Path f : files) cmd.add(f.toString());
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python timed out");
        assertEquals(0, p.exitValue(), "render_datasets.py failed");
        List<JsonNode> rows = new ArrayList<>();
        for (String line : out.split("\n")) if (!line.isBlank()) rows.add(JSON.readTree(line));
        return rows;
    }

    @Test
    void everyFormatRendersAsJinja2RendersTheReferenceConversionAndLabelsFollowTheMask() throws Exception {
        String python = TestPython.require("jinja2");
        List<Path> files = List.of(fixture("alpaca_en_demo.json"), fixture("glaive_toolcall_en_demo.json"),
                fixture("v1_sft_demo.jsonl"), fixture("reason_tool_use_demo_50.jsonl"), handWritten());
        for (Path tokDir : List.of(TestPaths.minimind3(), TestPaths.minimind2())) {
            List<JsonNode> expected = pythonReference(python, tokDir, files);
            TokenBytes bytes = TokenBytes.load(tokDir);
            int row = 0, unsupervised = 0, toolCalls = 0;
            try (MiniMindTokenizer tok = MiniMindTokenizer.load(tokDir)) {
                for (Path f : files) {
                    JsonlIndex idx = SftDataset.index(List.of(f), true, DataFormat.AUTO);
                    try (SftDataset ds = new SftDataset(idx, tok, new SftDataset.Options(8192, 0, 1, 1, DataFormat.AUTO, Truncation.TRUNCATE))) {
                        for (int i = 0; i < ds.size(); i++, row++) {
                            JsonNode want = expected.get(row);
                            String where = tokDir.getFileName() + " " + idx.location(i);
                            assertEquals(f.getFileName().toString(), want.get("file").asText(), where);
                            Conversation c = DataFormat.AUTO.parse(idx.line(i));
                            assertEquals(want.get("messages"), JSON.valueToTree(c.messages()), where);
                            assertEquals(want.get("tools"), JSON.valueToTree(c.tools()), where);
                            boolean[] sup = c.supervisedReplies();
                            assertEquals(want.get("supervised"), JSON.valueToTree(sup), where);
                            Sample s = ds.get(i, 0);
                            assertEquals(want.get("text").asText(), s.text(), where);
                            assertArrayEquals(ReplySpans.expectedLabels(s.text(), s.ids(), bytes, sup), s.labels(), where);
                            for (boolean b : sup) if (!b) unsupervised++;
                            if (s.text().contains("<tool_call>")) toolCalls++;
                        }
                    }
                }
            }
            assertEquals(expected.size(), row, "every record was compared");
            assertEquals(2, unsupervised, "the weight-0 reply and the prompt's reply");
            assertTrue(toolCalls >= 4, "glaive's and the reasoning set's function calls render as <tool_call>: " + toolCalls);
        }
    }

    @Test
    void toolDataRendersToolsInTheSystemTurnAndCallsAsToolCallBlocks() throws Exception {
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(TestPaths.minimind3());
             SftDataset ds = new SftDataset(SftDataset.index(fixture("glaive_toolcall_en_demo.json"), true), tok, 8192, 0, 1, 1)) {
            String text = ds.render(0, 0);
            assertTrue(text.startsWith("<|im_start|>system\n# Tools\n"), text);
            assertTrue(text.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"calculate_age\""), text);
            assertTrue(text.contains("<|im_start|>assistant\n<think>\n\n</think>\n\n<tool_call>\n{\"name\": \"calculate_age\", \"arguments\": {\"birthdate\": \"1990-05-15\"}}\n</tool_call><|im_end|>\n"), text);
            assertTrue(text.contains("<|im_start|>user\n<tool_response>\n{\"age\": 31}\n</tool_response><|im_end|>\n"), text);
            assertFalse(ds.get(0, 0).text().isEmpty());
        }
    }

    @Test
    void dataOfOtherKindsIsRefusedInOneLineNamingTheKindAndWhatToUse() {
        Map<String, String> refusals = Map.of(
                "dpo_en_demo.json", ":2 (record 1): preference (DPO) data, not SFT conversations: records with \"chosen\"",
                "v1_dpo_demo.jsonl", ":1: preference (DPO) data, not SFT conversations: records with \"chosen_messages\"",
                "kto_en_demo.json", ":2 (record 1): KTO data, not SFT conversations:",
                "mllm_demo.json", ":2 (record 1): multimodal data, not SFT conversations: the \"images\" field",
                "c4_demo.jsonl", ":1: pretrain text data, not SFT conversations: {\"text\": ...} records are raw text; train them with `minimind pretrain`");
        refusals.forEach((file, want) -> {
            Path f = fixture(file);
            UserError e = assertThrows(UserError.class, () -> SftDataset.index(List.of(f), false, DataFormat.AUTO), file);
            assertTrue(e.getMessage().startsWith(f + want), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            // forcing a format does not make them SFT data
            assertThrows(UserError.class, () -> SftDataset.index(List.of(f), false, DataFormat.SHAREGPT), file);
        });
    }

    @Test
    void mediaPlaceholdersAndImagePartsAreMultimodalToo() throws IOException {
        Path p = dir.resolve("mm.jsonl");
        Files.write(p, List.of(json(Map.of("messages", List.of(msg("user", "ok"), msg("assistant", "fine")))),
                json(Map.of("messages", List.of(msg("user", "<image>What is it?"), msg("assistant", "A cat."))))));
        UserError e = assertThrows(UserError.class, () -> SftDataset.index(p, false));
        assertTrue(e.getMessage().startsWith(p + ":2: multimodal data, not SFT conversations: a <image> placeholder"), e.getMessage());
        Files.write(p, List.of(json(Map.of("messages", List.of(msg("user", List.of(Map.of("type", "image_url", "image_url", Map.of("url", "x.png")))), msg("assistant", "A cat."))))));
        e = assertThrows(UserError.class, () -> SftDataset.index(p, false));
        assertTrue(e.getMessage().contains("multimodal data, not SFT conversations: a \"image_url\" content part"), e.getMessage());
    }

    @Test
    void sftRefusesPreferenceDataBeforeTrainingAndLeavesNothingOnDisk() {
        Path save = dir.resolve("out");
        minimind4j.cli.CliRun r = minimind4j.cli.CliRun.of("sft", "--data_path", fixture("dpo_en_demo.json").toString(),
                "--tokenizer_path", TestPaths.minimind3().toString(), "--save_dir", save.toString(), "--from_weight", "none",
                "--hidden_size", "32", "--num_hidden_layers", "1", "--device", "cpu");
        assertEquals(2, r.code(), r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line, no stack trace: " + err);
        assertTrue(err.startsWith("error: " + fixture("dpo_en_demo.json") + ":2 (record 1): preference (DPO) data"), err);
        assertFalse(Files.exists(save), "no save directory for refused data");
    }
}
