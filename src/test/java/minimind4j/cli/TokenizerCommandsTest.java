package minimind4j.cli;

import minimind4j.UserError;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

import minimind4j.TestPaths;
import picocli.CommandLine;

/** The {@code tokenize} and {@code template} commands, run in-process. */
class TokenizerCommandsTest {

    private record Run(String out, Integer exitCode) {}

    private static Run run(Callable<Integer> command, String... args) throws Exception {
        CommandLine cli = new CommandLine(command);
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.parseArgs(args);
        Integer code = command.call(); // called directly so that a UserError reaches the test
        return new Run(out.toString(), code);
    }

    @Test
    void tokenizePrintsIdsAsJsonAndOptionallyTheDecodedText() throws Exception {
        Run r = run(new TokenizeCommand(), "--tokenizer_path", TestPaths.minimind3().toString(),
                "--text", "你好，世界 hello", "--decode");
        assertEquals(0, r.exitCode());
        assertEquals("[1968, 294, 1950, 582, 111, 722]\n\"你好，世界 hello\"\n", r.out().replace("\r\n", "\n"));
        Run dashed = run(new TokenizeCommand(), "--tokenizer-path", TestPaths.minimind2().toString(),
                "--text", "你好，世界 hello");
        assertEquals("[5134, 270, 2219, 380, 78, 338]\n", dashed.out().replace("\r\n", "\n"));
    }

    @Test
    void tokenizeRefusesAFolderWithoutTokenizerJson(@TempDir Path dir) {
        UserError e = assertThrows(UserError.class,
                () -> run(new TokenizeCommand(), "--tokenizer_path", dir.toString(), "--text", "x"));
        assertTrue(e.getMessage().contains("tokenizer.json: missing"), e.getMessage());
        UserError absent = assertThrows(UserError.class,
                () -> run(new TokenizeCommand(), "--tokenizer_path", dir.resolve("nope").toString(), "--text", "x"));
        assertTrue(absent.getMessage().contains("not a directory"), absent.getMessage());
    }

    @Test
    void templateRendersEachLineAsSftDatasetDoes(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("sft.jsonl");
        Files.writeString(data, String.join("\n",
                "{\"conversations\": [{\"role\": \"user\", \"content\": \"你好\"}, {\"role\": \"assistant\", \"content\": \"嗨\"}]}",
                "",
                "{\"conversations\": [{\"role\": \"system\", \"content\": \"sys\", \"tools\": \"[{\\\"name\\\": \\\"f\\\"}]\"},"
                        + " {\"role\": \"user\", \"content\": \"q\"},"
                        + " {\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": \"[{\\\"name\\\": \\\"f\\\", \\\"arguments\\\": {\\\"a\\\": 1}}]\"}]}",
                ""));
        Run r = run(new TemplateCommand(), "--tokenizer_path", TestPaths.minimind3().toString(), "--data", data.toString());
        List<String> lines = r.out().lines().toList();
        assertEquals(2, lines.size(), r.out());
        ObjectMapper json = new ObjectMapper();
        assertEquals("<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n嗨<|im_end|>\n",
                json.readValue(lines.get(0), String.class));
        String withTools = json.readValue(lines.get(1), String.class);
        assertTrue(withTools.startsWith("<|im_start|>system\nsys\n\n# Tools"), withTools);
        assertTrue(withTools.contains("<tools>\n{\"name\": \"f\"}\n</tools>"), withTools);
        assertTrue(withTools.contains("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n</tool_call>"), withTools);

        Run generation = run(new TemplateCommand(), "--tokenizer_path", TestPaths.minimind2().toString(),
                "--data", data.toString(), "--add_generation_prompt");
        assertTrue(json.readValue(generation.out().lines().findFirst().orElseThrow(), String.class)
                .endsWith("<|im_start|>assistant\n"), generation.out());
    }

    @Test
    void templateNamesTheBadLine(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("bad.jsonl");
        Files.writeString(data, "{\"conversations\": [{\"role\": \"user\", \"content\": \"ok\"}]}\n{not json}\n");
        UserError e = assertThrows(UserError.class, () -> run(new TemplateCommand(),
                "--tokenizer_path", TestPaths.minimind3().toString(), "--data", data.toString()));
        assertTrue(e.getMessage().startsWith(data + ":2: not valid JSON"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());

        Files.writeString(data, "{\"messages\": []}\n");
        UserError shape = assertThrows(UserError.class, () -> run(new TemplateCommand(),
                "--tokenizer_path", TestPaths.minimind3().toString(), "--data", data.toString()));
        assertTrue(shape.getMessage().startsWith(data + ":1: expected an object with a \"conversations\" list"),
                shape.getMessage());

        Files.writeString(data, "{\"conversations\": [{\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": \"[oops\"}]}\n");
        UserError toolCalls = assertThrows(UserError.class, () -> run(new TemplateCommand(),
                "--tokenizer_path", TestPaths.minimind3().toString(), "--data", data.toString()));
        assertTrue(toolCalls.getMessage().startsWith(data + ":1: message 1: \"tool_calls\" is a string but not valid JSON"),
                toolCalls.getMessage());

        Files.writeString(data, "{\"conversations\": []}\n");
        UserError empty = assertThrows(UserError.class, () -> run(new TemplateCommand(),
                "--tokenizer_path", TestPaths.minimind3().toString(), "--data", data.toString()));
        assertTrue(empty.getMessage().startsWith(data + ":1: the chat template failed"), empty.getMessage());

        UserError noData = assertThrows(UserError.class, () -> run(new TemplateCommand(),
                "--tokenizer_path", TestPaths.minimind3().toString(), "--data", dir.resolve("absent.jsonl").toString()));
        assertTrue(noData.getMessage().contains("absent.jsonl: no such file"), noData.getMessage());

        UserError noConfig = assertThrows(UserError.class, () -> run(new TemplateCommand(),
                "--tokenizer_path", dir.toString(), "--data", data.toString()));
        assertTrue(noConfig.getMessage().contains("tokenizer_config.json: missing"), noConfig.getMessage());
    }

    @Test
    void bothCommandsHaveHelpAndDescriptions() {
        for (Object command : List.of(new TokenizeCommand(), new TemplateCommand())) {
            CommandLine cli = new CommandLine(command);
            StringWriter out = new StringWriter();
            cli.setOut(new PrintWriter(out));
            assertEquals(0, cli.execute("--help"));
            assertTrue(out.toString().contains("--tokenizer_path"), out.toString());
            assertTrue(cli.getCommandSpec().usageMessage().description().length > 0);
        }
    }
}
