package minimind4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.TestPaths;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Safetensors;
import minimind4j.checkpoint.Weights;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@code minimind export}: a Hugging Face directory whose tensors, config and tokenizer are the source's. */
class ExportCommandTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private Path save(ModelConfig c, String name) {
        Path p = dir.resolve(name);
        try (MiniMindLM m = MiniMindLM.init(c, 3)) {
            Weights.saveHalf(p, m);
        }
        return p;
    }

    @Test
    void miniMind2BecomesLlamaWithTheSameTensorsAndChatsTheSame() throws Exception {
        ModelConfig c = ModelConfig.minimind2(64, 2, false);
        Path pth = save(c, "full_sft_64.pth"), out = dir.resolve("hf");
        CliRun r = run("export", "--weight", pth.toString(), "--tokenizer_path", TestPaths.minimind2().toString(), "--out_dir", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("LlamaForCausalLM"), r.out());

        Map<String, HostTensor> source = Weights.read(pth), exported = Safetensors.read(out.resolve("model.safetensors"));
        List<String> expectedKeys = new ArrayList<>(MiniMindLM.expectedShapes(c).keySet());
        expectedKeys.remove(MiniMindLM.LM_HEAD); // tied: transformers re-ties it from the embedding
        assertEquals(expectedKeys, new ArrayList<>(exported.keySet()));
        for (String k : expectedKeys) {
            assertEquals("F16", exported.get(k).dtype().name());
            assertEquals(source.get(k), exported.get(k), k);
        }

        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("LlamaForCausalLM", cfg.at("/architectures/0").asText());
        assertEquals("llama", cfg.get("model_type").asText());
        assertEquals(64, cfg.get("hidden_size").asInt());
        assertEquals(ModelConfig.minimind2Intermediate(64), cfg.get("intermediate_size").asInt());
        assertEquals(2, cfg.get("num_hidden_layers").asInt());
        assertEquals(8, cfg.get("num_attention_heads").asInt());
        assertEquals(2, cfg.get("num_key_value_heads").asInt());
        assertEquals(6400, cfg.get("vocab_size").asInt());
        assertEquals(1e-5, cfg.get("rms_norm_eps").asDouble());
        assertEquals(1e6, cfg.get("rope_theta").asDouble());
        assertTrue(cfg.get("tie_word_embeddings").asBoolean());
        assertEquals("float16", cfg.get("torch_dtype").asText());
        // MiniMind's special tokens: <|im_start|> = 1, <|im_end|> = 2
        assertEquals(1, cfg.get("bos_token_id").asInt());
        assertEquals(2, cfg.get("eos_token_id").asInt());
        for (String f : new String[]{"tokenizer.json", "tokenizer_config.json"})
            assertArrayEquals(Files.readAllBytes(TestPaths.minimind2().resolve(f)), Files.readAllBytes(out.resolve(f)), f);

        // the directory is a weight source again: the same greedy reply as the .pth it came from
        String[] ask = {"--prompt", "你好", "--temperature", "0", "--max_new_tokens", "6", "--show_speed", "0"};
        // (chat prints its replies itself: ChatOutput captures them, CliRun would compare two empty strings)
        String fromPth = ChatOutput.reply(concat(new String[]{"--weight", pth.toString(), "--tokenizer_path", TestPaths.minimind2().toString()}, ask));
        String fromDir = ChatOutput.reply(concat(new String[]{"--weight", out.toString(), "--tokenizer_path", out.toString()}, ask));
        assertFalse(fromPth.isEmpty());
        assertEquals(fromPth, fromDir);
    }

    @Test
    void miniMind3BecomesQwen3AndTheHeadCountTravelsInConfigJson() throws Exception {
        ModelConfig c = ModelConfig.minimind3(64, 2).withVocabSize(6400);
        Path pth = save(c, "full_sft_64.pth"), out = dir.resolve("qwen");
        CliRun r = run("export", "--weight", pth.toString(), "--tokenizer_path", TestPaths.minimind3().toString(), "--out_dir", out.toString(),
                "--dtype", "bfloat16");
        assertEquals(0, r.code(), r.err());
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("Qwen3ForCausalLM", cfg.at("/architectures/0").asText());
        assertEquals("qwen3", cfg.get("model_type").asText());
        assertEquals(c.headDim(), cfg.get("head_dim").asInt());
        assertEquals(c.numKeyValueHeads(), cfg.get("num_key_value_heads").asInt());
        assertEquals(c.rmsNormEps(), cfg.get("rms_norm_eps").asDouble());
        assertEquals("BF16", Safetensors.read(out.resolve("model.safetensors")).get("model.layers.0.self_attn.q_norm.weight").dtype().name());
    }

    /** minimind-3's MoE is Qwen3-MoE as convert_model.py writes it: the same per-expert tensors, its MoE config keys. */
    @Test
    void miniMind3MoeBecomesQwen3MoeAndChatsTheSame() throws Exception {
        ModelConfig c = ModelConfig.minimind3(64, 2, true);
        Path pth = save(c, "full_sft_64_moe.pth"), out = dir.resolve("qwen_moe");
        CliRun r = run("export", "--weight", pth.toString(), "--tokenizer_path", TestPaths.minimind3().toString(), "--out_dir", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Qwen3MoeForCausalLM"), r.out());
        Map<String, HostTensor> source = Weights.read(pth), exported = Safetensors.read(out.resolve("model.safetensors"));
        List<String> expectedKeys = new ArrayList<>(MiniMindLM.expectedShapes(c).keySet());
        expectedKeys.remove(MiniMindLM.LM_HEAD);
        assertEquals(expectedKeys, new ArrayList<>(exported.keySet()));
        assertTrue(exported.containsKey("model.layers.1.mlp.gate.weight") && exported.containsKey("model.layers.1.mlp.experts.3.down_proj.weight"));
        for (String k : expectedKeys) assertEquals(source.get(k), exported.get(k), k);
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("Qwen3MoeForCausalLM", cfg.at("/architectures/0").asText());
        assertEquals("qwen3_moe", cfg.get("model_type").asText());
        assertEquals(4, cfg.get("num_experts").asInt());
        assertEquals(1, cfg.get("num_experts_per_tok").asInt());
        assertEquals(c.intermediateSize(), cfg.get("moe_intermediate_size").asInt());
        assertTrue(cfg.get("norm_topk_prob").asBoolean());
        assertEquals(1, cfg.get("decoder_sparse_step").asInt());
        assertEquals(0, cfg.get("mlp_only_layers").size());

        CliRun info = run("info", "--weight", out.toString(), "--no_keys");
        assertTrue(info.out().contains("use_moe=1 (4 routed, 0 shared, top-1, minimind-3 router)"), info.out());
        String[] ask = {"--prompt", "你好", "--temperature", "0", "--max_new_tokens", "6", "--show_speed", "0"};
        String fromPth = ChatOutput.reply(concat(new String[]{"--weight", pth.toString(), "--tokenizer_path", TestPaths.minimind3().toString()}, ask));
        String fromDir = ChatOutput.reply(concat(new String[]{"--weight", out.toString(), "--tokenizer_path", out.toString()}, ask));
        assertFalse(fromPth.isEmpty());
        assertEquals(fromPth, fromDir);
    }

    /** 4 heads / 1 KV head has the tensor shapes of 8 / 2 at hidden 64: config.json is what tells them apart later. */
    @Test
    void aHeadLayoutTheShapesCannotShowTravelsInConfigJson() throws Exception {
        Path pth = save(ModelConfig.minimind2(64, 2, false).withHeads(4, 1), "heads4.pth"), out = dir.resolve("h4");
        CliRun r = run("export", "--weight", pth.toString(), "--tokenizer_path", TestPaths.minimind2().toString(), "--out_dir", out.toString(),
                "--num_attention_heads", "4", "--num_key_value_heads", "1");
        assertEquals(0, r.code(), r.err());
        CliRun info = run("info", "--weight", out.toString(), "--no_keys");
        assertTrue(info.out().contains("num_attention_heads=4 num_key_value_heads=1 head_dim=16"), info.out());
        CliRun plain = run("info", "--weight", pth.toString(), "--no_keys");
        assertTrue(plain.out().contains("num_attention_heads=8 num_key_value_heads=2"), "a bare .pth cannot tell: " + plain.out());
    }

    @Test
    void moeAndOccupiedDirectoriesAreRefusedWithoutWritingAnything() throws Exception {
        Path moe = save(ModelConfig.minimind2(64, 2, true), "moe.pth"), out = dir.resolve("none");
        CliRun r = run("export", "--weight", moe.toString(), "--tokenizer_path", TestPaths.minimind2().toString(), "--out_dir", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: " + moe + ": MiniMind2 MoE weights have no exact transformers architecture"), r.err());
        assertFalse(Files.exists(out));

        Path dense = save(ModelConfig.minimind2(64, 2, false), "dense.pth"), busy = Files.createDirectories(dir.resolve("busy"));
        Files.writeString(busy.resolve("keep.txt"), "mine");
        r = run("export", "--weight", dense.toString(), "--tokenizer_path", TestPaths.minimind2().toString(), "--out_dir", busy.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("exists and is not empty"), r.err());
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().contains(".tmp")), "no temp directory left behind");
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
