package minimind4j.model;

/**
 * MiniMind's model hyper-parameters ({@code MiniMindConfig}). Two families exist: MiniMind2 (the 512/8 "26M" model the
 * SFT contract targets) and minimind-3 (768 hidden, 4 KV heads, per-head q/k RMSNorm, a different FFN width).
 * Built by name: {@link #minimind2}/{@link #minimind3} give a family's defaults, {@link #toBuilder()} changes fields
 * ({@code c.toBuilder().vocabSize(8000).build()}); the positional constructor is only the builder's.
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
        return new Builder().hiddenSize(hidden).numHiddenLayers(layers).numAttentionHeads(8).numKeyValueHeads(2).vocabSize(6400)
                .intermediateSize(minimind2Intermediate(hidden)).ropeTheta(1e6).rmsNormEps(1e-5).maxPositionEmbeddings(32768)
                .qkNorm(false).useMoe(useMoe).nRoutedExperts(4).numExpertsPerTok(2).nSharedExperts(1).auxLossAlpha(0.01)
                .seqAux(true).normTopkProb(true).build();
    }

    /** The default MiniMind2 model: 512 hidden, 8 layers, 25,829,888 parameters. */
    public static ModelConfig minimind2() { return minimind2(512, 8, false); }

    /**
     * minimind-3 defaults (current model_minimind.py MiniMindConfig): 8 heads, 4 KV heads, eps 1e-6, q/k norm; MoE:
     * num_experts 4, num_experts_per_tok 1, no shared expert, moe_intermediate_size = intermediate_size,
     * norm_topk_prob, router_aux_loss_coef 5e-4 (a batch-level aux loss, not MiniMind2's per-sequence one).
     */
    public static ModelConfig minimind3(int hidden, int layers, boolean useMoe) {
        return new Builder().hiddenSize(hidden).numHiddenLayers(layers).numAttentionHeads(8).numKeyValueHeads(4).vocabSize(6400)
                .intermediateSize(minimind3Intermediate(hidden)).ropeTheta(1e6).rmsNormEps(1e-6).maxPositionEmbeddings(32768)
                .qkNorm(true).useMoe(useMoe).nRoutedExperts(4).numExpertsPerTok(1).nSharedExperts(0).auxLossAlpha(5e-4)
                .seqAux(false).normTopkProb(true).build();
    }

    public static ModelConfig minimind3(int hidden, int layers) { return minimind3(hidden, layers, false); }

    /** Which MiniMind version's architecture this is: minimind-3 (q/k norm) or MiniMind2. */
    public ModelFamily modelFamily() { return qkNorm ? ModelFamily.MINIMIND3 : ModelFamily.MINIMIND2; }

    /** {@link #modelFamily()} as files and flags spell it: "minimind3" or "minimind2". */
    public String family() { return modelFamily().id(); }

    public ModelConfig withVocabSize(int v) { return toBuilder().vocabSize(v).build(); }

    public ModelConfig withHeads(int heads, int kvHeads) { return toBuilder().numAttentionHeads(heads).numKeyValueHeads(kvHeads).build(); }

    public ModelConfig withIntermediateSize(int size) { return toBuilder().intermediateSize(size).build(); }

    /** A builder holding this config's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.hiddenSize = hiddenSize;
        b.numHiddenLayers = numHiddenLayers;
        b.numAttentionHeads = numAttentionHeads;
        b.numKeyValueHeads = numKeyValueHeads;
        b.vocabSize = vocabSize;
        b.intermediateSize = intermediateSize;
        b.ropeTheta = ropeTheta;
        b.rmsNormEps = rmsNormEps;
        b.maxPositionEmbeddings = maxPositionEmbeddings;
        b.qkNorm = qkNorm;
        b.useMoe = useMoe;
        b.nRoutedExperts = nRoutedExperts;
        b.numExpertsPerTok = numExpertsPerTok;
        b.nSharedExperts = nSharedExperts;
        b.auxLossAlpha = auxLossAlpha;
        b.seqAux = seqAux;
        b.normTopkProb = normTopkProb;
        return b;
    }

    /** Named fields, checked together by the record's constructor at {@link #build()}. */
    public static final class Builder {
        private int hiddenSize;
        private int numHiddenLayers;
        private int numAttentionHeads;
        private int numKeyValueHeads;
        private int vocabSize;
        private int intermediateSize;
        private double ropeTheta;
        private double rmsNormEps;
        private int maxPositionEmbeddings;
        private boolean qkNorm;
        private boolean useMoe;
        private int nRoutedExperts;
        private int numExpertsPerTok;
        private int nSharedExperts;
        private double auxLossAlpha;
        private boolean seqAux;
        private boolean normTopkProb;

        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        public Builder numHiddenLayers(int v) { numHiddenLayers = v; return this; }
        public Builder numAttentionHeads(int v) { numAttentionHeads = v; return this; }
        public Builder numKeyValueHeads(int v) { numKeyValueHeads = v; return this; }
        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder intermediateSize(int v) { intermediateSize = v; return this; }
        public Builder ropeTheta(double v) { ropeTheta = v; return this; }
        public Builder rmsNormEps(double v) { rmsNormEps = v; return this; }
        public Builder maxPositionEmbeddings(int v) { maxPositionEmbeddings = v; return this; }
        public Builder qkNorm(boolean v) { qkNorm = v; return this; }
        public Builder useMoe(boolean v) { useMoe = v; return this; }
        public Builder nRoutedExperts(int v) { nRoutedExperts = v; return this; }
        public Builder numExpertsPerTok(int v) { numExpertsPerTok = v; return this; }
        public Builder nSharedExperts(int v) { nSharedExperts = v; return this; }
        public Builder auxLossAlpha(double v) { auxLossAlpha = v; return this; }
        public Builder seqAux(boolean v) { seqAux = v; return this; }
        public Builder normTopkProb(boolean v) { normTopkProb = v; return this; }

        public ModelConfig build() {
            return new ModelConfig(hiddenSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, vocabSize, intermediateSize, ropeTheta, rmsNormEps, maxPositionEmbeddings, qkNorm, useMoe, nRoutedExperts, numExpertsPerTok, nSharedExperts, auxLossAlpha, seqAux, normTopkProb);
        }
    }

    /** The file-name suffix MiniMind uses: {@code _moe} for MoE models. */
    public String weightSuffix() { return useMoe ? "_moe" : ""; }
}
