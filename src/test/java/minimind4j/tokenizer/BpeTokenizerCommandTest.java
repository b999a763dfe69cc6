package minimind4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.cli.TokenizerCommand;
import minimind4j.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BpeTokenizerCommandTest {
    @TempDir
    Path dir;

    /** Runs {@code minimind tokenizer ...}; returns the exception the command threw, or null. */
    static Exception run(String... args) {
        AtomicReference<Exception> thrown = new AtomicReference<>();
        CommandLine cli = new CommandLine(new TokenizerCommand());
        cli.setErr(new PrintWriter(new StringWriter()));
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            thrown.set(ex);
            return 2;
        });
        int exit = cli.execute(args);
        if (thrown.get() == null) assertEquals(0, exit);
        return thrown.get();
    }

    @Test
    void trainsFromJsonlWithTextAndConversations() throws IOException {
        Path data = dir.resolve("data.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            sb.append("{\"text\": \"The town of Velmora lies by the river Ash, line ").append(i).append(".\"}\n");
            sb.append("{\"conversations\": [{\"role\": \"user\", \"content\": \"Velmora 以什么闻名？\"}, "
                    + "{\"role\": \"assistant\", \"content\": \"Velmora 以蓝色陶器闻名。\"}]}\n");
        }
        sb.append("not json\n\n");
        Files.writeString(data, sb.toString());
        Path out = dir.resolve("tok");
        assertNull(run("train", "--data_path", data.toString(), "--tokenizer-dir", out.toString(),
                "--vocab-size", "300", "--max_lines", "1000"));
        JsonNode json = new ObjectMapper().readTree(out.resolve("tokenizer.json").toFile());
        assertEquals(300, json.get("model").get("vocab").size());
        assertTrue(Files.isRegularFile(out.resolve("tokenizer_config.json")));
        // "闻名" was seen, so the trainer learned its bytes as a token
        assertTrue(json.get("model").get("vocab").has(ByteLevel.toSymbols("闻名")));
    }

    @Test
    void extraSpecialTokensFollowTheStandardThree() throws IOException {
        Path data = dir.resolve("data.txt");
        Files.writeString(data, "hello world\nhello there\n");
        Path out = dir.resolve("tok");
        assertNull(run("train", "--data-path", data.toString(), "--tokenizer_dir", out.toString(),
                "--vocab_size", "270", "--special_tokens", "<tool_call>,</tool_call>"));
        BpeModel model = TokenizerFiles.read(out.resolve("tokenizer.json"));
        assertEquals(java.util.List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>"),
                model.specialTokens());
    }

    @Test
    void badInputIsAUserError() throws IOException {
        Path missing = dir.resolve("nope.jsonl");
        assertUserError(run("train", "--data_path", missing.toString(), "--tokenizer_dir", dir.toString()), "no such file");

        Path empty = dir.resolve("empty.jsonl");
        Files.writeString(empty, "{\"other\": 1}\n\n{\"conversations\": []}\n");
        assertUserError(run("train", "--data_path", empty.toString(), "--tokenizer_dir", dir.toString()), "no training text");

        Path ok = dir.resolve("ok.txt");
        Files.writeString(ok, "hello\n");
        assertUserError(run("train", "--data_path", ok.toString(), "--vocab_size", "258"), "--vocab_size 259");
        assertUserError(run("train", "--data_path", ok.toString(), "--max_lines", "0"), "--max_lines");

        Path json = dir.resolve("data.json");
        Files.writeString(json, "[{\"text\": \"hello\"}]\n");
        assertUserError(run("train", "--data_path", json.toString()), ".jsonl");
    }

    static void assertUserError(Exception e, String mentions) {
        assertInstanceOf(UserError.class, e);
        assertTrue(e.getMessage().contains(mentions), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }
}
