package minimind4j.lora;

import minimind4j.UserError;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which Linear layers get adapters ({@code --lora_target}): MiniMind's choice (every Linear whose in_features equal its
 * out_features, model_lora.py's apply_lora: q_proj and o_proj when heads * head_dim = hidden), {@code all-linear}
 * (PEFT's name: every projection of attention and feed-forward, MoE experts included; never lm_head or the router),
 * or a comma list of projection names.
 */
public record LoraTargets(String spec, Set<String> kinds, boolean squareOnly) {
    public static final List<String> KINDS = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
    public static final String SQUARE = "square";
    public static final String ALL_LINEAR = "all-linear";

    /** One targeted module: its name as PyTorch's named_modules spells it, and its weight's [out, in]. */
    public record Module(String name, long outFeatures, long inFeatures) {
        public String kind() { return name.substring(name.lastIndexOf('.') + 1); }
    }

    public static LoraTargets parse(String spec) {
        String s = spec == null ? SQUARE : spec.strip();
        if (s.isEmpty() || s.equals(SQUARE)) return new LoraTargets(SQUARE, new LinkedHashSet<>(KINDS), true);
        if (s.equals(ALL_LINEAR) || s.equals("all_linear")) return new LoraTargets(ALL_LINEAR, new LinkedHashSet<>(KINDS), false);
        Set<String> kinds = new LinkedHashSet<>();
        for (String part : s.split(",")) {
            String k = part.strip();
            if (k.isEmpty()) continue;
            if (!KINDS.contains(k))
                throw new UserError("--lora_target: unknown module '" + k + "'; expected square (MiniMind's default), all-linear, or a comma list of " + String.join(",", KINDS));
            kinds.add(k);
        }
        if (kinds.isEmpty()) throw new UserError("--lora_target: empty list; expected square, all-linear, or a comma list of " + String.join(",", KINDS));
        return new LoraTargets(String.join(",", kinds), kinds, false);
    }

    /** The targeted modules of a model of this config, in state-dict order. */
    public List<Module> select(ModelConfig c) {
        List<Module> out = new ArrayList<>();
        for (Map.Entry<String, long[]> e : linearLayers(c).entrySet()) {
            Module m = new Module(e.getKey(), e.getValue()[0], e.getValue()[1]);
            if (!kinds.contains(m.kind())) continue;
            if (squareOnly && m.inFeatures() != m.outFeatures()) continue;
            out.add(m);
        }
        if (out.isEmpty())
            throw new UserError("--lora_target " + spec + ": no layer of this model matches (a model whose projections are all non-square has none for MiniMind's default; try all-linear)");
        return out;
    }

    /** Every adaptable Linear layer of the model: module name to its weight's shape [out, in]. */
    public static LinkedHashMap<String, long[]> linearLayers(ModelConfig c) {
        LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : MiniMindLM.expectedShapes(c).entrySet()) {
            String k = e.getKey();
            if (!k.endsWith(".weight") || e.getValue().length != 2) continue;
            String module = k.substring(0, k.length() - ".weight".length());
            if (KINDS.contains(module.substring(module.lastIndexOf('.') + 1))) out.put(module, e.getValue());
        }
        return out;
    }
}
