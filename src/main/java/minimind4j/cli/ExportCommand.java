package minimind4j.cli;

import minimind4j.UserError;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import minimind4j.checkpoint.HostTensor;
import minimind4j.checkpoint.Safetensors;
import minimind4j.checkpoint.Weights;
import minimind4j.engine.Precision;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.train.RunFiles;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
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
        if (format.equals("gguf")) minimind4j.export.GgufModel.architecture(c);  // refuses what llama.cpp has no architecture for
        else if (c.useMoe() && !c.qkNorm())
            throw new UserError(file + ": MiniMind2 MoE weights have no exact transformers architecture (shared experts and its own router); export a dense or a minimind-3 MoE model");
        Weights.Report r = Weights.check(MiniMindLM.expectedShapes(c), sd);
        if (!r.clean()) {
            if (w.strict.strict())
                throw new UserError(r.describe(file) + "\n  only a complete MiniMind state dict can be exported (--strict 0 exports the tensors that fit, the rest freshly initialised)");
            // --strict 0: the model as chat would load it (report printed), then its complete state dict
            try (MiniMindLM m = Weights.load(file, sd, c, false, System.err)) {
                sd = Weights.hostStateDict(m, minimind4j.checkpoint.DType.F32);
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
            GgufExport.write(file, sd, c, w.tokenizerPath, dtype, outDir);
            return 0;
        }
        if (dtype.equalsIgnoreCase("q8_0")) throw new UserError("--dtype q8_0 is for --format gguf; a Hugging Face directory holds float16, bfloat16 or float32");
        ScalarType type = Precision.parseDtype(dtype);  // null: float32
        String torchDtype = type == null ? "float32" : type.value == ScalarType.Half.value ? "float16" : "bfloat16";
        LinkedHashMap<String, HostTensor> tensors = new LinkedHashMap<>();
        for (String k : MiniMindLM.expectedShapes(c).keySet()) {
            if (k.equals(MiniMindLM.LM_HEAD)) continue;
            HostTensor t = sd.containsKey(k) ? sd.get(k) : sd.get(MiniMindLM.LM_HEAD);
            tensors.put(k, switch (torchDtype) {
                case "float16" -> t.toF16();
                case "bfloat16" -> t.toBF16();
                default -> t.toF32();
            });
        }
        final String td = torchDtype;
        final ModelConfig cfg = c;
        intoDirectory(outDir, (tmp, at) -> {
            try (MiniMindTokenizer tok = MiniMindTokenizer.load(w.tokenizerPath)) {
                if (tok.vocabSize() > cfg.vocabSize())
                    throw new UserError(w.tokenizerPath + ": the tokenizer has " + tok.vocabSize() + " tokens but the model only " + cfg.vocabSize());
                Safetensors.write(at.file(tmp.resolve("model.safetensors")), tensors, Map.of("format", "pt"));
                ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                json.writeValue(at.file(tmp.resolve("config.json")).toFile(), config(cfg, td, tok.bosId(), tok.eosId()));
                Map<String, Object> generation = new LinkedHashMap<>();
                generation.put("bos_token_id", tok.bosId());
                generation.put("eos_token_id", tok.eosId());
                generation.put("pad_token_id", tok.padId());
                json.writeValue(at.file(tmp.resolve("generation_config.json")).toFile(), generation);
                copyTokenizer(w.tokenizerPath, tmp, tok, at);
            }
        });
        System.out.printf(Locale.ROOT, "%s: %s, %d tensors (%s), %.2fM parameters; load with AutoModelForCausalLM.from_pretrained(\"%s\")%n",
                outDir, architecture(c), tensors.size(), torchDtype, MiniMindLM.parameterCount(c) / 1e6, outDir);
        return 0;
    }

    /** Where a writer is: the file it is writing, named in the error message if writing fails. */
    static final class At {
        Path current;

        Path file(Path p) {
            current = p;
            return p;
        }
    }

    interface DirectoryBody {
        void write(Path tmp, At at) throws IOException;
    }

    /**
     * Writes a directory in one step: {@code body} fills a sibling temp directory, which is then renamed to
     * {@code outDir}; a failed export leaves nothing that looks like a model.
     */
    static void intoDirectory(Path outDir, DirectoryBody body) {
        Path parent = outDir.toAbsolutePath().getParent();
        Path tmp;
        try {
            Files.createDirectories(parent);
            tmp = Files.createTempDirectory(parent, "." + outDir.getFileName() + ".tmp");
        } catch (IOException e) {
            throw minimind4j.checkpoint.AtomicFiles.failure(outDir, "the export", e);
        }
        At at = new At();
        at.current = tmp;
        try {
            body.write(tmp, at);
            at.current = outDir;
            if (Files.isDirectory(outDir)) Files.delete(outDir);
            Files.move(tmp, outDir, StandardCopyOption.ATOMIC_MOVE);
            try { // a temp directory is private (rwx------); a model directory is for others to read
                Files.setPosixFilePermissions(outDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system: its defaults apply
            }
        } catch (IOException e) {
            // named as the user will look for it: the export directory and the file inside it
            Path shown = at.current.startsWith(tmp) ? outDir.resolve(tmp.relativize(at.current)) : outDir;
            throw minimind4j.checkpoint.AtomicFiles.failure(shown, "the export", e);
        } finally {
            if (Files.exists(tmp)) try (Stream<Path> s = Files.walk(tmp)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // best effort: a leftover temp directory is hidden and named as one
            }
        }
    }

    /**
     * The tokenizer files, as they were (tokenizer_config.json keeps its template, for transformers before 4.43), plus
     * chat_template.jinja, where transformers 4.43 and later save and look for the template first.
     */
    static void copyTokenizer(Path from, Path to, MiniMindTokenizer tok, At at) throws IOException {
        for (String name : new String[]{"tokenizer.json", "tokenizer_config.json"})
            Files.copy(from.resolve(name), at.file(to.resolve(name)));
        String template = tok.config().chatTemplate();
        if (template != null) Files.writeString(at.file(to.resolve("chat_template.jinja")), template);
    }

    static String architecture(ModelConfig c) {
        if (c.qkNorm()) return c.useMoe() ? "Qwen3MoeForCausalLM" : "Qwen3ForCausalLM";
        return "LlamaForCausalLM";
    }

    /** transformers' config for the architecture the model is, with MiniMind's hyper-parameters. */
    static Map<String, Object> config(ModelConfig c, String torchDtype, int bos, int eos) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", new String[]{architecture(c)});
        m.put("model_type", !c.qkNorm() ? "llama" : c.useMoe() ? "qwen3_moe" : "qwen3");
        m.put("vocab_size", c.vocabSize());
        m.put("hidden_size", c.hiddenSize());
        m.put("intermediate_size", c.intermediateSize());
        m.put("num_hidden_layers", c.numHiddenLayers());
        m.put("num_attention_heads", c.numAttentionHeads());
        m.put("num_key_value_heads", c.numKeyValueHeads());
        m.put("head_dim", c.headDim());
        m.put("hidden_act", "silu");
        m.put("max_position_embeddings", c.maxPositionEmbeddings());
        m.put("rms_norm_eps", c.rmsNormEps());
        m.put("rope_theta", c.ropeTheta());
        m.put("rope_scaling", null);
        m.put("attention_bias", false);
        m.put("attention_dropout", 0.0);
        if (c.qkNorm()) {
            m.put("use_sliding_window", false);
            m.put("sliding_window", null);
            if (c.useMoe()) {
                // convert_model.py's Qwen3MoeConfig(num_experts, num_experts_per_tok, moe_intermediate_size,
                // norm_topk_prob); the rest at Qwen3MoeConfig's defaults, which make every layer sparse. Its
                // router_aux_loss_coef (0.001) is transformers' own load-balancing loss, only used when training there.
                m.put("num_experts", c.nRoutedExperts());
                m.put("num_experts_per_tok", c.numExpertsPerTok());
                m.put("moe_intermediate_size", c.intermediateSize());
                m.put("norm_topk_prob", c.normTopkProb());
                m.put("decoder_sparse_step", 1);
                m.put("mlp_only_layers", new int[0]);
                m.put("output_router_logits", false);
                m.put("router_aux_loss_coef", 0.001);
            }
        } else {
            m.put("mlp_bias", false);
        }
        m.put("tie_word_embeddings", true);
        m.put("bos_token_id", bos);
        m.put("eos_token_id", eos);
        m.put("torch_dtype", torchDtype);
        m.put("use_cache", true);
        return m;
    }
}
