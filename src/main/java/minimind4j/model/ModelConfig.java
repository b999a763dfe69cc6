package minimind4j.model;

/**
 * MiniMind's model hyper-parameters ({@code MiniMindConfig}). Two families exist: MiniMind2 (the 512/8 "26M" model the
 * SFT contract targets) and minimind-3 (768 hidden, 4 KV heads, per-head q/k RMSNorm, a different FFN width).
 */
public record ModelConfig(
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int vocabSize,
        int intermediateSize,
        double ropeTheta,
        double rmsNormEps,
        int maxPositionEmbeddings,
        boolean qkNorm,
        boolean useMoe,
        int nRoutedExperts,
        int numExpertsPerTok,
        int nSharedExperts,
        double auxLossAlpha,
        boolean seqAux,
        boolean normTopkProb) {

    public ModelConfig {
        if (hiddenSize <= 0 || numHiddenLayers <= 0 || numAttentionHeads <= 0 || numKeyValueHeads <= 0)
            throw new IllegalArgumentException("model sizes must be positive");
        if (hiddenSize % numAttentionHeads != 0)
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not a multiple of num_attention_heads " + numAttentionHeads);
        if (numAttentionHeads % numKeyValueHeads != 0)
            throw new IllegalArgumentException("num_attention_heads " + numAttentionHeads + " is not a multiple of num_key_value_heads " + numKeyValueHeads);
        if ((hiddenSize / numAttentionHeads) % 2 != 0)
            throw new IllegalArgumentException("head_dim must be even for rotary embeddings");
    }

    public int headDim() { return hiddenSize / numAttentionHeads; }

    /**
     * The hyper-parameters under MiniMindConfig's names (plus qk_norm, which tells the two families apart). Weight
     * shapes do not pin all of them down: 8 heads / 2 KV heads and 4 / 1 give identical tensors.
     */
    public java.util.LinkedHashMap<String, Object> asMap() {
        java.util.LinkedHashMap<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("hidden_size", (long) hiddenSize);
        m.put("num_hidden_layers", (long) numHiddenLayers);
        m.put("num_attention_heads", (long) numAttentionHeads);
        m.put("num_key_value_heads", (long) numKeyValueHeads);
        m.put("vocab_size", (long) vocabSize);
        m.put("intermediate_size", (long) intermediateSize);
        m.put("rope_theta", ropeTheta);
        m.put("rms_norm_eps", rmsNormEps);
        m.put("max_position_embeddings", (long) maxPositionEmbeddings);
        m.put("qk_norm", qkNorm);
        m.put("use_moe", useMoe);
        if (useMoe) {
            m.put("n_routed_experts", (long) nRoutedExperts);
            m.put("num_experts_per_tok", (long) numExpertsPerTok);
            m.put("n_shared_experts", (long) nSharedExperts);
            m.put("aux_loss_alpha", auxLossAlpha);
            m.put("seq_aux", seqAux);
            m.put("norm_topk_prob", normTopkProb);
        }
        return m;
    }

    /** MiniMind2's FFN width: 64 * ceil(int(hidden * 8 / 3) / 64). */
    public static int minimind2Intermediate(int hidden) {
        int i = (int) (hidden * 8.0 / 3);
        return 64 * ((i + 63) / 64);
    }

    /** minimind-3's FFN width: ceil(hidden * pi / 64) * 64. */
    public static int minimind3Intermediate(int hidden) {
        return (int) Math.ceil(hidden * Math.PI / 64) * 64;
    }

    /** MiniMind2 defaults (model_minimind.py before minimind-3): 8 heads, 2 KV heads, eps 1e-5, theta 1e6. */
    public static ModelConfig minimind2(int hidden, int layers, boolean useMoe) {
        return new ModelConfig(hidden, layers, 8, 2, 6400, minimind2Intermediate(hidden), 1e6, 1e-5, 32768,
                false, useMoe, 4, 2, 1, 0.01, true, true);
    }

    /** The default MiniMind2 model: 512 hidden, 8 layers, 25,829,888 parameters. */
    public static ModelConfig minimind2() { return minimind2(512, 8, false); }

    /**
     * minimind-3 defaults (current model_minimind.py MiniMindConfig): 8 heads, 4 KV heads, eps 1e-6, q/k norm; MoE:
     * num_experts 4, num_experts_per_tok 1, no shared expert, moe_intermediate_size = intermediate_size,
     * norm_topk_prob, router_aux_loss_coef 5e-4 (a batch-level aux loss, not MiniMind2's per-sequence one).
     */
    public static ModelConfig minimind3(int hidden, int layers, boolean useMoe) {
        return new ModelConfig(hidden, layers, 8, 4, 6400, minimind3Intermediate(hidden), 1e6, 1e-6, 32768,
                true, useMoe, 4, 1, 0, 5e-4, false, true);
    }

    public static ModelConfig minimind3(int hidden, int layers) { return minimind3(hidden, layers, false); }

    /** Which MiniMind version's architecture this is: minimind-3 (q/k norm) or MiniMind2. */
    public ModelFamily modelFamily() { return qkNorm ? ModelFamily.MINIMIND3 : ModelFamily.MINIMIND2; }

    /** {@link #modelFamily()} as files and flags spell it: "minimind3" or "minimind2". */
    public String family() { return modelFamily().id(); }

    public ModelConfig withVocabSize(int v) {
        return new ModelConfig(hiddenSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, v, intermediateSize,
                ropeTheta, rmsNormEps, maxPositionEmbeddings, qkNorm, useMoe, nRoutedExperts, numExpertsPerTok,
                nSharedExperts, auxLossAlpha, seqAux, normTopkProb);
    }

    public ModelConfig withHeads(int heads, int kvHeads) {
        return new ModelConfig(hiddenSize, numHiddenLayers, heads, kvHeads, vocabSize, intermediateSize,
                ropeTheta, rmsNormEps, maxPositionEmbeddings, qkNorm, useMoe, nRoutedExperts, numExpertsPerTok,
                nSharedExperts, auxLossAlpha, seqAux, normTopkProb);
    }

    public ModelConfig withIntermediateSize(int size) {
        return new ModelConfig(hiddenSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, vocabSize, size,
                ropeTheta, rmsNormEps, maxPositionEmbeddings, qkNorm, useMoe, nRoutedExperts, numExpertsPerTok,
                nSharedExperts, auxLossAlpha, seqAux, normTopkProb);
    }

    /** The file-name suffix MiniMind uses: {@code _moe} for MoE models. */
    public String weightSuffix() { return useMoe ? "_moe" : ""; }
}
