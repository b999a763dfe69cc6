package minimind4j.export;

import minimind4j.UserError;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.gguf.GgmlEncode;
import minimind4j.gguf.GgmlType;
import minimind4j.gguf.GgufWriter;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;

import java.util.Locale;
import java.util.Map;

/**
 * A MiniMind state dict as llama.cpp's GGUF model: which architecture (MiniMind2 dense = {@code llama}, minimind-3 =
 * {@code qwen3}, minimind-3 MoE = {@code qwen3moe}), the hyper-parameters llama.cpp reads for it, and each tensor under
 * llama.cpp's name ({@code llama-arch.cpp}'s LLM_TENSOR_NAMES), as convert_hf_to_gguf.py maps the equivalent
 * transformers model. lm_head is tied: llama.cpp falls back to token_embd when output.weight is absent.
 */
public final class GgufModel {
    private GgufModel() {}

    /** llama.cpp's general.file_type ({@code enum llama_ftype}) for a GGUF whose big tensors are {@code type}. */
    static int fileType(GgmlType type) {
        return switch (type) { case F32 -> 0; case F16 -> 1; case Q8_0 -> 7; case BF16 -> 32; };
    }

    public static String architecture(ModelConfig c) {
        if (!c.qkNorm()) {
            if (c.useMoe()) throw new UserError("MiniMind2 MoE weights have no llama.cpp architecture (shared experts and its own router); export a dense or a minimind-3 MoE model");
            return "llama";
        }
        if (c.useMoe() && !c.normTopkProb())
            throw new UserError("llama.cpp's qwen3moe always renormalises the top-k router weights; this model has norm_topk_prob false");
        return c.useMoe() ? "qwen3moe" : "qwen3";
    }

    /** Hyper-parameters and tensors of {@code sd} (a complete MiniMind state dict of config {@code c}) into {@code g}. */
    public static void write(GgufWriter g, ModelConfig c, Map<String, HostTensor> sd, GgmlType type, String name) {
        String arch = architecture(c);
        g.putString("general.architecture", arch);
        g.putString("general.name", name);
        g.putUint32("general.file_type", fileType(type));
        if (type == GgmlType.Q8_0) g.putUint32("general.quantization_version", 2);
        g.putUint32(arch + ".vocab_size", c.vocabSize());
        g.putUint32(arch + ".context_length", c.maxPositionEmbeddings());
        g.putUint32(arch + ".embedding_length", c.hiddenSize());
        g.putUint32(arch + ".block_count", c.numHiddenLayers());
        g.putUint32(arch + ".feed_forward_length", c.intermediateSize());
        g.putUint32(arch + ".attention.head_count", c.numAttentionHeads());
        g.putUint32(arch + ".attention.head_count_kv", c.numKeyValueHeads());
        g.putUint32(arch + ".attention.key_length", c.headDim());
        g.putUint32(arch + ".attention.value_length", c.headDim());
        g.putUint32(arch + ".rope.dimension_count", c.headDim());
        g.putFloat32(arch + ".rope.freq_base", c.ropeTheta());
        g.putFloat32(arch + ".attention.layer_norm_rms_epsilon", c.rmsNormEps());
        if (c.useMoe()) {
            g.putUint32(arch + ".expert_count", c.nRoutedExperts());
            g.putUint32(arch + ".expert_used_count", c.numExpertsPerTok());
            g.putUint32(arch + ".expert_feed_forward_length", c.intermediateSize());
        }

        HostTensor embed = sd.containsKey(MiniMindLM.EMBED) ? sd.get(MiniMindLM.EMBED) : sd.get(MiniMindLM.LM_HEAD);
        add(g, "token_embd.weight", embed.shape(), embed.toFloatArray(), type);
        boolean llama = arch.equals("llama");
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".", b = "blk." + l + ".";
            float[] q = f(sd, p + "self_attn.q_proj.weight"), k = f(sd, p + "self_attn.k_proj.weight");
            if (llama) {  // MiniMind rotates halves (rotate_half); llama.cpp's llama rope rotates adjacent pairs
                q = permute(q, c.numAttentionHeads(), c.hiddenSize());
                k = permute(k, c.numKeyValueHeads(), c.hiddenSize());
            }
            add(g, b + "attn_norm.weight", sd.get(p + "input_layernorm.weight").shape(), f(sd, p + "input_layernorm.weight"), type);
            add(g, b + "attn_q.weight", sd.get(p + "self_attn.q_proj.weight").shape(), q, type);
            add(g, b + "attn_k.weight", sd.get(p + "self_attn.k_proj.weight").shape(), k, type);
            same(g, sd, p + "self_attn.v_proj.weight", b + "attn_v.weight", type);
            same(g, sd, p + "self_attn.o_proj.weight", b + "attn_output.weight", type);
            if (c.qkNorm()) {
                same(g, sd, p + "self_attn.q_norm.weight", b + "attn_q_norm.weight", type);
                same(g, sd, p + "self_attn.k_norm.weight", b + "attn_k_norm.weight", type);
            }
            same(g, sd, p + "post_attention_layernorm.weight", b + "ffn_norm.weight", type);
            if (!c.useMoe()) {
                for (String[] m : new String[][]{{"gate_proj", "ffn_gate"}, {"up_proj", "ffn_up"}, {"down_proj", "ffn_down"}})
                    same(g, sd, p + "mlp." + m[0] + ".weight", b + m[1] + ".weight", type);
            } else {
                // the router stays float32, as convert_hf_to_gguf.py keeps FFN_GATE_INP
                same(g, sd, p + "mlp.gate.weight", b + "ffn_gate_inp.weight", GgmlType.F32);
                for (String[] m : new String[][]{{"gate_proj", "ffn_gate_exps"}, {"up_proj", "ffn_up_exps"}, {"down_proj", "ffn_down_exps"}})
                    stacked(g, sd, p + "mlp.experts.", "." + m[0] + ".weight", c.nRoutedExperts(), b + m[1] + ".weight", type);
            }
        }
        same(g, sd, "model.norm.weight", "output_norm.weight", type);
    }

    private static float[] f(Map<String, HostTensor> sd, String key) {
        return sd.get(key).toFloatArray();
    }

    private static void same(GgufWriter g, Map<String, HostTensor> sd, String key, String name, GgmlType type) {
        add(g, name, sd.get(key).shape(), f(sd, key), type);
    }

    /** Experts' [out, in] matrices as one [experts, out, in] tensor (llama.cpp's *_exps). */
    private static void stacked(GgufWriter g, Map<String, HostTensor> sd, String prefix, String suffix, int experts, String name, GgmlType type) {
        long[] one = sd.get(prefix + 0 + suffix).shape();
        int n = Math.toIntExact(one[0] * one[1]);
        float[] all = new float[n * experts];
        for (int e = 0; e < experts; e++) System.arraycopy(f(sd, prefix + e + suffix), 0, all, e * n, n);
        add(g, name, new long[]{experts, one[0], one[1]}, all, type);
    }

    /**
     * Vectors (norms) stay float32, as convert_hf_to_gguf.py keeps them; a matrix whose rows do not split into Q8_0's
     * 32-value blocks falls back to float16, as gguf-py does.
     */
    private static void add(GgufWriter g, String name, long[] shape, float[] values, GgmlType type) {
        GgmlType t = shape.length == 1 ? GgmlType.F32 : type;
        if (t == GgmlType.Q8_0 && shape[shape.length - 1] % 32 != 0) t = GgmlType.F16;
        g.addTensor(name, shape, t, GgmlEncode.encode(t, values));
    }

    /**
     * convert_hf_to_gguf.py's LlamaModel.permute: rows of each head go from [first halves..., second halves...]
     * (rotate_half pairs i and i + d/2) to interleaved pairs (2i, 2i + 1), which llama.cpp's normal rope rotates.
     */
    static float[] permute(float[] w, int heads, int cols) {
        int rows = w.length / cols, headDim = rows / heads, half = headDim / 2;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
                for (int j = 0; j < 2; j++)
                    System.arraycopy(w, (h * headDim + j * half + i) * cols, out, (h * headDim + 2 * i + j) * cols, cols);
        return out;
    }

    public static String describe(ModelConfig c, GgmlType type) {
        return String.format(Locale.ROOT, "%s, %s", architecture(c), type.name().toLowerCase(Locale.ROOT));
    }
}
