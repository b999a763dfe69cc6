package minimind4j.cli;

import minimind4j.UserError;

import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.Weights;
import minimind4j.engine.Precision;
import minimind4j.export.GgufExport;
import minimind4j.export.GgufModel;
import minimind4j.export.HfExport;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.train.RunFiles;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * A Hugging Face model directory, what MiniMind's scripts/convert_model.py makes for the ecosystem: the dense models
 * are architectures transformers already has (MiniMind2 = Llama: RMSNorm, half-split rotary, GQA, SwiGLU, tied
 * embeddings; minimind-3 = Qwen3: the same plus per-head q/k RMSNorm), and MiniMind's state-dict names are theirs, so
 * the weights go into model.safetensors unchanged (lm_head omitted: tied), beside config.json, generation_config.json
 * and the tokenizer files. minimind-3's MoE is Qwen3-MoE (router nn.Linear "mlp.gate", per-expert SwiGLU MLPs
 * "mlp.experts.N", softmax top-k with renormalisation, no shared expert) under the same names in transformers 4.x.
 */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Writes a Hugging Face directory (model.safetensors, config.json, tokenizer, chat_template.jinja) from a weight file:",
                "MiniMind2 models as LlamaForCausalLM, minimind-3 models as Qwen3ForCausalLM (MoE: Qwen3MoeForCausalLM), as MiniMind's convert_model.py.",
                "--format gguf: one GGUF file for llama.cpp / Ollama instead (architecture llama, qwen3 or qwen3moe; float32, float16,",
                "bfloat16 or q8_0; tokenizer and chat template inside) and an Ollama Modelfile beside it; no Python or llama.cpp build needed.",
                "Laid out for transformers' AutoModelForCausalLM.from_pretrained(dir). Checked here by numpy reading model.safetensors",
                "and a PyTorch Llama/Qwen3 module built from config.json alone giving the same logits (transformers itself is not",
                "installed on this project's machines; scripts/torch_check/ runs it where it is)."})
public final class ExportCommand implements Callable<Integer> {
    @Mixin
    WeightFiles w = new WeightFiles();
    @Option(names = {"--out_dir", "--out-dir", "--out"}, required = true, description = "The directory to write (must not exist, or be empty);"
            + " with --format gguf also a file name ending in .gguf: that file, and {name}.Modelfile beside it")
    Path outDir;
    @Option(names = "--dtype", defaultValue = "float16", description = "float16, bfloat16 or float32 (default: float16, as convert_model.py); gguf also q8_0")
    String dtype;
    @Option(names = "--format", defaultValue = "hf", description = "hf: a Hugging Face directory (default); gguf: one GGUF file for llama.cpp / Ollama, with an Ollama Modelfile beside it")
    String format;

    @Override
    public Integer call() throws IOException {
        RunFiles.Loaded weights = w.read();
        Path file = weights.file();
        Map<String, HostTensor> sd = weights.tensors();
        ModelConfig c = w.config(weights);
        Weights.requireFinite(file, sd);
        if (!format.equals("hf") && !format.equals("gguf")) throw new UserError("--format " + format + ": expected hf or gguf");
        if (format.equals("gguf")) GgufModel.architecture(c);  // refuses what llama.cpp has no architecture for
        else if (c.useMoe() && !c.qkNorm())
            throw new UserError(file + ": MiniMind2 MoE weights have no exact transformers architecture (shared experts and its own router); export a dense or a minimind-3 MoE model");
        Weights.Report r = Weights.check(MiniMindLM.expectedShapes(c), sd);
        if (!r.clean()) {
            if (w.strict.strict())
                throw new UserError(r.describe(file) + "\n  only a complete MiniMind state dict can be exported (--strict 0 exports the tensors that fit, the rest freshly initialised)");
            // --strict 0: the model as chat would load it (report printed), then its complete state dict
            try (MiniMindLM m = Weights.load(file, sd, c, false, System.err)) {
                sd = Weights.hostStateDict(m, minimind4j.checkpoint.format.DType.F32);
            }
        }
        boolean ggufFile = format.equals("gguf") && outDir.getFileName().toString().endsWith(".gguf");
        if (ggufFile) {
            if (Files.exists(outDir)) throw new UserError(outDir + ": exists; pass a new file name (nothing is overwritten)");
        } else if (Files.isDirectory(outDir)) {
            try (Stream<Path> s = Files.list(outDir)) {
                if (s.findAny().isPresent()) throw new UserError(outDir + ": exists and is not empty; pass a new --out_dir");
            }
        } else if (Files.exists(outDir)) {
            throw new UserError(outDir + ": exists and is not a directory");
        }
        if (format.equals("gguf")) {
            GgufExport.write(WeightFiles.modelId(file), file, sd, c, w.tokenizerPath, dtype, outDir);
            return 0;
        }
        if (dtype.equalsIgnoreCase("q8_0")) throw new UserError("--dtype q8_0 is for --format gguf; a Hugging Face directory holds float16, bfloat16 or float32");
        ScalarType type = Precision.parseDtype(dtype);  // null: float32
        String torchDtype = type == null ? "float32" : type.value == ScalarType.Half.value ? "float16" : "bfloat16";
        int written = HfExport.write(sd, c, w.tokenizerPath, torchDtype, outDir);
        System.out.printf(Locale.ROOT, "%s: %s, %d tensors (%s), %.2fM parameters; load with AutoModelForCausalLM.from_pretrained(\"%s\")%n",
                outDir, HfExport.architecture(c), written, torchDtype, MiniMindLM.parameterCount(c) / 1e6, outDir);
        return 0;
    }
}
