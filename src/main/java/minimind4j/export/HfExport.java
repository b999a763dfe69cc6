package minimind4j.export;

import minimind4j.UserError;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Safetensors;
import minimind4j.export.ExportDirectory.At;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Hugging Face model directory as MiniMind's scripts/convert_model.py makes it: model.safetensors with MiniMind's
 * state-dict names (lm_head omitted: tied), config.json for the architecture transformers already has,
 * generation_config.json and the tokenizer files.
 */
public final class HfExport {
    private HfExport() {}

    /** Writes {@code outDir} from a complete state dict; returns the number of tensors written. */
    public static int write(Map<String, HostTensor> sd, ModelConfig c, Path tokenizerPath, String torchDtype, Path outDir) {
        LinkedHashMap<String, HostTensor> tensors = new LinkedHashMap<>();
        for (String k : MiniMindLM.expectedShapes(c).keySet()) {
            if (k.equals(MiniMindLM.LM_HEAD)) continue;
            HostTensor t = sd.containsKey(k) ? sd.get(k) : sd.get(MiniMindLM.LM_HEAD);
            tensors.put(k, switch (torchDtype) {
                case "float16" -> t.toF16();
                case "bfloat16" -> t.toBF16();
                default -> t.toF32();
            });
        }
        ExportDirectory.intoDirectory(outDir, (tmp, at) -> {
            try (MiniMindTokenizer tok = MiniMindTokenizer.load(tokenizerPath)) {
                if (tok.vocabSize() > c.vocabSize())
                    throw new UserError(tokenizerPath + ": the tokenizer has " + tok.vocabSize() + " tokens but the model only " + c.vocabSize());
                Safetensors.write(at.file(tmp.resolve("model.safetensors")), tensors, Map.of("format", "pt"));
                ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                json.writeValue(at.file(tmp.resolve("config.json")).toFile(), config(c, torchDtype, tok.bosId(), tok.eosId()));
                Map<String, Object> generation = new LinkedHashMap<>();
                generation.put("bos_token_id", tok.bosId());
                generation.put("eos_token_id", tok.eosId());
                generation.put("pad_token_id", tok.padId());
                json.writeValue(at.file(tmp.resolve("generation_config.json")).toFile(), generation);
                copyTokenizer(tokenizerPath, tmp, tok, at);
            }
        });
        return tensors.size();
    }

    /**
     * The tokenizer files, as they were (tokenizer_config.json keeps its template, for transformers before 4.43), plus
     * chat_template.jinja, where transformers 4.43 and later save and look for the template first.
     */
    public static void copyTokenizer(Path from, Path to, MiniMindTokenizer tok, At at) throws IOException {
        for (String name : new String[]{"tokenizer.json", "tokenizer_config.json"})
            Files.copy(from.resolve(name), at.file(to.resolve(name)));
        String template = tok.config().chatTemplate();
        if (template != null) Files.writeString(at.file(to.resolve("chat_template.jinja")), template);
    }

    public static String architecture(ModelConfig c) {
        if (c.qkNorm()) return c.useMoe() ? "Qwen3MoeForCausalLM" : "Qwen3ForCausalLM";
        return "LlamaForCausalLM";
    }

    /** transformers' config for the architecture the model is, with MiniMind's hyper-parameters. */
    public static Map<String, Object> config(ModelConfig c, String torchDtype, int bos, int eos) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", new String[]{architecture(c)});
        m.put("model_type", !c.qkNorm() ? "llama" : c.useMoe() ? "qwen3_moe" : "qwen3");
        m.put("vocab_size", c.vocabSize());
        m.put("hidden_size", c.hiddenSize());
        m.put("intermediate_size", c.intermediateSize());
        m.put("num_hidden_layers", c.numHiddenLayers());
        m.put("num_attention_heads", c.numAttentionHeads());
        m.put("num_key_value_heads", c.numKeyValueHeads());
        m.put("head_dim", c.headDim());
        m.put("hidden_act", "silu");
        m.put("max_position_embeddings", c.maxPositionEmbeddings());
        m.put("rms_norm_eps", c.rmsNormEps());
        m.put("rope_theta", c.ropeTheta());
        m.put("rope_scaling", null);
        m.put("attention_bias", false);
        m.put("attention_dropout", 0.0);
        if (c.qkNorm()) {
            m.put("use_sliding_window", false);
            m.put("sliding_window", null);
            if (c.useMoe()) {
                // convert_model.py's Qwen3MoeConfig(num_experts, num_experts_per_tok, moe_intermediate_size,
                // norm_topk_prob); the rest at Qwen3MoeConfig's defaults, which make every layer sparse. Its
                // router_aux_loss_coef (0.001) is transformers' own load-balancing loss, only used when training there.
                m.put("num_experts", c.nRoutedExperts());
                m.put("num_experts_per_tok", c.numExpertsPerTok());
                m.put("moe_intermediate_size", c.intermediateSize());
                m.put("norm_topk_prob", c.normTopkProb());
                m.put("decoder_sparse_step", 1);
                m.put("mlp_only_layers", new int[0]);
                m.put("output_router_logits", false);
                m.put("router_aux_loss_coef", 0.001);
            }
        } else {
            m.put("mlp_bias", false);
        }
        m.put("tie_word_embeddings", true);
        m.put("bos_token_id", bos);
        m.put("eos_token_id", eos);
        m.put("torch_dtype", torchDtype);
        m.put("use_cache", true);
        return m;
    }
}
