package minimind4j.model;

import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MiniMind's {@code MiniMindForCausalLM}: token embedding, pre-norm decoder blocks (RMSNorm, rotary GQA attention,
 * SwiGLU or MoE feed-forward), final RMSNorm and an lm_head tied to the embedding.
 *
 * <p>Parameters live in one ordered map under MiniMind's exact state-dict names, so checkpoints move both ways without
 * renaming. The tied weight is stored once, under {@code model.embed_tokens.weight}; {@link #stateDict()} also lists it
 * as {@code lm_head.weight}, as PyTorch does.
 */
public final class MiniMindLM implements AutoCloseable {
    public static final String EMBED = "model.embed_tokens.weight";
    public static final String LM_HEAD = "lm_head.weight";

    private final ModelConfig config;
    private final LinkedHashMap<String, Tensor> params;
    /** Rotary tables [maxPositions, headDim]; like MiniMind's non-persistent buffers they are never saved. */
    private Tensor ropeCos;
    private Tensor ropeSin;
    private boolean training = true;
    /** Additions to Linear outputs (LoRA, see minimind4j.lora); null for the plain model. */
    private LinearAdapters adapters;

    private MiniMindLM(ModelConfig config, LinkedHashMap<String, Tensor> params) {
        this.config = config;
        this.params = params;
        Tensor[] rope = rotaryTables(config.headDim(), config.maxPositionEmbeddings(), config.ropeTheta());
        this.ropeCos = Torch.keep(rope[0]);
        this.ropeSin = Torch.keep(rope[1]);
        params.values().forEach(Torch::keep);
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
        Tensor cos = Torch.keep(ropeCos.to(device, ScalarType.Float)), sin = Torch.keep(ropeSin.to(device, ScalarType.Float));
        Torch.free(ropeCos);
        Torch.free(ropeSin);
        ropeCos = cos;
        ropeSin = sin;
        return this;
    }

    /** A tensor on the same device as the parameters: where inputs must go. */
    public Tensor anyParameter() { return params.get(EMBED); }

    public void train(boolean on) { this.training = on; }

    public boolean training() { return training; }

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
    public void adapt(LinearAdapters a) { this.adapters = a; }

    public LinearAdapters adapters() { return adapters; }

    /** {@code y} plus the module's adapter output, if it has one. */
    private Tensor adapted(String module, Tensor x, Tensor y) {
        if (adapters == null) return y;
        Tensor d = adapters.delta(module, x, training);
        return d == null ? y : y.add(d);
    }

    // ------------------------------------------------------------------------------------------------ parameters

    /** The names and shapes of MiniMind's state dict, in PyTorch's order, lm_head.weight included. */
    public static LinkedHashMap<String, long[]> expectedShapes(ModelConfig c) {
        LinkedHashMap<String, long[]> s = new LinkedHashMap<>();
        long h = c.hiddenSize(), d = c.headDim();
        s.put(EMBED, new long[]{c.vocabSize(), h});
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            s.put(p + "self_attn.q_proj.weight", new long[]{c.numAttentionHeads() * d, h});
            s.put(p + "self_attn.k_proj.weight", new long[]{c.numKeyValueHeads() * d, h});
            s.put(p + "self_attn.v_proj.weight", new long[]{c.numKeyValueHeads() * d, h});
            s.put(p + "self_attn.o_proj.weight", new long[]{h, c.numAttentionHeads() * d});
            if (c.qkNorm()) {
                s.put(p + "self_attn.q_norm.weight", new long[]{d});
                s.put(p + "self_attn.k_norm.weight", new long[]{d});
            }
            s.put(p + "input_layernorm.weight", new long[]{h});
            s.put(p + "post_attention_layernorm.weight", new long[]{h});
            if (!c.useMoe()) {
                putFeedForward(s, p + "mlp.", c);
            } else if (c.qkNorm()) {
                // minimind-3's MOEFeedForward registers its router (an nn.Linear) before the experts
                s.put(p + "mlp.gate.weight", new long[]{c.nRoutedExperts(), h});
                for (int e = 0; e < c.nRoutedExperts(); e++) putFeedForward(s, p + "mlp.experts." + e + ".", c);
            } else {
                // MiniMind2's: experts, then the MoEGate, then the shared experts
                for (int e = 0; e < c.nRoutedExperts(); e++) putFeedForward(s, p + "mlp.experts." + e + ".", c);
                s.put(p + "mlp.gate.weight", new long[]{c.nRoutedExperts(), h});
                for (int e = 0; e < c.nSharedExperts(); e++) putFeedForward(s, p + "mlp.shared_experts." + e + ".", c);
            }
        }
        s.put("model.norm.weight", new long[]{h});
        s.put(LM_HEAD, new long[]{c.vocabSize(), h});
        return s;
    }

    /**
     * The parameter names in the order Python's {@code model.parameters()} yields them for MiniMind's module of this
     * family (registration order, the tied embedding once, first): the index space of PyTorch's optimizer state.
     */
    public static List<String> pythonParameterOrder(ModelConfig c) {
        List<String> names = new ArrayList<>(expectedShapes(c).keySet());
        names.remove(LM_HEAD);
        return names;
    }

    private static void putFeedForward(Map<String, long[]> s, String p, ModelConfig c) {
        s.put(p + "gate_proj.weight", new long[]{c.intermediateSize(), c.hiddenSize()});
        s.put(p + "down_proj.weight", new long[]{c.hiddenSize(), c.intermediateSize()});
        s.put(p + "up_proj.weight", new long[]{c.intermediateSize(), c.hiddenSize()});
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
    public static MiniMindLM init(ModelConfig c, long seed) {
        Torch.seed(seed);
        boolean postInit = c.family().equals("minimind3");
        LinkedHashMap<String, Tensor> p = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : expectedShapes(c).entrySet()) {
            if (e.getKey().equals(LM_HEAD)) continue;
            long[] shape = e.getValue();
            Tensor t;
            if (shape.length == 1) {
                t = torch.ones(shape, new TensorOptions(ScalarType.Float));
            } else if (postInit) {
                t = torch.empty(shape, new TensorOptions(ScalarType.Float), null);
                torch.normal_(t, 0.0, INITIALIZER_RANGE);
            } else {
                double bound = 1.0 / Math.sqrt(shape[1]);
                t = torch.empty(shape, new TensorOptions(ScalarType.Float), null);
                torch.uniform_(t, -bound, bound);
            }
            t.set_requires_grad(true);
            p.put(e.getKey(), t);
        }
        return new MiniMindLM(c, p);
    }

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

    private Tensor p(String name) { return params.get(name); }

    // ------------------------------------------------------------------------------------------------ forward

    /** Rotary tables computed as MiniMind's precompute_freqs_cis (fp32 outer product, cos/sin duplicated). */
    public static Tensor[] rotaryTables(int dim, int end, double theta) {
        Tensor exps = torch.arange(Torch.scalar(0), Torch.scalar(dim), Torch.scalar(2), new TensorOptions(ScalarType.Float)).div(Torch.scalar(dim));
        Tensor freqs = torch.pow(Torch.scalar(theta), exps).reciprocal();
        Tensor t = torch.arange(Torch.scalar(end), new TensorOptions(ScalarType.Float));
        Tensor angles = torch.outer(t, freqs);
        Tensor cos = torch.cat(new TensorVector(angles.cos(), angles.cos()), -1);
        Tensor sin = torch.cat(new TensorVector(angles.sin(), angles.sin()), -1);
        return new Tensor[]{cos, sin};
    }

    /** MiniMind's RMSNorm: computed in fp32 whatever the input (it may be bf16 under autocast), cast back to it. */
    public static Tensor rmsNorm(Tensor x, Tensor weight, double eps) {
        Tensor f = Torch.is(x, ScalarType.Float) ? x : x.to(ScalarType.Float);
        Tensor var = f.pow(Torch.scalar(2)).mean(new long[]{-1}, true, Torch.noType());
        return sameType(f.mul(var.add(Torch.scalar(eps)).rsqrt()).mul(weight), x);
    }

    /** {@code y.to(x.dtype)}: under autocast q/k are bf16 and the fp32 rotary tables promote them; MiniMind casts back. */
    private static Tensor sameType(Tensor y, Tensor x) {
        return y.scalar_type().value == x.scalar_type().value ? y : y.to(x.scalar_type());
    }

    /** Rotary position embedding of q or k [B, T, heads, D] with cos/sin [T, 1, D]: x*cos + rotate_half(x)*sin, in x's type. */
    public static Tensor rotary(Tensor x, Tensor cos, Tensor sin) {
        return sameType(x.mul(cos).add(rotateHalf(x).mul(sin)), x);
    }

    private static Tensor rotateHalf(Tensor x) {
        long half = x.size(-1) / 2;
        return torch.cat(new TensorVector(x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)), -1);
    }

    /** Forward state: hidden states after the final norm, and the summed MoE auxiliary loss (a zero scalar if none). */
    public record Hidden(Tensor states, Tensor auxLoss) {}

    /**
     * Runs the decoder. {@code ids} [B,T]. {@code positions} [T] (or null for startPos..startPos+T-1 where startPos is
     * the cache length). {@code allowed} is an optional boolean mask [B,1,T,S] for packed sequences; without it the
     * attention is causal. {@code cache} may be null (training) or a {@link KvCache} that this call extends.
     */
    public Hidden forward(Tensor ids, Tensor positions, Tensor allowed, KvCache cache) {
        return forward(ids, positions, allowed, cache, null);
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
        return forward(ids, null, null, null, caches);
    }

    private Hidden forward(Tensor ids, Tensor positions, Tensor allowed, KvCache cache, KvCache[] rows) {
        long b = ids.size(0), t = ids.size(1);
        int h = config.numAttentionHeads(), kv = config.numKeyValueHeads(), d = config.headDim();
        long past = cache == null ? 0 : cache.length();
        Tensor cos, sin;
        if (rows != null) {
            // each row at its own position: [B, 1, 1, D]
            long[] at = new long[rows.length];
            for (int r = 0; r < rows.length; r++) at[r] = rows[r].length();
            Tensor pos = Torch.longsLike(ropeCos, at, at.length);
            cos = ropeCos.index_select(0, pos).view(b, 1, 1, -1);
            sin = ropeSin.index_select(0, pos).view(b, 1, 1, -1);
        } else {
            if (positions == null) {
                cos = ropeCos.narrow(0, past, t);
                sin = ropeSin.narrow(0, past, t);
            } else {
                cos = ropeCos.index_select(0, positions);
                sin = ropeSin.index_select(0, positions);
            }
            // [.., T, 1, D] broadcasts over heads of q/k laid out [B, T, H, D]
            cos = cos.dim() == 2 ? cos.unsqueeze(1) : cos.unsqueeze(2);
            sin = sin.dim() == 2 ? sin.unsqueeze(1) : sin.unsqueeze(2);
        }
        Tensor x = torch.embedding(p(EMBED), ids);
        Tensor aux = null;
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            String pre = "model.layers." + l + ".";
            Tensor a = rmsNorm(x, p(pre + "input_layernorm.weight"), config.rmsNormEps());
            Tensor qkv = project(a, p(pre + "self_attn.q_proj.weight"), p(pre + "self_attn.k_proj.weight"), p(pre + "self_attn.v_proj.weight"));
            String attn = pre + "self_attn.";
            Tensor q = adapted(attn + "q_proj", a, qkv.narrow(-1, 0, (long) h * d)).view(b, t, h, d);
            Tensor k = adapted(attn + "k_proj", a, qkv.narrow(-1, (long) h * d, (long) kv * d)).view(b, t, kv, d);
            Tensor v = adapted(attn + "v_proj", a, qkv.narrow(-1, (long) (h + kv) * d, (long) kv * d)).view(b, t, kv, d);
            if (config.qkNorm()) {
                q = rmsNorm(q, p(pre + "self_attn.q_norm.weight"), config.rmsNormEps());
                k = rmsNorm(k, p(pre + "self_attn.k_norm.weight"), config.rmsNormEps());
            }
            q = rotary(q, cos, sin).transpose(1, 2);
            k = rotary(k, cos, sin).transpose(1, 2);
            v = v.transpose(1, 2);
            if (cache != null) {
                Tensor[] kvAll = cache.append(l, k, v);
                k = kvAll[0];
                v = kvAll[1];
            }
            Tensor o;
            if (rows != null) {
                TensorVector perRow = new TensorVector();
                for (int r = 0; r < rows.length; r++) {
                    Tensor[] kvAll = rows[r].append(l, k.narrow(0, r, 1), v.narrow(0, r, 1));
                    perRow.push_back(Torch.attention(q.narrow(0, r, 1), kvAll[0], kvAll[1], false));
                }
                o = torch.cat(perRow, 0);
            } else if (allowed != null) o = Torch.attention(q, k, v, allowed);
            else if (past > 0 && t > 1) o = Torch.attention(q, k, v, offsetCausalMask(q, t, past));
            else o = Torch.attention(q, k, v, t > 1);
            o = o.transpose(1, 2).reshape(b, t, (long) h * d);
            x = x.add(adapted(attn + "o_proj", o, Torch.linear(o, p(pre + "self_attn.o_proj.weight"))));
            Tensor m = rmsNorm(x, p(pre + "post_attention_layernorm.weight"), config.rmsNormEps());
            if (config.useMoe()) {
                Tensor[] ya = moe(m, pre + "mlp.");
                x = x.add(ya[0]);
                aux = aux == null ? ya[1] : aux.add(ya[1]);
            } else {
                x = x.add(feedForward(m, pre + "mlp."));
            }
        }
        if (cache != null) cache.advance(t);
        if (rows != null) for (KvCache c : rows) c.advance(1);
        x = rmsNorm(x, p("model.norm.weight"), config.rmsNormEps());
        if (aux == null) aux = Torch.zerosLike(x, ScalarType.Float);
        return new Hidden(x, aux);
    }

    /** Queries at positions past..past+t-1 may see keys 0..their own position. */
    private static Tensor offsetCausalMask(Tensor like, long t, long past) {
        Tensor ones = torch.ones(new long[]{t, past + t}, Torch.optionsLike(like, ScalarType.Bool));
        return torch.tril(ones, past);
    }

    /**
     * x times several weights side by side. For training-sized inputs the weights are stacked into one GEMM (a better
     * shape for the kernel); for a few rows, as in token-by-token decoding, stacking would copy more than it saves.
     */
    private static Tensor project(Tensor x, Tensor... weights) {
        long rows = x.numel() / x.size(-1);
        if (rows >= 64) {
            // under autocast: the cached bf16 copies, concatenated (not the fp32 weights concatenated, then cast)
            TensorVector w = new TensorVector();
            for (Tensor t : weights) w.push_back(minimind4j.engine.Autocast.castWeight(t));
            return Torch.linear(x, torch.cat(w, 0));
        }
        TensorVector outs = new TensorVector();
        for (Tensor t : weights) outs.push_back(Torch.linear(x, t));
        return torch.cat(outs, -1);
    }

    /** SwiGLU: down(silu(gate(x)) * up(x)). */
    private Tensor feedForward(Tensor x, String pre) {
        Tensor gateUp = project(x, p(pre + "gate_proj.weight"), p(pre + "up_proj.weight"));
        long inter = gateUp.size(-1) / 2;
        Tensor gate = adapted(pre + "gate_proj", x, gateUp.narrow(-1, 0, inter));
        Tensor up = adapted(pre + "up_proj", x, gateUp.narrow(-1, inter, inter));
        Tensor act = torch.silu(gate).mul(up);
        return adapted(pre + "down_proj", act, Torch.linear(act, p(pre + "down_proj.weight")));
    }

    /**
     * The MoE feed-forward of either family: a softmax router, the top-k experts per token, their weights renormalised
     * (minimind-3: always when norm_topk_prob; MiniMind2: only for k > 1), MiniMind2's shared experts, and the aux loss
     * in training (MiniMind2: per sequence, alpha 0.01; minimind-3: sum(load * mean score) * E * coef over the batch,
     * load = one_hot(top-k).mean(0) per choice slot).
     */
    private Tensor[] moe(Tensor x, String pre) {
        long b = x.size(0), t = x.size(1), hd = x.size(2);
        int k = config.numExpertsPerTok(), e = config.nRoutedExperts();
        boolean v3 = config.qkNorm();
        Tensor flat = x.reshape(-1, hd);
        Tensor scores = Torch.linear(flat, p(pre + "gate.weight")).softmax(-1);
        var top = scores.topk(k, -1, true, false);
        Tensor w = top.get0(), idx = top.get1();
        if (config.normTopkProb() && (v3 || k > 1)) w = w.div(w.sum(new long[]{-1}, true, Torch.noType()).add(Torch.scalar(1e-20)));
        Tensor aux;
        if (training && config.auxLossAlpha() > 0) {
            if (v3) {
                Tensor load = torch.one_hot(idx, e).to(ScalarType.Float).mean(new long[]{0}, false, Torch.noType());
                aux = load.mul(scores.mean(new long[]{0}, false, Torch.noType())).sum().mul(Torch.scalar((double) e * config.auxLossAlpha()));
            } else if (config.seqAux()) {
                Tensor ce = Torch.zerosLike(x, ScalarType.Float, b, e)
                        .scatter_add(1, idx.view(b, -1), torch.ones(new long[]{b, t * k}, Torch.optionsLike(x, ScalarType.Float)))
                        .div(Torch.scalar((double) (t * k) / e));
                aux = ce.mul(scores.view(b, t, e).mean(new long[]{1}, false, Torch.noType()))
                        .sum(new long[]{1}, false, Torch.noType()).mean().mul(Torch.scalar(config.auxLossAlpha()));
            } else {
                Tensor ce = torch.one_hot(idx.view(-1), e).to(ScalarType.Float).mean(new long[]{0}, false, Torch.noType());
                aux = scores.mean(new long[]{0}, false, Torch.noType()).mul(ce.mul(Torch.scalar(e))).sum().mul(Torch.scalar(config.auxLossAlpha()));
            }
        } else {
            aux = Torch.zerosLike(x, ScalarType.Float);
        }
        Tensor flatIdx = idx.reshape(-1), flatW = w.reshape(-1);
        Tensor y = torch.zeros_like(flat);
        // slot j of the flattened [N, k] choice matrix belongs to token j / k
        Tensor tokenOfSlot = torch.arange(Torch.scalar(flat.size(0)), Torch.optionsLike(x, ScalarType.Long))
                .unsqueeze(1).expand(flat.size(0), k).reshape(-1);
        for (int i = 0; i < e; i++) {
            String ex = pre + "experts." + i + ".";
            Tensor slots = flatIdx.eq(Torch.scalar(i)).nonzero().squeeze(1);
            if (slots.numel() == 0) {
                // MiniMind adds 0 * sum(expert params) in training, so an expert no token chose still gets a (zero)
                // gradient and AdamW still decays its weights and moments, as PyTorch steps every parameter with a grad
                if (training) {
                    Tensor zero = p(ex + "gate_proj.weight").sum().add(p(ex + "down_proj.weight").sum()).add(p(ex + "up_proj.weight").sum()).mul(Torch.scalar(0.0));
                    y = y.add(zero);
                }
                continue;
            }
            Tensor tokens = tokenOfSlot.index_select(0, slots);
            Tensor out = feedForward(flat.index_select(0, tokens), ex)
                    .mul(flatW.index_select(0, slots).unsqueeze(1));
            // under autocast the expert's output is bf16 while y (like the residual stream) is fp32: MiniMind's
            // y.index_add_(0, idx, expert_out.to(y.dtype)) casts the same way
            y = y.index_add(0, tokens, out.to(y.scalar_type()));
        }
        y = y.view(b, t, hd);
        for (int s = 0; s < config.nSharedExperts(); s++) y = y.add(feedForward(x, pre + "shared_experts." + s + "."));
        return new Tensor[]{y, aux};
    }

    /** Logits over the vocabulary for hidden states [.., hidden]. */
    public Tensor logits(Tensor hidden) {
        return Torch.linear(hidden, p(EMBED));
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
        Hidden hs = forward(ids, positions, allowed, null);
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
        Hidden hs = forward(ids, null, null, null);
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
        Torch.free(ropeCos);
        Torch.free(ropeSin);
    }

    /** Keys and values of every layer, grown by each forward call; [B, KV, S, D] per layer. */
    public static final class KvCache implements AutoCloseable {
        private final Tensor[] keys;
        private final Tensor[] values;
        private long length;

        public KvCache(int layers) {
            keys = new Tensor[layers];
            values = new Tensor[layers];
        }

        public long length() { return length; }

        Tensor[] append(int layer, Tensor k, Tensor v) {
            Tensor nk = keys[layer] == null ? k : torch.cat(new TensorVector(keys[layer], k), 2);
            Tensor nv = values[layer] == null ? v : torch.cat(new TensorVector(values[layer], v), 2);
            // the cache outlives the caller's per-token PointerScope
            Torch.keep(nk);
            Torch.keep(nv);
            if (keys[layer] != null) Torch.free(keys[layer]);
            if (values[layer] != null) Torch.free(values[layer]);
            keys[layer] = nk;
            values[layer] = nv;
            return new Tensor[]{nk, nv};
        }

        void advance(long t) { length += t; }

        @Override
        public void close() {
            for (int i = 0; i < keys.length; i++) {
                if (keys[i] != null) Torch.free(keys[i]);
                if (values[i] != null) Torch.free(values[i]);
                keys[i] = values[i] = null;
            }
            length = 0;
        }
    }

    /** Names of all parameters (without lm_head). */
    public List<String> parameterNames() { return new ArrayList<>(params.keySet()); }
}
