package minimind4j.export;

import minimind4j.UserError;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.gguf.GgmlType;
import minimind4j.gguf.GgufWriter;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;

import minimind4j.checkpoint.format.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** {@code minimind export --format gguf}: one GGUF file for llama.cpp and an Ollama Modelfile beside it, in --out_dir. */
public final class GgufExport {
    private GgufExport() {}

    public static GgmlType type(String dtype) {
        return switch (dtype.toLowerCase(Locale.ROOT)) {
            case "float32", "fp32", "f32" -> GgmlType.F32;
            case "float16", "fp16", "f16", "half" -> GgmlType.F16;
            case "bfloat16", "bf16" -> GgmlType.BF16;
            case "q8_0" -> GgmlType.Q8_0;
            default -> throw new UserError("--dtype " + dtype + ": GGUF export takes float32, float16, bfloat16 or q8_0");
        };
    }

    /** {@code modelId}: the weight file's model name (its file name without extension), as chat and serve show it. */
    public static void write(String modelId, Path weights, Map<String, HostTensor> sd, ModelConfig c, Path tokenizerDir, String dtype, Path outDir) {
        GgmlType type = type(dtype);
        String name = modelId;
        if (name.equals("model") || name.equals("pytorch_model") || name.endsWith(".index"))  // a Hugging Face directory: its name
            name = weights.toAbsolutePath().getParent().getFileName().toString();
        boolean single = outDir.getFileName().toString().endsWith(".gguf");  // --out_dir x.gguf: that file, x.Modelfile beside it
        String fileName = single ? outDir.getFileName().toString() : name + "-" + type.name().toLowerCase(Locale.ROOT) + ".gguf";
        GgufWriter g = new GgufWriter();
        String template;
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(tokenizerDir)) {
            if (tok.vocabSize() > c.vocabSize())
                throw new UserError(tokenizerDir + ": the tokenizer has " + tok.vocabSize() + " tokens but the model only " + c.vocabSize());
            template = tok.config().chatTemplate();
            GgufModel.write(g, c, sd, type, name);
            GgufVocab.write(g, tokenizerDir.resolve("tokenizer.json"), c.vocabSize(), tok.bosId(), tok.eosId(), tok.padId(), template, GgufVocab.PRE);
            String modelfile = OllamaModelfile.of("./" + fileName, tok);
            if (single) {
                Path modelfilePath = outDir.resolveSibling(fileName.substring(0, fileName.length() - ".gguf".length()) + ".Modelfile");
                Path parent = outDir.toAbsolutePath().getParent();
                try {
                    Files.createDirectories(parent);
                    AtomicFiles.write(outDir, ch -> g.write(java.nio.channels.Channels.newOutputStream(ch)));
                } catch (IOException e) {
                    throw AtomicFiles.failure(outDir, "the GGUF file", e);
                }
                AtomicFiles.writeOrFail(modelfilePath, modelfile.getBytes(java.nio.charset.StandardCharsets.UTF_8), "the Modelfile");
                report(outDir, modelfilePath, c, type, name);
                return;
            }
            ExportDirectory.intoDirectory(outDir, (tmp, at) -> {
                try (java.io.FileOutputStream os = new java.io.FileOutputStream(at.file(tmp.resolve(fileName)).toFile())) {
                    g.write(os);
                    os.getFD().sync();  // on disk before the directory is renamed into place
                }
                Files.writeString(at.file(tmp.resolve("Modelfile")), modelfile);
            });
        }
        report(outDir.resolve(fileName), outDir.resolve("Modelfile"), c, type, name);
    }

    private static void report(Path gguf, Path modelfile, ModelConfig c, GgmlType type, String name) {
        System.out.printf(Locale.ROOT, "%s: GGUF %s, %.2fM parameters; llama.cpp: llama-cli -m %s; Ollama: ollama create %s -f %s%n",
                gguf, GgufModel.describe(c, type), MiniMindLM.parameterCount(c) / 1e6, gguf,
                name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "-"), modelfile);
    }
}
