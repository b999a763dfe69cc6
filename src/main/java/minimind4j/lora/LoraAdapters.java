package minimind4j.lora;

import minimind4j.checkpoint.format.DType;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.Weights;
import minimind4j.UserError;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * LoRA adapters on a MiniMind model's Linear layers: for each target, A [rank, in] and B [out, rank], and the layer
 * computes {@code x W^T + scale · B(A(dropout(x)))} (PEFT's LoRA; MiniMind's model_lora.py is the case scale = 1, no
 * dropout). The base weights are not touched: {@link #attach} freezes them, so training builds no gradient for them.
 *
 * <p>Tensors are named as MiniMind's state dict names them once apply_lora has run: {@code <module>.lora.A.weight},
 * {@code <module>.lora.B.weight}. A and B are fp32 leaves on the model's device.
 */
public final class LoraAdapters implements MiniMindLM.LinearAdapters, AutoCloseable {
    /** One layer's pair. */
    private record Pair(Tensor a, Tensor b) {}

    private final LoraConfig config;
    private final LinkedHashMap<String, Pair> modules;

    private LoraAdapters(LoraConfig config, LinkedHashMap<String, Pair> modules) {
        this.config = config;
        this.modules = modules;
        for (Pair p : modules.values()) {
            Torch.keep(p.a());
            Torch.keep(p.b());
        }
    }

    public LoraConfig config() { return config; }

    public List<String> moduleNames() { return new ArrayList<>(modules.keySet()); }

    public static String keyA(String module) { return module + ".lora.A.weight"; }

    public static String keyB(String module) { return module + ".lora.B.weight"; }

    /**
     * Fresh adapters for the config's targets, as MiniMind's LoRA module initialises them: A ~ normal(0, 0.02),
     * B = 0, so the adapted model starts out computing exactly what the base model computes. Drawn on the CPU from
     * {@code seed}, so every rank of a distributed run starts from the same adapters.
     */
    public static LoraAdapters init(ModelConfig model, LoraConfig cfg, long seed, Device device) {
        Torch.seed(seed);
        LinkedHashMap<String, Pair> m = new LinkedHashMap<>();
        try (PointerScope s = Torch.scope()) {
            for (LoraTargets.Module t : cfg.targets().select(model)) {
                Tensor a = torch.empty(new long[]{cfg.rank(), t.inFeatures()}, new TensorOptions(ScalarType.Float), null);
                torch.normal_(a, 0.0, LoraConfig.A_INIT_STD);
                Tensor b = torch.zeros(new long[]{t.outFeatures(), cfg.rank()}, new TensorOptions(ScalarType.Float));
                m.put(t.name(), new Pair(leaf(a, device), leaf(b, device)));
            }
            return new LoraAdapters(cfg, m);
        }
    }

    private static Tensor leaf(Tensor t, Device device) {
        Tensor moved = (device == null ? t : t.to(device, ScalarType.Float)).detach().contiguous();
        moved.set_requires_grad(true);
        return Torch.keep(moved);
    }

    /**
     * Adapters from tensors named {@code <module>.lora.A.weight} / {@code .lora.B.weight} (a "module." prefix, as a
     * DistributedDataParallel model writes, is dropped like MiniMind's load_lora does). Every module must be a Linear
     * layer of the model with matching shapes and one rank throughout; {@code cfg} (null: rank from the shapes, alpha =
     * rank, i.e. MiniMind's scale 1) must agree with the shapes.
     */
    public static LoraAdapters fromStateDict(Map<String, HostTensor> sd, ModelConfig model, LoraConfig cfg, String source, Device device) {
        Map<String, long[]> layers = LoraTargets.linearLayers(model);
        LinkedHashMap<String, HostTensor[]> found = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, HostTensor> e : sd.entrySet()) {
            String k = e.getKey().startsWith("module.") ? e.getKey().substring(7) : e.getKey();
            int at = k.indexOf(".lora.");
            String part = at < 0 ? null : k.substring(at + ".lora.".length());
            if (at < 0 || !(part.equals("A.weight") || part.equals("B.weight"))) {
                problems.add("unexpected key " + e.getKey() + " (a LoRA file holds <module>.lora.A.weight and <module>.lora.B.weight only)");
                continue;
            }
            String module = k.substring(0, at);
            found.computeIfAbsent(module, x -> new HostTensor[2])[part.startsWith("A") ? 0 : 1] = e.getValue();
        }
        int rank = -1;
        LinkedHashMap<String, Pair> m = new LinkedHashMap<>();
        Set<String> kinds = new LinkedHashSet<>();
        try (PointerScope s = Torch.scope()) {
            for (Map.Entry<String, HostTensor[]> e : found.entrySet()) {
                String module = e.getKey();
                HostTensor a = e.getValue()[0], b = e.getValue()[1];
                long[] w = layers.get(module);
                if (w == null) { problems.add(module + ": not a Linear layer of this model"); continue; }
                if (a == null || b == null) { problems.add(module + ": has " + (a == null ? "no A" : "no B") + " matrix"); continue; }
                if (a.rank() != 2 || b.rank() != 2 || a.size(1) != w[1] || b.size(0) != w[0] || a.size(0) != b.size(1)) {
                    problems.add(module + ": A " + Arrays.toString(a.shape()) + ", B " + Arrays.toString(b.shape()) + " do not fit the layer's weight " + Arrays.toString(w));
                    continue;
                }
                if (rank < 0) rank = (int) a.size(0);
                else if (rank != a.size(0)) { problems.add(module + ": rank " + a.size(0) + ", other layers " + rank); continue; }
                kinds.add(module.substring(module.lastIndexOf('.') + 1));
                m.put(module, new Pair(leaf(Weights.toTensor(a, ScalarType.Float), device), leaf(Weights.toTensor(b, ScalarType.Float), device)));
            }
            if (found.isEmpty() && problems.isEmpty()) problems.add("no LoRA tensors");
            if (cfg != null && rank > 0 && rank != cfg.rank()) problems.add("rank " + rank + " in the file, --lora_rank " + cfg.rank());
            if (!problems.isEmpty()) {
                m.values().forEach(p -> { Torch.free(p.a()); Torch.free(p.b()); });
                throw new UserError(source + ": not a LoRA adapter for this model: " + String.join("; ", problems.subList(0, Math.min(5, problems.size())))
                        + (problems.size() > 5 ? "; and " + (problems.size() - 5) + " more" : "") + " (`minimind info --weight` shows a base model's layers)");
            }
            LoraConfig c = cfg != null ? cfg : new LoraConfig(rank, rank, 0.0, LoraTargets.parse(String.join(",", kinds)));
            return new LoraAdapters(c, m);
        }
    }

    /** Freezes the base weights (no gradient is computed or stored for them) and routes the model's forward through these adapters. */
    public void attach(MiniMindLM model) {
        for (Tensor t : model.namedParameters().values()) t.set_requires_grad(false);
        model.adapt(this);
    }

    @Override
    public Tensor delta(String module, Tensor x, boolean training) {
        Pair p = modules.get(module);
        if (p == null) return null;
        Tensor in = training && config.dropout() > 0 ? torch.dropout(x, config.dropout(), true) : x;
        Tensor y = Torch.linear(Torch.linear(in, p.a()), p.b());
        return config.scale() == 1.0 ? y : y.mul(Torch.scalar(config.scale()));
    }

    /** The trainable tensors, A then B of each layer, in state-dict order. */
    public TensorVector parameters() {
        TensorVector v = new TensorVector();
        for (Pair p : modules.values()) {
            v.push_back(p.a());
            v.push_back(p.b());
        }
        return v;
    }

    public long parameterCount() {
        long n = 0;
        for (Pair p : modules.values()) n += p.a().numel() + p.b().numel();
        return n;
    }

    /**
     * The adapters as host tensors under MiniMind's names. {@code foldScale}: B is stored as scale · B, so that
     * MiniMind's forward (B(A(x)), no alpha) computes this adapter's update exactly; without it, the raw B (resume).
     */
    public LinkedHashMap<String, HostTensor> stateDict(boolean foldScale, DType dtype) {
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>();
        try (PointerScope s = Torch.scope()) {
            for (Map.Entry<String, Pair> e : modules.entrySet()) {
                Tensor b = e.getValue().b().detach();
                if (foldScale && config.scale() != 1.0) b = b.mul(Torch.scalar(config.scale()));
                sd.put(keyA(e.getKey()), host(e.getKey() + " A", e.getValue().a(), dtype));
                sd.put(keyB(e.getKey()), host(e.getKey() + " B", b, dtype));
            }
        }
        return sd;
    }

    /** PEFT's names and values: {@code base_model.model.<module>.lora_A.weight} / {@code lora_B.weight}, B unscaled (alpha is in adapter_config.json). */
    public LinkedHashMap<String, HostTensor> peftStateDict(DType dtype) {
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>();
        try (PointerScope s = Torch.scope()) {
            for (Map.Entry<String, Pair> e : modules.entrySet()) {
                sd.put("base_model.model." + e.getKey() + ".lora_A.weight", host(e.getKey() + " A", e.getValue().a(), dtype));
                sd.put("base_model.model." + e.getKey() + ".lora_B.weight", host(e.getKey() + " B", e.getValue().b(), dtype));
            }
        }
        return sd;
    }

    private static HostTensor host(String what, Tensor t, DType dtype) {
        if (!torch.isfinite(t).all().item_bool())
            throw new IllegalStateException("LoRA " + what + " holds NaN/inf values: refusing to save a broken adapter");
        return Weights.toHost(t, dtype);
    }

    /**
     * A full state dict with every adapted weight replaced by W + scale · B·A, computed in fp32 and stored as
     * {@code dtype}; every other tensor is the base's, converted to {@code dtype}. Both tied keys stay as the base has them.
     */
    public LinkedHashMap<String, HostTensor> merge(Map<String, HostTensor> base, DType dtype) {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        for (String module : modules.keySet())
            if (!base.containsKey(module + ".weight")) throw new UserError("the base weights have no " + module + ".weight: the adapter was trained for another model");
        for (Map.Entry<String, HostTensor> e : base.entrySet()) {
            String k = e.getKey();
            if (!e.getValue().dtype().isFloatingPoint()) {
                out.put(k, e.getValue());
                continue;
            }
            try (PointerScope s = Torch.scope()) {
                Pair p = k.endsWith(".weight") ? modules.get(k.substring(0, k.length() - ".weight".length())) : null;
                Tensor w = Weights.toTensor(e.getValue(), ScalarType.Float);
                if (p != null) {
                    Tensor ba = torch.matmul(p.b().detach().cpu(), p.a().detach().cpu());
                    w = w.add(ba.mul(Torch.scalar(config.scale())));
                }
                out.put(k, Weights.toHost(w, dtype));
            }
        }
        return out;
    }

    @Override
    public void close() {
        for (Pair p : modules.values()) {
            Torch.free(p.a());
            Torch.free(p.b());
        }
    }
}
