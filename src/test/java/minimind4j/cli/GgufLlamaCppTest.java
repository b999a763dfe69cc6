package minimind4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import minimind4j.TestNode;
import minimind4j.TestPaths;
import minimind4j.checkpoint.format.DType;
import minimind4j.checkpoint.format.HostTensor;
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
            "code: def f(x):\n    return x**2  # square\n", "<|endoftext|>text<|im_end|><|im_start|>", "a...b!!!?? (parens) [brackets] {braces}",
            "<think>\n嗯\n</think>\n\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n</tool_call>");

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
        return ChatOutput.reply("--weight", weights.toString(), "--tokenizer_path", tokenizer.toString(), "--prompt", prompt,
                "--temperature", "0", "--max_new_tokens", Integer.toString(maxNew), "--show_speed", "0");
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
            job.putPOJO("chat", prompts);
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
                // and through a chat session on the template inside the GGUF, as a llama.cpp user would chat
                // (the session trims the reply's surrounding whitespace)
                assertEquals(expected.strip(), f32.get("chat").get(i).asText(), "f32 chat-session reply to " + prompts.get(i));
            }
            assertEquals("JinjaTemplate", f32.get("chatWrapper").asText());
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

    /**
     * A tiny random model whose logits are far apart (embedding, router and q/k norms scaled up), so greedy decoding has clear
     * winners; saved as a float32 .pth.
     */
    private Path sharpModel(ModelConfig c, String name) {
        Path p = dir.resolve(name);
        try (MiniMindLM m = MiniMindLM.init(c, 7)) {
            LinkedHashMap<String, HostTensor> sd = Weights.hostStateDict(m, DType.F32);
            for (Map.Entry<String, HostTensor> e : sd.entrySet()) {
                String k = e.getKey();
                // q/k norms scaled too: attention that is far from uniform, so a wrong q/k layout shows
                // and the layers' output projections: their output, not the tied input embedding, decides the next token
                float scale = k.endsWith("_norm.weight") && k.contains("self_attn") ? 3
                        : k.endsWith("o_proj.weight") || k.endsWith("down_proj.weight") ? 30 : 10;
                if (k.equals(MiniMindLM.EMBED) || k.equals(MiniMindLM.LM_HEAD) || k.endsWith("mlp.gate.weight") || scale != 10) {
                    float[] v = e.getValue().toFloatArray();
                    for (int i = 0; i < v.length; i++) v[i] *= scale;
                    e.setValue(HostTensor.ofFloats(e.getValue().shape(), v));
                }
            }
            Weights.write(p, sd);
        }
        return p;
    }

    /** minimind-3 (q/k norm) as llama.cpp's qwen3, and its MoE as qwen3moe: tokens, probabilities and greedy replies. */
    @Test
    void minimind3DenseAndMoeInLlamaCpp() throws Exception {
        Path tokDir = TestPaths.minimind3();
        List<Path> weights = List.of(sharpModel(ModelConfig.minimind3(64, 2), "m3_64.pth"),
                sharpModel(ModelConfig.minimind3(64, 2, true), "m3moe_64_moe.pth"));
        List<String> arch = List.of("qwen3", "qwen3moe");
        List<Path> ggufs = new ArrayList<>();
        List<String> types = List.of("float32", "q8_0", "float16", "bfloat16");
        for (Path w : weights)
            for (String t : types) ggufs.add(export(w, tokDir, t, dir.resolve(w.getFileName() + "-" + t)));
        String prompt = "你好，请介绍一下你自己。";
        int maxNew = 24;
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(tokDir)) {
            int[] promptIds = tok.encode(tok.applyChatTemplate(List.of(user(prompt)), null, true, Map.of()));
            ObjectNode job = job(ggufs);
            job.putArray("greedy").addPOJO(ids(promptIds));
            job.put("maxNewTokens", maxNew);
            int[] forced = tok.encode(tok.applyChatTemplate(List.of(user(prompt)), null, true, Map.of()) + "我是一个小模型，很高兴认识你！");
            job.putArray("probabilities").addPOJO(ids(forced));
            JsonNode res = TestNode.run("llama-check.mjs", job).get("models");
            for (int w = 0; w < weights.size(); w++) {
                JsonNode f32 = res.get(types.size() * w), q8 = res.get(types.size() * w + 1);
                for (int t = 0; t < types.size(); t++) {
                    JsonNode r = res.get(types.size() * w + t);
                    assertEquals(arch.get(w), r.at("/metadata/architecture").asText());
                    for (int i = 0; i < TEXTS.size(); i++)
                        assertEquals(ids(tok.encode(TEXTS.get(i))), ids(r.get("tokens").get(i)), arch.get(w) + ": " + TEXTS.get(i));
                }
                String expected = chatReply(weights.get(w), tokDir, prompt, maxNew);
                int[] llamaIds = ids(f32.get("greedy").get(0)).stream().mapToInt(Integer::intValue).toArray();
                assertEquals(expected, tok.decode(llamaIds, true), arch.get(w) + " f32 greedy reply");
                assertTrue(new java.util.HashSet<>(ids(llamaIds)).size() > 5, "a reply of varied tokens: " + expected);
                // no chat-session comparison here: node-llama-cpp's Jinja chat wrapper opens a <think> segment on
                // minimind-3's template (prompt ends "<|im_start|>assistant\n<think>\n"), where chat closes it
                double diff = maxAbsDiff(probabilities(weights.get(w), forced), f32.get("probabilities").get(0));
                double q8diff = maxAbsDiff(floats(f32.get("probabilities").get(0)), q8.get("probabilities").get(0));
                System.out.printf(Locale.ROOT, "%s: llama.cpp f32 vs minimind4j max |p - p'| = %.3g; q8_0 vs f32 %.3g; greedy %d tokens, q8_0 equal: %s%n",
                        arch.get(w), diff, q8diff, llamaIds.length, q8.get("greedy").get(0).equals(f32.get("greedy").get(0)));
                assertTrue(diff < 1e-4, arch.get(w) + " f32 probabilities differ by " + diff);
                // random weights scaled up amplify q8_0's rounding: measured 1.0e-2 (dense) and 4.6e-2 (MoE)
                assertTrue(q8diff < 0.1, arch.get(w) + " q8_0 probabilities differ by " + q8diff);
                for (int t = 2; t < types.size(); t++) {
                    double d = maxAbsDiff(floats(f32.get("probabilities").get(0)), res.get(types.size() * w + t).get("probabilities").get(0));
                    System.out.printf(Locale.ROOT, "%s: %s vs f32 %.3g%n", arch.get(w), types.get(t), d);
                    // measured: float16 3.9e-4 / 1.9e-4, bfloat16 3.5e-3 / 1.5e-3 (dense / MoE)
                    assertTrue(d < (types.get(t).equals("float16") ? 0.01 : 0.05), arch.get(w) + " " + types.get(t) + " probabilities differ by " + d);
                }
            }
        }
    }

    /**
     * Which llama.cpp pre-tokenizer splits text as MiniMind's tokenizer.json (a ByteLevel pre-tokenizer with GPT-2's
     * regex): the same model and vocabulary written with each candidate tokenizer.ggml.pre, tokenized by llama.cpp.
     * "gpt-2" (what export writes) gives this project's ids on every text, for both MiniMind tokenizers; the others
     * are measured to differ on some, so the choice is not arbitrary.
     */
    @Test
    void preTokenizerTypeSplitsAsMiniMind() throws Exception {
        List<String> candidates = List.of(minimind4j.export.GgufVocab.PRE, "qwen2", "llama-bpe", "default");
        assertEquals("gpt-2", candidates.get(0));
        for (Path tokDir : List.of(TestPaths.minimind2(), TestPaths.minimind3())) {
            ModelConfig c = ModelConfig.minimind2(64, 1, false);
            List<Path> ggufs = new ArrayList<>();
            try (MiniMindLM m = MiniMindLM.init(c, 1); MiniMindTokenizer tok = MiniMindTokenizer.load(tokDir)) {
                Map<String, HostTensor> sd = Weights.hostStateDict(m, DType.F32);
                for (String pre : candidates) {
                    minimind4j.gguf.GgufWriter g = new minimind4j.gguf.GgufWriter();
                    minimind4j.export.GgufModel.write(g, c, sd, minimind4j.gguf.GgmlType.F32, "pre-" + pre);
                    minimind4j.export.GgufVocab.write(g, tokDir.resolve("tokenizer.json"), c.vocabSize(), tok.bosId(), tok.eosId(), tok.padId(), null, pre);
                    Path p = dir.resolve(tokDir.getFileName() + "-" + pre + ".gguf");
                    try (var os = Files.newOutputStream(p)) {
                        g.write(os);
                    }
                    ggufs.add(p);
                }
                JsonNode res = TestNode.run("llama-check.mjs", job(ggufs)).get("models");
                for (int k = 0; k < candidates.size(); k++) {
                    List<String> differ = new ArrayList<>();
                    for (int i = 0; i < TEXTS.size(); i++)
                        if (!ids(tok.encode(TEXTS.get(i))).equals(ids(res.get(k).get("tokens").get(i)))) differ.add(TEXTS.get(i));
                    System.out.printf(Locale.ROOT, "%s, tokenizer.ggml.pre=%s: %d of %d texts tokenized differently%s%n", tokDir.getFileName(),
                            candidates.get(k), differ.size(), TEXTS.size(), differ.isEmpty() ? "" : ": " + String.join(" | ", differ).replace("\n", "\\n"));
                    if (k == 0) assertEquals(List.of(), differ, "gpt-2 must split as tokenizer.json");
                    else assertFalse(differ.isEmpty(), candidates.get(k) + " was expected to differ somewhere");
                }
            }
        }
    }
}
