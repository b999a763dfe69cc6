package minimind4j.cli;

import minimind4j.model.ModelFamily;
import minimind4j.train.StageDefaults;
import minimind4j.UserError;

import minimind4j.model.ModelConfig;
import picocli.CommandLine.Option;

/** MiniMind's model flags, shared by every command that builds or loads a model. */
public final class ModelFlags {
    @Option(names = {"--hidden_size", "--hidden-size"}, description = "Hidden size (default: 512 for minimind2, 768 for minimind3)")
    public Integer hiddenSize;

    @Option(names = {"--num_hidden_layers", "--num-hidden-layers"}, description = "Number of decoder layers (default: 8)")
    public Integer numHiddenLayers;

    @Option(names = {"--use_moe", "--use-moe"}, description = "1 = MoE feed-forward (minimind2: 4 routed + 1 shared experts, top-2, per-sequence aux loss 0.01; minimind3: 4 routed experts, top-1, no shared expert, aux loss 5e-4), 0 = dense (default: 0)")
    public Integer useMoe;

    @Option(names = {"--num_attention_heads", "--num-attention-heads"}, description = "Attention heads (default: 8)")
    public Integer numAttentionHeads;

    @Option(names = {"--num_key_value_heads", "--num-key-value-heads"}, description = "Key/value heads (default: 2 for minimind2, 4 for minimind3)")
    public Integer numKeyValueHeads;

    @Option(names = {"--vocab_size", "--vocab-size"}, description = "Vocabulary size (default: 6400)")
    public Integer vocabSize;

    @Option(names = {"--model_family", "--model-family"}, description = "minimind2 (MiniMind2: 512/8 '26M', the default) or minimind3 (minimind-3: 768/8, q/k norm, wider FFN, post_init N(0, 0.02) init); sets the architecture, the init of a fresh model and the training defaults of that MiniMind version; default: the family of the --from_weight file (q/k norms: minimind3), else minimind2")
    public String family;

    public boolean anyGiven() {
        return hiddenSize != null || numHiddenLayers != null || useMoe != null || numAttentionHeads != null
                || numKeyValueHeads != null || vocabSize != null || family != null;
    }

    /** The config these flags describe, starting from {@code base} for anything not given. */
    public ModelConfig resolve(ModelConfig base) {
        ModelFamily fam = family != null ? StageDefaults.family(family) : base.modelFamily();
        int hidden = hiddenSize != null ? hiddenSize : base.hiddenSize();
        int layers = numHiddenLayers != null ? numHiddenLayers : base.numHiddenLayers();
        boolean moe = useMoe != null ? useMoe == 1 : base.useMoe();
        ModelConfig c = switch (fam) {
            case MINIMIND2 -> ModelConfig.minimind2(hidden, layers, moe);
            case MINIMIND3 -> ModelConfig.minimind3(hidden, layers, moe);
        };
        boolean sameShape = hidden == base.hiddenSize() && fam == base.modelFamily();
        if (sameShape) c = c.withIntermediateSize(base.intermediateSize());
        int heads = numAttentionHeads != null ? numAttentionHeads : (sameShape ? base.numAttentionHeads() : c.numAttentionHeads());
        int kv = numKeyValueHeads != null ? numKeyValueHeads : (sameShape ? base.numKeyValueHeads() : c.numKeyValueHeads());
        try {
            c = c.withHeads(heads, kv).withVocabSize(vocabSize != null ? vocabSize : base.vocabSize());
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        return c;
    }

    /** The config for a fresh model: the family's own MiniMind defaults (minimind2 512/8, minimind3 768/8) under the flags. */
    public ModelConfig resolve() {
        return resolve(StageDefaults.family(family) == ModelFamily.MINIMIND3 ? ModelConfig.minimind3(768, 8, false) : ModelConfig.minimind2());
    }
}
