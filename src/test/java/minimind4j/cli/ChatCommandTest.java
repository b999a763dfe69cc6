package minimind4j.cli;

import minimind4j.TestPaths;
import minimind4j.checkpoint.Weights;
import minimind4j.generate.Generator;
import minimind4j.generate.Sampling;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code minimind chat} on a tiny random model saved as MiniMind saves weights, MiniMind2 tokenizer. */
class ChatCommandTest {
    @TempDir
    static Path dir;
    static Path sftFile;
    static Path pretrainFile;
    static MiniMindTokenizer tok;
    static MiniMindLM loaded;

    @BeforeAll
    static void saveTinyModel() {
        // MiniMind2's 8 attention heads and 2 KV heads: what the chat command infers for a file without q_norm
        try (MiniMindLM m = MiniMindLM.init(ModelConfig.minimind2(32, 2, false), 9)) {
            sftFile = dir.resolve("full_sft_32.pth");
            pretrainFile = dir.resolve("pretrain_32.pth");
            Weights.saveHalf(sftFile, m);
            Weights.saveHalf(pretrainFile, m);
        }
        tok = MiniMindTokenizer.load(TestPaths.minimind2());
        // the reference decodes with the weights as the command sees them: read back from the fp16 file
        loaded = Weights.load(sftFile, Weights.inferConfig(Weights.read(sftFile), 8), true, null);
    }

    @AfterAll
    static void free() {
        loaded.close();
        tok.close();
    }

    private record Run(int exitCode, String out, String err) {}

    private static Run chat(String... args) {
        ChatCommand command = new ChatCommand();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        command.out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        CommandLine cli = new CommandLine(command);
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, bytes.toString(StandardCharsets.UTF_8), err.toString());
    }

    private static String greedy(String promptText, int maxNewTokens) {
        Generator.Result r = new Generator(loaded).generate(tok.encode(promptText), maxNewTokens, Sampling.GREEDY,
                tok.eosId(), 0, null);
        return tok.decode(r.tokens(), true);
    }

    private static String templated(String question) {
        return tok.applyChatTemplate(List.of(Map.of("role", "user", "content", question)), null, true, Map.of());
    }

    @Test
    void onePromptPrintsTheGreedyReply() {
        Run r = chat("--weight", sftFile.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                "--prompt", "你好，你是谁？", "--temperature", "0", "--max_new_tokens", "8", "--show_speed", "0");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("💬: 你好，你是谁？\n🧠: " + greedy(templated("你好，你是谁？"), 8) + "\n\n", r.out());
    }

    /**
     * --dtype bfloat16: the model computes under bf16 autocast (the speed line names what ran; the reply alone may be
     * fp32's too on a small model) and the reply is that model's greedy reply.
     */
    @Test
    void inBf16ThePromptGetsTheBf16ModelsGreedyReply() {
        Run r = chat("--weight", sftFile.toString(), "--tokenizer_path", TestPaths.minimind2().toString(), "--dtype", "bfloat16",
                "--prompt", "你好，你是谁？", "--temperature", "0", "--max_new_tokens", "8", "--show_speed", "1");
        assertEquals(0, r.exitCode(), r.err());
        try (MiniMindLM bf16 = Weights.load(sftFile, Weights.inferConfig(Weights.read(sftFile), 8), true, null)) {
            bf16.to(minimind4j.engine.Precision.resolve("cpu", "bfloat16", -1));
            Generator.Result g = new Generator(bf16).generate(tok.encode(templated("你好，你是谁？")), 8, Sampling.GREEDY, tok.eosId(), 0, null);
            assertTrue(r.out().startsWith("💬: 你好，你是谁？\n🧠: " + tok.decode(g.tokens(), true) + "\n[Speed]: "), r.out());
            assertTrue(r.out().contains("; cpu, bf16 autocast)\n"), "the reply was computed in bf16: " + r.out());
        }
    }

    /** A dtype chat cannot run is one line that lists what it can (auto, a training choice, is not among them). */
    @Test
    void anUnknownOrAutoDtypeIsOneLineListingWhatChatTakes() {
        for (String dtype : new String[]{"int8", "auto"}) {
            CliRun r = CliRun.of("chat", "--weight", sftFile.toString(), "--tokenizer_path", TestPaths.minimind2().toString(), "--dtype", dtype, "--prompt", "hi");
            assertEquals(2, r.code(), r.out() + r.err());
            assertEquals("error: --dtype " + dtype + ": chat and serve take float32, bfloat16 or float16", r.err().strip());
        }
    }

    @Test
    void withoutPromptOrTerminalItAnswersMiniMindsEightPrompts() {
        Run r = chat("--weight", sftFile.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                "--temperature", "0", "--max_new_tokens", "2");
        assertEquals(0, r.exitCode(), r.err());
        int from = 0;
        for (String q : ChatCommand.MINIMIND_PROMPTS) {
            int at = r.out().indexOf("💬: " + q + "\n🧠: ", from);
            assertTrue(at >= from, "missing or out of order: " + q + "\n" + r.out());
            from = at + 1;
        }
        assertEquals(8, ChatCommand.MINIMIND_PROMPTS.size());
        assertEquals(8, r.out().split("\\[Speed]: ", -1).length - 1, "a speed line per reply");
        assertTrue(r.out().contains("💬: 你有什么特长？") && r.out().contains("💬: 推荐一些中国的美食"));
    }

    @Test
    void aPretrainWeightContinuesBosPlusText() throws Exception {
        Run r = chat("--weight", pretrainFile.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                "--prompt", "天空是", "--temperature", "0", "--max_new_tokens", "8", "--show_speed", "0");
        assertEquals(0, r.exitCode(), r.err());
        String continuation = greedy(tok.bosToken() + "天空是", 8);
        assertEquals("💬: 天空是\n🧠: " + continuation + "\n\n", r.out());
        assertNotEquals(greedy(templated("天空是"), 8), continuation, "the chat template would have given another reply");
        assertTrue(Files.isRegularFile(pretrainFile));
    }

    /** The streamed reply of a model scripted to answer "你好🎉！" (🎉 is four byte tokens): printed whole, nothing split. */
    @Test
    void aReplyWhoseCharactersSpanSeveralTokensPrintsWhole() {
        String prompt = templated("hi");
        int[] ids = tok.encode(prompt), reply = tok.encode("你好🎉！");
        int[] chain = new int[reply.length + 2];
        chain[0] = ids[ids.length - 1];
        System.arraycopy(reply, 0, chain, 1, reply.length);
        chain[chain.length - 1] = tok.eosId();
        Path file = dir.resolve("scripted_full_sft_32.pth");
        try (MiniMindLM m = minimind4j.model.ScriptedModel.of(chain)) {
            Weights.saveHalf(file, m);
        }
        Run r = chat("--weight", file.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                "--prompt", "hi", "--temperature", "0", "--max_new_tokens", "16", "--show_speed", "0");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("💬: hi\n🧠: 你好🎉！\n\n", r.out());
    }

    @Test
    void aMissingWeightIsAOneLineError() {
        CliRun r = CliRun.of("chat", "--weight", dir.resolve("nope.pth").toString(),
                "--tokenizer_path", TestPaths.minimind2().toString(), "--prompt", "x");
        assertEquals(2, r.code());
        assertEquals("error: " + dir.resolve("nope.pth") + ": no such weight file", r.err().strip(), "one line naming the file");
        assertEquals("", r.out(), "nothing was answered");
    }
}
