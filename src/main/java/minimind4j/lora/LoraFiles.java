package minimind4j.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import minimind4j.checkpoint.format.DType;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Safetensors;
import minimind4j.checkpoint.Weights;
import minimind4j.UserError;
import minimind4j.model.ModelConfig;
import org.bytedeco.pytorch.Device;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Adapter files. MiniMind's: {@code {lora_name}_{hidden}.pth}, a torch.save'd dict of fp16 tensors named
 * {@code <module>.lora.A.weight} / {@code .lora.B.weight}, as model_lora.py's save_lora writes and load_lora reads
 * (alpha is folded into B there: MiniMind's LoRA has none). PEFT's: a directory with {@code adapter_model.safetensors}
 * ({@code base_model.model.<module>.lora_A.weight} / {@code lora_B.weight}) and {@code adapter_config.json}, for
 * the Hugging Face model {@code minimind export} writes (same module names).
 */
public final class LoraFiles {
    private LoraFiles() {}

    public static final String PEFT_WEIGHTS = "adapter_model.safetensors";
    public static final String PEFT_CONFIG = "adapter_config.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** MiniMind's save_lora: fp16, scale folded into B. Atomic. */
    public static void writeMiniMind(Path file, LoraAdapters adapters) {
        Weights.write(file, adapters.stateDict(true, DType.F16));
    }

    /** PEFT's layout in {@code dir} (created if needed); each file replaced atomically. */
    public static void writePeft(Path dir, LoraAdapters adapters, String baseModel) {
        try {
            Files.createDirectories(dir);
            Safetensors.write(dir.resolve(PEFT_WEIGHTS), adapters.peftStateDict(DType.F32), Map.of("format", "pt"));
            Set<String> kinds = new LinkedHashSet<>();
            for (String m : adapters.moduleNames()) kinds.add(m.substring(m.lastIndexOf('.') + 1));
            LoraConfig c = adapters.config();
            LinkedHashMap<String, Object> cfg = new LinkedHashMap<>();
            cfg.put("peft_type", "LORA");
            cfg.put("task_type", "CAUSAL_LM");
            cfg.put("base_model_name_or_path", baseModel);
            cfg.put("r", c.rank());
            cfg.put("lora_alpha", c.alpha() == Math.rint(c.alpha()) ? (Object) (long) c.alpha() : (Object) c.alpha());
            cfg.put("lora_dropout", c.dropout());
            cfg.put("target_modules", new ArrayList<>(kinds));
            cfg.put("bias", "none");
            cfg.put("fan_in_fan_out", false);
            cfg.put("inference_mode", true);
            cfg.put("init_lora_weights", true);
            cfg.put("modules_to_save", null);
            cfg.put("use_rslora", false);
            cfg.put("use_dora", false);
            Path tmp = dir.resolve("." + PEFT_CONFIG + ".tmp");
            JSON.writeValue(tmp.toFile(), cfg);
            Files.move(tmp, dir.resolve(PEFT_CONFIG), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UserError(dir + ": cannot write the PEFT adapter (" + e.getMessage() + ")");
        }
    }

    /**
     * An adapter for a model of config {@code model}: MiniMind's .pth (or the same names in a .safetensors), or a PEFT
     * directory (or its adapter_model.safetensors beside adapter_config.json), whose r and lora_alpha set the scale.
     */
    public static LoraAdapters read(Path path, ModelConfig model, Device device) {
        Path dir = Files.isDirectory(path) ? path
                : path.getFileName().toString().equals(PEFT_WEIGHTS) && Files.isRegularFile(path.resolveSibling(PEFT_CONFIG)) ? path.toAbsolutePath().getParent() : null;
        if (dir == null) {
            if (!Files.isRegularFile(path)) throw new UserError(path + ": no such LoRA file");
            return LoraAdapters.fromStateDict(Weights.read(path), model, null, path.toString(), device);
        }
        Path cfgFile = dir.resolve(PEFT_CONFIG), weights = dir.resolve(PEFT_WEIGHTS);
        if (!Files.isRegularFile(cfgFile) || !Files.isRegularFile(weights))
            throw new UserError(dir + ": not a PEFT adapter directory (needs " + PEFT_CONFIG + " and " + PEFT_WEIGHTS + ")");
        JsonNode cfg;
        LinkedHashMap<String, HostTensor> tensors;
        try {
            cfg = JSON.readTree(cfgFile.toFile());
            tensors = Safetensors.read(weights);
        } catch (IOException e) {
            throw new UserError(dir + ": cannot read the PEFT adapter (" + e.getMessage() + ")");
        }
        if (!"LORA".equalsIgnoreCase(cfg.path("peft_type").asText("LORA")))
            throw new UserError(cfgFile + ": peft_type " + cfg.path("peft_type").asText() + ", only LORA is supported");
        if (cfg.path("use_dora").asBoolean(false) || cfg.path("use_rslora").asBoolean(false))
            throw new UserError(cfgFile + ": DoRA / rsLoRA adapters are not supported");
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>();
        List<String> bad = new ArrayList<>();
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            String k = e.getKey();
            String base = k.startsWith("base_model.model.") ? k.substring("base_model.model.".length()) : k;
            if (base.endsWith(".lora_A.weight")) sd.put(LoraAdapters.keyA(base.substring(0, base.length() - ".lora_A.weight".length())), e.getValue());
            else if (base.endsWith(".lora_B.weight")) sd.put(LoraAdapters.keyB(base.substring(0, base.length() - ".lora_B.weight".length())), e.getValue());
            else bad.add(k);
        }
        if (!bad.isEmpty()) throw new UserError(weights + ": unexpected tensors " + bad.subList(0, Math.min(3, bad.size())) + " (only lora_A / lora_B weights are supported)");
        int r = cfg.path("r").asInt(8);
        double alpha = cfg.path("lora_alpha").asDouble(8);
        Set<String> kinds = new LinkedHashSet<>();
        for (String k : sd.keySet()) {
            String module = k.substring(0, k.indexOf(".lora."));
            kinds.add(module.substring(module.lastIndexOf('.') + 1));
        }
        LoraConfig c = new LoraConfig(r, alpha, 0.0, LoraTargets.parse(String.join(",", kinds)));
        return LoraAdapters.fromStateDict(sd, model, c, weights.toString(), device);
    }
}
