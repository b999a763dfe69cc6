package minimind4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import minimind4j.TestNode;
import minimind4j.TestPaths;
import minimind4j.checkpoint.DType;
import minimind4j.checkpoint.HostTensor;
import minimind4j.checkpoint.Weights;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code minimind export --format gguf} checked in real llama.cpp (node-llama-cpp 3.21.1's prebuilt CPU build, see
 * {@link TestNode}): the file loads, tokenizes like this project's tokenizer, and an f32 export's greedy replies and
 * next-token probabilities are this project's; f16, bf16 and q8_0 stay within measured bounds of f32.
 */
class GgufLlamaCppTest {
    @TempDir
    Path dir;

    static final ObjectMapper JSON = new ObjectMapper();

    /** Chinese, English, digits, emoji, whitespace runs, punctuation, contractions and special tokens. */
    static final List<String> TEXTS = List.of(
            "你好，世界！今天天气怎么样？", "Hello, world! It's a test; they'll SEE what's DONE.",
            "Numbers: 3.14159, 1234567890, 2024-12-06, 42nd, x=10000 ", "emoji 😀👍🏽 ❤️ 🇨🇳 and 中文 mixed",
            "  leading spaces,\ttabs\t\tand\n\n\nnewlines   trailing   ", "<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n",
            "code: def f(x):\n    return x**2  # square\n", "<|endoftext|>text<|im_end|><|im_start|>", "a...b!!!?? (parens) [brackets] {braces}");

    static Path checkout() {
        return TestPaths.resources().getParent().getParent().getParent();
    }

    private static Path export(Path weights, Path tokenizer, String dtype, Path out) {
        CliRun r = CliRun.of("export", "--format", "gguf", "--dtype", dtype, "--weight", weights.toString(),
                "--tokenizer_path", tokenizer.toString(), "--out_dir", out.toString());
        assertEquals(0, r.code(), r.err());
        try (var s = Files.list(out)) {
            List<Path> gguf = s.filter(p -> p.toString().endsWith(".gguf")).toList();
            assertEquals(1, gguf.size(), out + " holds one .gguf");
            String modelfile = Files.readString(out.resolve("Modelfile"));
            assertTrue(modelfile.contains("FROM ./" + gguf.get(0).getFileName() + "\n"), modelfile);
            return gguf.get(0);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private static ObjectNode job(List<Path> models) {
        ObjectNode job = JSON.createObjectNode();
        ArrayNode ms = job.putArray("models");
        for (Path p : models) ms.addObject().put("path", p.toString());
        job.putPOJO("texts", TEXTS);
        return job;
    }

    private static List<Integer> ids(int[] a) {
        List<Integer> l = new ArrayList<>();
        for (int i : a) l.add(i);
        return l;
    }

    private static List<Integer> ids(JsonNode a) {
        List<Integer> l = new ArrayList<>();
        for (JsonNode i : a) l.add(i.asInt());
        return l;
    }

    private static Map<String, Object> user(String text) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", "user");
        m.put("content", text);
        return m;
    }

    /** The reply {@code minimind chat --prompt p --temperature 0} prints. */
    private static String chatReply(Path weights, Path tokenizer, String prompt, int maxNew) {
        ChatCommand command = new ChatCommand();  // chat writes to the process's stdout unless given a stream
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        command.out = new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
        int code = new picocli.CommandLine(command).execute("--weight", weights.toString(), "--tokenizer_path", tokenizer.toString(),
                "--prompt", prompt, "--temperature", "0", "--max_new_tokens", Integer.toString(maxNew), "--show_speed", "0");
        assertEquals(0, code);
        String out = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        int at = out.indexOf("🧠: ");
        assertTrue(at >= 0 && out.endsWith("\n\n"), out);
        return out.substring(at + "🧠: ".length(), out.length() - 2);
    }

    /** softmax of this project's fp32 logits at every position of {@code ids}. */
    private static float[][] probabilities(Path weights, int[] ids) {
        Map<String, HostTensor> sd = Weights.read(weights);
        ModelConfig c = Weights.inferConfig(sd, 8);
        try (MiniMindLM m = Weights.load(weights, c, true, null); PointerScope s = Torch.scope()) {
            long[] l = new long[ids.length];
            for (int i = 0; i < ids.length; i++) l[i] = ids[i];
            var logits = m.logits(m.forward(Torch.longs(l, 1, l.length), null, null, null).states());
            float[] p = Torch.toFloats(org.bytedeco.pytorch.global.torch.softmax(logits.view(l.length, c.vocabSize()), 1));
            float[][] out = new float[ids.length][];
            for (int i = 0; i < ids.length; i++) out[i] = java.util.Arrays.copyOfRange(p, i * c.vocabSize(), (i + 1) * c.vocabSize());
            return out;
        }
    }

    private static double maxAbsDiff(float[][] a, JsonNode b) {
        double max = 0;
        for (int i = 0; i < a.length; i++)
            for (int j = 0; j < a[i].length; j++) max = Math.max(max, Math.abs(a[i][j] - b.get(i).get(j).asDouble()));
        return max;
    }

    private static float[][] floats(JsonNode b) {
        float[][] out = new float[b.size()][];
        for (int i = 0; i < b.size(); i++) {
            out[i] = new float[b.get(i).size()];
            for (int j = 0; j < out[i].length; j++) out[i][j] = (float) b.get(i).get(j).asDouble();
        }
        return out;
    }

    private static int argmax(float[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
        return best;
    }

    /**
     * The bundled demo model (MiniMind2: llama architecture, q/k permuted for llama.cpp's rope) in all four types: same
     * token ids, f32 greedy replies equal to `minimind chat --temperature 0`, probabilities against this project's.
     */
    @Test
    void demoModelInLlamaCpp() throws Exception {
        Path tokDir = checkout().resolve("demo/tokenizer");
        Path weights = dir.resolve("demo_128.pth");  // not named "pretrain": chat answers through the chat template
        Files.copy(checkout().resolve("demo/weights/pretrain_128.pth"), weights);
        List<String> types = List.of("float32", "float16", "bfloat16", "q8_0");
        List<Path> ggufs = new ArrayList<>();
        for (String t : types) ggufs.add(export(weights, tokDir, t, dir.resolve(t)));

        List<String> prompts = Files.readAllLines(checkout().resolve("demo/prompts.txt")).stream().filter(s -> !s.isBlank()).toList();
        int maxNew = 40;
        ObjectNode job = job(ggufs);
        ArrayNode greedy = job.putArray("greedy");
        List<int[]> promptIds = new ArrayList<>();
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(tokDir)) {
            for (String p : prompts) {
                int[] ids = tok.encode(tok.applyChatTemplate(List.of(user(p)), null, true, Map.of()));
                promptIds.add(ids);
                greedy.addPOJO(ids(ids));
            }
            job.put("maxNewTokens", maxNew);
            // teacher-forced: a prompt and the f32 model's own reply
            int[] forced = tok.encode(tok.applyChatTemplate(List.of(user(prompts.get(0))), null, true, Map.of())
                    + chatReply(weights, tokDir, prompts.get(0), maxNew));
            job.putArray("probabilities").addPOJO(ids(forced));
            JsonNode res = TestNode.run("llama-check.mjs", job).get("models");

            for (int m = 0; m < ggufs.size(); m++) {
                JsonNode r = res.get(m);
                assertEquals("llama", r.at("/metadata/architecture").asText());
                assertEquals(tok.config().chatTemplate(), r.at("/metadata/chatTemplate").asText());
                assertEquals(tok.eosId(), r.at("/metadata/eos").asInt());
                for (int i = 0; i < TEXTS.size(); i++) {
                    assertEquals(ids(tok.encode(TEXTS.get(i))), ids(r.get("tokens").get(i)), types.get(m) + ": " + TEXTS.get(i));
                    assertEquals(TEXTS.get(i), r.get("detokenized").get(i).asText());
                }
            }
            JsonNode f32 = res.get(0);
            for (int i = 0; i < prompts.size(); i++) {
                String expected = chatReply(weights, tokDir, prompts.get(i), maxNew);
                int[] llamaIds = ids(f32.get("greedy").get(i)).stream().mapToInt(Integer::intValue).toArray();
                assertTrue(llamaIds.length > 0, prompts.get(i));
                assertEquals(expected, tok.decode(llamaIds, true), "f32 greedy reply to " + prompts.get(i));
            }
            float[][] ours = probabilities(weights, forced);
            double f32Diff = maxAbsDiff(ours, f32.get("probabilities").get(0));
            System.out.printf(Locale.ROOT, "llama.cpp f32 vs minimind4j fp32: max |p - p'| = %.3g over %d positions%n", f32Diff, forced.length);
            assertTrue(f32Diff < 1e-4, "f32 probabilities differ by " + f32Diff);
            float[][] llamaF32 = floats(f32.get("probabilities").get(0));
            for (int m = 1; m < ggufs.size(); m++) {
                JsonNode probs = res.get(m).get("probabilities").get(0);
                double diff = maxAbsDiff(llamaF32, probs);
                float[][] q = floats(probs);
                int agree = 0;
                for (int i = 0; i < q.length; i++) if (argmax(q[i]) == argmax(llamaF32[i])) agree++;
                int same = 0;
                for (int i = 0; i < prompts.size(); i++) if (res.get(m).get("greedy").get(i).equals(f32.get("greedy").get(i))) same++;
                System.out.printf(Locale.ROOT, "%s vs f32 in llama.cpp: max |p - p'| = %.3g, top-1 agrees at %d/%d positions, greedy replies equal %d/%d%n",
                        types.get(m), diff, agree, q.length, same, prompts.size());
                double bound = types.get(m).equals("float16") ? 0.01 : 0.05;
                assertTrue(diff < bound, types.get(m) + ": probabilities differ by " + diff);
            }
        }
    }
}
