package minimind4j.serve;

import minimind4j.TestPaths;
import minimind4j.checkpoint.Weights;
import minimind4j.cli.Minimind;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** serve's limit and access flags: a bad value is a one-line usage error (exit 2) before anything is loaded. */
class ServeFlagsTest {

    @Test
    void badLimitAndAccessFlagsAreOneLineErrors(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("full_sft_32.pth");
        try (MiniMindLM m = MiniMindLM.init(ModelConfig.minimind2(32, 2, false), 4)) {
            Weights.saveHalf(file, m);
        }
        String[][] bad = {
                {"--cors_origin", "localhost:3000"}, {"--cors_origin", "http://app.example/path"}, {"--max_batch", "0"},
                {"--max_queue", "-1"}, {"--max_prompt_tokens", "-5"}, {"--request_timeout", "-1"},
                {"--header_timeout", "0"}, {"--max_connections", "0"}};
        PrintStream err = System.err;
        for (String[] flag : bad) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            int code;
            try {
                code = Minimind.run("serve", "--weight", file.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                        "--port", "0", flag[0], flag[1]);
            } finally {
                System.setErr(err);
            }
            String said = bytes.toString(StandardCharsets.UTF_8).strip();
            assertEquals(2, code, String.join(" ", flag) + ": " + said);
            assertTrue(said.contains(flag[0]) && !said.contains("\n") && !said.contains("Exception"), String.join(" ", flag) + ": " + said);
        }
    }
}
