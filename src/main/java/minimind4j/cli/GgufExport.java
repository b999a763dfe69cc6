package minimind4j.cli;

import minimind4j.UserError;
import minimind4j.checkpoint.HostTensor;
import minimind4j.export.GgufModel;
import minimind4j.export.GgufVocab;
import minimind4j.export.OllamaModelfile;
import minimind4j.gguf.GgmlType;
import minimind4j.gguf.GgufWriter;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** {@code minimind export --format gguf}: one GGUF file for llama.cpp and an Ollama Modelfile beside it, in --out_dir. */
final class GgufExport {
    private GgufExport() {}

    static GgmlType type(String dtype) {
        return switch (dtype.toLowerCase(Locale.ROOT)) {
            case "float32", "fp32", "f32" -> GgmlType.F32;
            case "float16", "fp16", "f16", "half" -> GgmlType.F16;
            case "bfloat16", "bf16" -> GgmlType.BF16;
            case "q8_0" -> GgmlType.Q8_0;
            default -> throw new UserError("--dtype " + dtype + ": GGUF export takes float32, float16, bfloat16 or q8_0");
        };
    }

    static void write(Path weights, Map<String, HostTensor> sd, ModelConfig c, Path tokenizerDir, String dtype, Path outDir) {
        GgmlType type = type(dtype);
        String name = WeightFiles.modelId(weights);
        if (name.equals("model") || name.equals("pytorch_model") || name.endsWith(".index"))  // a Hugging Face directory: its name
            name = weights.toAbsolutePath().getParent().getFileName().toString();
        String fileName = name + "-" + type.name().toLowerCase(Locale.ROOT) + ".gguf";
        GgufWriter g = new GgufWriter();
        String template;
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(tokenizerDir)) {
            if (tok.vocabSize() > c.vocabSize())
                throw new UserError(tokenizerDir + ": the tokenizer has " + tok.vocabSize() + " tokens but the model only " + c.vocabSize());
            template = tok.config().chatTemplate();
            GgufModel.write(g, c, sd, type, name);
            GgufVocab.write(g, tokenizerDir.resolve("tokenizer.json"), c.vocabSize(), tok.bosId(), tok.eosId(), tok.padId(), template, GgufVocab.PRE);
            String modelfile = OllamaModelfile.of("./" + fileName, tok);
            ExportCommand.intoDirectory(outDir, (tmp, at) -> {
                try (java.io.FileOutputStream os = new java.io.FileOutputStream(at.file(tmp.resolve(fileName)).toFile())) {
                    g.write(os);
                    os.getFD().sync();  // on disk before the directory is renamed into place
                }
                Files.writeString(at.file(tmp.resolve("Modelfile")), modelfile);
            });
        }
        System.out.printf(Locale.ROOT, "%s: GGUF %s, %.2fM parameters; llama.cpp: llama-cli -m %s; Ollama: cd %s && ollama create %s -f Modelfile%n",
                outDir.resolve(fileName), GgufModel.describe(c, type), MiniMindLM.parameterCount(c) / 1e6,
                outDir.resolve(fileName), outDir, name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "-"));
    }
}
