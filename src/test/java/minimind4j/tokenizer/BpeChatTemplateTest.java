package minimind4j.tokenizer;

import minimind4j.TestPaths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Renders the chat template we write with Python jinja2 under transformers' settings (src/test/python). */
class BpeChatTemplateTest {
    @TempDir
    Path dir;

    @Test
    void rendersMiniMindsFormatInJinja2() throws Exception {
        String python = minimind4j.TestPython.require("jinja2");
        BpeTrainer trainer = new BpeTrainer(260, BpeTrainer.DEFAULT_SPECIAL_TOKENS);
        trainer.addText("hello hello");
        TokenizerFiles.write(dir, trainer.train(), 512);
        Result r = run(List.of(python, "src/test/python/check_chat_template.py",
                dir.resolve("tokenizer_config.json").toString(),
                TestPaths.minimind2().resolve("tokenizer_config.json").toString()));
        assertEquals(0, r.exit, r.output);
    }

    record Result(int exit, String output) {}

    static Result run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out\n" + out);
        }
        return new Result(p.exitValue(), out);
    }
}
