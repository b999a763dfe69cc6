package minimind4j.model;

import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MiniMind's {@code MiniMindForCausalLM}: token embedding, pre-norm {@link DecoderLayer}s ({@link RmsNorm},
 * {@link Rope}-rotated GQA {@link Attention}, {@link FeedForward} SwiGLU or {@link MoeFeedForward}), final RMSNorm and
 * an lm_head tied to the embedding.
 *
 * <p>Parameters live in one ordered map under MiniMind's exact state-dict names, so checkpoints move both ways without
 * renaming; the layers hold the same tensors, looked up once. The tied weight is stored once, under
 * {@code model.embed_tokens.weight}; {@link #stateDict()} also lists it as {@code lm_head.weight}, as PyTorch does.
 */
public final class MiniMindLM implements AutoCloseable {
    public static final String EMBED = "model.embed_tokens.weight";
    public static final String LM_HEAD = "lm_head.weight";

    private final ModelConfig config;
    private final LinkedHashMap<String, Tensor> params;
    private final Rope rope;
    /** Adapters and train/eval mode, read by every layer. */
    private final Linear.Hook hook = new Linear.Hook();
    // the parameters as layers, resolved from params (again when to() replaces them)
    private Tensor embed;
    private DecoderLayer[] layers;
    private RmsNorm norm;

    private MiniMindLM(ModelConfig config, LinkedHashMap<String, Tensor> params) {
        this.config = config;
        this.params = params;
        this.rope = new Rope(config);
        params.values().forEach(Torch::keep);
        resolve();
    }

    private void resolve() {
        embed = required(params, EMBED);
        layers = new DecoderLayer[config.numHiddenLayers()];
        for (int l = 0; l < layers.length; l++) layers[l] = new DecoderLayer(config, l, params, hook);
        norm = new RmsNorm(required(params, "model.norm.weight"), config.rmsNormEps());
    }

    static Tensor required(Map<String, Tensor> params, String name) {
        Tensor t = params.get(name);
        if (t == null) throw new IllegalStateException("no parameter " + name);
        return t;
    }

    public ModelConfig config() { return config; }

    /** The device and precision the model was moved to: generation computes under its autocast (fp32 until {@link #to}). */
    private Precision precision = Precision.cpu();

    public Precision precision() { return precision; }

    /**
     * Moves parameters and rotary tables to the run's device (before an optimizer is made over them). Parameters
     * stay fp32 leaves: the master copy that autocast reads in lower precision, as in MiniMind's scripts.
     */
    public MiniMindLM to(Precision precision) {
        this.precision = precision;
        if (!precision.cuda()) return this;
        org.bytedeco.pytorch.Device device = precision.device();
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            Tensor old = e.getValue();
            Tensor moved = old.detach().to(device, ScalarType.Float).detach();
            moved.set_requires_grad(true);
            e.setValue(Torch.keep(moved));
            Torch.free(old);
        }
        rope.to(device);
        resolve();
        return this;
    }

    /** A tensor on the same device as the parameters: where inputs must go. */
    public Tensor anyParameter() { return params.get(EMBED); }

    public void train(boolean on) { hook.training = on; }

    public boolean training() { return hook.training; }

    /**
     * Something added to Linear layers' outputs, y = x W^T + delta(x), by module name as PyTorch's named_modules spells
     * it ({@code model.layers.0.self_attn.q_proj}). The base weights stay as they are; LoRA (minimind4j.lora) is the
     * one implementation.
     */
    public interface LinearAdapters {
        /** The addition to {@code module}'s output for input {@code x}, or null when that module has none. */
        Tensor delta(String module, Tensor x, boolean training);
    }

    /** Attaches adapters to every forward pass from now on (null detaches them). */
    public void adapt(LinearAdapters a) { hook.adapters = a; }

    public LinearAdapters adapters() { return hook.adapters; }

    // ------------------------------------------------------------------------------------------------ parameters

    /** The names and shapes of MiniMind's state dict, in PyTorch's order, lm_head.weight included. */
    public static LinkedHashMap<String, long[]> expectedShapes(ModelConfig c) { return Layout.shapes(c); }

    /**
     * The parameter names in the order Python's {@code model.parameters()} yields them for MiniMind's module of this
     * family (registration order, the tied embedding once, first): the index space of PyTorch's optimizer state.
     */
    public static List<String> pythonParameterOrder(ModelConfig c) {
        List<String> names = new ArrayList<>(expectedShapes(c).keySet());
        names.remove(LM_HEAD);
        return names;
    }

    /**
     * A freshly initialised model, as MiniMind initialises its family when trained from scratch.
     * <ul>
     * <li>MiniMind2 never calls post_init, so PyTorch's own init applies: every Linear weight (the MoE gate too)
     * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a=sqrt(5)), the tied embedding keeps lm_head's init
     * (lm_head is built last and its weight replaces the embedding's), RMSNorm weights are ones.</li>
     * <li>minimind-3's MiniMindForCausalLM ends its constructor with post_init(), i.e. transformers'
     * PreTrainedModel._init_weights with initializer_range 0.02 (MiniMindConfig sets none, the library default
     * applies): every Linear and the embedding N(0, 0.02), RMSNorm weights ones.</li>
     * </ul>
     */
    public static MiniMindLM init(ModelConfig c, long seed) { return new MiniMindLM(c, Layout.initialised(c, seed)); }

    /** transformers' default initializer_range, which minimind-3's post_init uses. */
    public static final double INITIALIZER_RANGE = 0.02;

    /**
     * A model over the given fp32 tensors, which must be exactly {@link #expectedShapes} (lm_head optional: it is the
     * embedding). Callers check the keys first (see checkpoint.StateDictCheck) so the user gets one report.
     */
    public static MiniMindLM fromTensors(ModelConfig c, Map<String, Tensor> tensors) {
        LinkedHashMap<String, Tensor> p = new LinkedHashMap<>();
        for (String k : expectedShapes(c).keySet()) {
            if (k.equals(LM_HEAD)) continue;
            Tensor t = tensors.get(k);
            if (t == null) t = k.equals(EMBED) ? tensors.get(LM_HEAD) : null;
            if (t == null) throw new IllegalArgumentException("missing tensor " + k);
            Tensor f = t.detach().to(ScalarType.Float).contiguous().clone();
            f.set_requires_grad(true);
            p.put(k, f);
        }
        return new MiniMindLM(c, p);
    }

    /** Unique trainable tensors, in state-dict order (the tied embedding once). */
    public TensorVector parameters() {
        TensorVector v = new TensorVector();
        for (Tensor t : params.values()) v.push_back(t);
        return v;
    }

    public Map<String, Tensor> namedParameters() { return Collections.unmodifiableMap(params); }

    /** MiniMind's state dict: every parameter under its name, and the tied embedding again as lm_head.weight. */
    public LinkedHashMap<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>(params);
        sd.put(LM_HEAD, params.get(EMBED));
        return sd;
    }

    /** Parameter count as PyTorch's {@code sum(p.numel() for p in model.parameters())}: the tied weight once. */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : params.values()) n += t.numel();
        return n;
    }

    public static long parameterCount(ModelConfig c) {
        long n = 0;
        for (Map.Entry<String, long[]> e : expectedShapes(c).entrySet()) {
            if (e.getKey().equals(LM_HEAD)) continue;
            long m = 1;
            for (long x : e.getValue()) m *= x;
            n += m;
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------------ forward

    /** Rotary tables computed as MiniMind's precompute_freqs_cis (fp32 outer product, cos/sin duplicated). */
    public static Tensor[] rotaryTables(int dim, int end, double theta) { return Rope.tables(dim, end, theta); }

    /** MiniMind's RMSNorm: computed in fp32 whatever the input (it may be bf16 under autocast), cast back to it. */
    public static Tensor rmsNorm(Tensor x, Tensor weight, double eps) { return RmsNorm.apply(x, weight, eps); }

    /** Rotary position embedding of q or k [B, T, heads, D] with cos/sin [T, 1, D]: x*cos + rotate_half(x)*sin, in x's type. */
    public static Tensor rotary(Tensor x, Tensor cos, Tensor sin) { return Rope.apply(x, cos, sin); }

    /** Forward state: hidden states after the final norm, and the summed MoE auxiliary loss (a zero scalar if none). */
    public record Hidden(Tensor states, Tensor auxLoss) {}

    /**
     * The training (and evaluation) forward over whole sequences {@code ids} [B,T]: positions [T] ({@code positions},
     * or 0..T-1 if null), attention causal, or as the boolean mask {@code allowed} [B,1,T,T] says for packed sequences.
     */
    public Hidden forward(Tensor ids, Tensor positions, Tensor allowed) {
        Rope.At at = positions == null ? rope.span(0, ids.size(1)) : rope.at(positions);
        return run(ids, (attention, x) -> attention.forward(x, at, allowed));
    }

    /**
     * {@link #forward(Tensor, Tensor, Tensor)} that also attends to, and extends, {@code cache} (prefill and
     * one-sequence decoding); positions start at the cache length when null. A null cache is the training forward.
     */
    public Hidden forward(Tensor ids, Tensor positions, Tensor allowed, KvCache cache) {
        if (cache == null) return forward(ids, positions, allowed);
        Rope.At at = positions == null ? rope.span(cache.length(), ids.size(1)) : rope.at(positions);
        Hidden h = run(ids, (attention, x) -> attention.forward(x, at, allowed, cache));
        cache.advance(ids.size(1));
        return h;
    }

    /**
     * One decoding step for several sequences at once (the server's batched generation): row b of {@code ids} [B,1]
     * is the next token of the sequence whose keys and values are in {@code caches[b]}; the caches may have any
     * lengths and each grows by one. Embedding, norms, projections and MLP run as one batch; attention runs per row
     * against its own cache, the same call a lone {@code forward(ids_b, null, null, caches[b])} makes.
     */
    public Hidden decode(Tensor ids, KvCache[] caches) {
        if (ids.size(1) != 1 || ids.size(0) != caches.length)
            throw new IllegalArgumentException("decode takes one token per cache: ids " + ids.size(0) + "x" + ids.size(1)
                    + ", " + caches.length + " caches");
        long[] positions = new long[caches.length];
        for (int r = 0; r < caches.length; r++) positions[r] = caches[r].length();
        Rope.At at = rope.rows(positions);
        Hidden h = run(ids, (attention, x) -> attention.decode(x, at, caches));
        for (KvCache c : caches) c.advance(1);
        return h;
    }

    /** Embedding, the layers (attending as {@code attend} says), final norm; aux losses summed over MoE layers. */
    private Hidden run(Tensor ids, DecoderLayer.Attend attend) {
        Tensor x = torch.embedding(embed, ids);
        Tensor aux = null;
        for (DecoderLayer layer : layers) {
            DecoderLayer.Out out = layer.forward(x, attend);
            x = out.x();
            if (out.aux() != null) aux = aux == null ? out.aux() : aux.add(out.aux());
        }
        x = norm.forward(x);
        return new Hidden(x, aux == null ? Torch.zerosLike(x, ScalarType.Float) : aux);
    }

    /** Logits over the vocabulary for hidden states [.., hidden]. */
    public Tensor logits(Tensor hidden) {
        return Torch.linear(hidden, embed);
    }

    /** Loss parts: total = logits loss + aux loss; {@code supervised} is the number of target tokens counted. */
    public record Loss(Tensor total, Tensor logitsLoss, Tensor auxLoss, long supervised) {}

    /**
     * MiniMind's loss: cross-entropy of logits[:, :-1] against labels[:, 1:], mean over labels != -100, plus the MoE
     * aux loss. The vocabulary projection runs only on supervised positions: the mean is the same numbers as
     * MiniMind's full-logits computation, without the wasted work.
     */
    public Loss loss(Tensor ids, Tensor labels) {
        return loss(ids, labels, null, null);
    }

    public Loss loss(Tensor ids, Tensor labels, Tensor positions, Tensor allowed) {
        Hidden hs = forward(ids, positions, allowed);
        long b = ids.size(0), t = ids.size(1), hd = config.hiddenSize();
        Tensor targets = labels.narrow(1, 1, t - 1).reshape(-1);
        Tensor sel = targets.ne(Torch.scalar(-100)).nonzero().squeeze(1);
        long n = sel.numel();
        Tensor logitsLoss;
        if (n == 0) {
            // MiniMind would produce NaN here (a mean over nothing); a batch with nothing to learn contributes nothing.
            logitsLoss = hs.states().sum().mul(Torch.scalar(0.0));
        } else {
            Tensor h = hs.states().narrow(1, 0, t - 1).reshape(-1, hd).index_select(0, sel);
            logitsLoss = Torch.crossEntropy(logits(h), targets.index_select(0, sel));
        }
        return new Loss(logitsLoss.add(hs.auxLoss()), logitsLoss, hs.auxLoss(), n);
    }

    /** The MiniMind-equivalent computation (full logits on every position, ignore_index), for benchmarks and tests. */
    public Loss lossFullLogits(Tensor ids, Tensor labels) {
        Hidden hs = forward(ids, null, null);
        long t = ids.size(1);
        Tensor logits = logits(hs.states());
        Tensor shiftLogits = logits.narrow(1, 0, t - 1).reshape(-1, config.vocabSize());
        Tensor targets = labels.narrow(1, 1, t - 1).reshape(-1);
        Tensor logitsLoss = Torch.crossEntropy(shiftLogits, targets);
        long n = targets.ne(Torch.scalar(-100)).sum().item_long();
        return new Loss(logitsLoss.add(hs.auxLoss()), logitsLoss, hs.auxLoss(), n);
    }

    @Override
    public void close() {
        for (Tensor t : params.values()) Torch.free(t);
        rope.close();
    }

    /** Names of all parameters (without lm_head). */
    public List<String> parameterNames() { return new ArrayList<>(params.keySet()); }
}
