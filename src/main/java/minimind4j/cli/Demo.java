package minimind4j.cli;

import minimind4j.UserError;

import minimind4j.checkpoint.Weights;
import minimind4j.generate.Generator;
import minimind4j.generate.Sampling;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;
import minimind4j.train.TrainConfig;
import minimind4j.train.Trainer;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * The bundled demo (demo/README.md): a tiny MiniMind-shaped model pretrained by this project on its own generated
 * corpus, fine-tuned on its own generated conversations. It runs in minutes on two cores and then shows what SFT
 * changed: the pretrained model's continuation next to the fine-tuned model's answer, for held-out questions.
 */
final class Demo {
    private Demo() {}

    /** The demo's model: 128 hidden, 4 layers, 8 heads / 2 KV heads, the demo tokenizer's 2048 tokens. */
    static final ModelConfig MODEL = ModelConfig.minimind2(128, 4, false).withVocabSize(2048);

    /**
     * Where the bundled demo/ is: {@code -Dminimind.home} (the launchers set it), else found from the jar itself, so
     * that {@code java -jar} works from anywhere: the distribution's folder (minimind4j.jar beside demo/) or the
     * checkout (target/minimind4j.jar, target/classes). The working directory is the last resort.
     */
    static Path home() {
        String given = System.getProperty("minimind.home");
        if (given != null && !given.isBlank()) return Path.of(given).toAbsolutePath().normalize();
        Path code = codeSource();
        Path start = code == null ? null : Files.isRegularFile(code) ? code.getParent() : code;
        for (Path p = start; p != null && start.getNameCount() - p.getNameCount() <= 2; p = p.getParent())
            if (Files.isDirectory(p.resolve("demo"))) return p;
        return Path.of(".").toAbsolutePath().normalize();
    }

    /** This class's jar, or target/classes when run from the build; null when the JVM does not say. */
    private static Path codeSource() {
        try {
            java.security.CodeSource source = Demo.class.getProtectionDomain().getCodeSource();
            return source == null ? null : Path.of(source.getLocation().toURI()).toAbsolutePath().normalize();
        } catch (java.net.URISyntaxException | IllegalArgumentException | SecurityException e) {
            return null;
        }
    }

    /** How the user started us, for the commands we suggest: the launcher as typed (./minimind, bin\\minimind.cmd). */
    static String command() {
        String launcher = System.getProperty("minimind.command");
        if (launcher != null && !launcher.isBlank()) return launcher;
        Path code = codeSource();
        return code != null && Files.isRegularFile(code) ? "java -jar " + code : "minimind";
    }

    static Path dir() { return home().resolve("demo"); }

    static Path pretrainWeights() { return minimind4j.train.RunFiles.weights(dir().resolve("weights"), "pretrain", MODEL); }

    /** {@code q} as one user turn through the tokenizer's chat template, with the assistant's turn opened. */
    static int[] chatPrompt(MiniMindTokenizer tok, String q) {
        return tok.encode(tok.applyChatTemplate(List.of(Map.of("role", "user", "content", q)), null, true, Map.of()));
    }

    /** The greedy continuation of {@code prompt} (at most {@code maxTokens}), on one line, for the before/after answers. */
    static String greedyLine(Generator g, MiniMindTokenizer tok, int[] prompt, int maxTokens) {
        return tok.decode(g.generate(prompt, maxTokens, Sampling.GREEDY, tok.eosId(), 0, null).tokens(), true).strip().replace("\n", " ");
    }

    /** One model's side of a before/after comparison: its label as printed, and how a question becomes its prompt. */
    record Answerer(String label, Generator generator, java.util.function.Function<String, int[]> prompt, int maxTokens) {
        /** A chat model: the question through the chat template, up to 64 tokens. */
        static Answerer chat(String label, Generator g, MiniMindTokenizer tok) {
            return new Answerer(label, g, q -> chatPrompt(tok, q), 64);
        }
    }

    /** Each question, then each model's greedy answer on its own labelled line. */
    static void printAnswers(PrintStream out, MiniMindTokenizer tok, List<String> questions, Answerer... models) {
        for (String q : questions) {
            out.println("Q: " + q);
            for (Answerer m : models) out.println("  " + m.label() + " " + greedyLine(m.generator(), tok, m.prompt().apply(q), m.maxTokens()));
        }
    }

    /**
     * A demo run: its model, files, and {@code schedule}, the training settings it sets by name (epochs, batch,
     * learning rate, ...) over the stage's defaults.
     */
    record Profile(ModelConfig model, Path saveDir, Path data, Path evalData, Path tokenizer, Path prompts,
                   java.util.function.UnaryOperator<TrainConfig.Builder> schedule) {

        /** Sets the demo's files and schedule in {@code b} (the stage's defaults; flags given are set after). */
        TrainConfig.Builder apply(TrainConfig.Builder b) {
            return schedule.apply(b.saveDir(saveDir).accumulationSteps(1).dataPaths(List.of(data)).tokenizerPath(tokenizer).evalData(evalData));
        }

        /**
         * Checks the bundled files and puts the bundled pretrained weights where --from_weight pretrain looks;
         * {@code usualData} is the data file the command looked for first, named in the notice.
         */
        void prepare(PrintWriter out, TrainConfig run, String usualData) {
            Path saveDir = run.saveDir();
            for (Path p : List.of(data, tokenizer.resolve("tokenizer.json"), pretrainWeights()))
                if (!Files.exists(p)) throw new UserError(p + ": bundled demo file missing (run from the minimind4j checkout or the unzipped distribution, or pass --data_path)");
            out.println("no --data_path given and no " + usualData + ": running the bundled demo (" + dir() + ", see demo/README.md)");
            out.printf("demo: %s, lr %.0e, %d epochs, batch %d; pass --data_path to train on your own data%n", data, run.learningRate(), run.epochs(), run.batchSize());
            out.flush();
            try {
                Files.createDirectories(saveDir);
                Path target = saveDir.resolve(pretrainWeights().getFileName());
                if (!Files.exists(target)) Files.copy(pretrainWeights(), target, StandardCopyOption.COPY_ATTRIBUTES);
            } catch (IOException e) {
                throw new UserError(saveDir + ": cannot prepare the demo save directory (" + e.getMessage() + ")");
            }
        }

        /** The held-out questions, one per line; null when the file cannot be read (the comparison is then skipped). */
        List<String> questions() {
            try {
                return Files.readAllLines(prompts).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
            } catch (IOException e) {
                return null;
            }
        }

        /** Greedy answers of the pretrained and the fine-tuned model to the held-out prompts. */
        void showComparison(PrintStream out, ModelConfig config, TrainConfig o, Trainer t) {
            // a run from scratch (--from_weight none) has no "before" model to compare with
            if (!Files.exists(t.weightPath(o.fromWeight()))) return;
            List<String> questions = questions();
            if (questions == null) return;
            try (MiniMindTokenizer tok = MiniMindTokenizer.load(tokenizer);
                 MiniMindLM before = Weights.load(t.fromWeightPath(), config, true, null);
                 MiniMindLM after = Weights.load(t.weightPath(o.saveWeight()), config, true, null)) {
                Generator g0 = new Generator(before), g1 = new Generator(after);
                out.println();
                out.println("Held-out questions: the pretrained model continues the text; the SFT model answers.");
                printAnswers(out, tok, questions, new Answerer("pretrain:", g0, q -> tok.encode(tok.bosToken() + q), 48),
                        Answerer.chat("sft:     ", g1, tok));
                out.println();
                out.println("Chat with it: " + command() + " chat --save_dir " + o.saveDir() + " --weight " + o.saveWeight() + " --hidden_size " + config.hiddenSize() + " --tokenizer_path " + tokenizer);
            }
        }
    }

    /** LoRA on the bundled pretrained model with the SFT conversations: adapters need a larger step than full SFT. */
    static Profile lora() {
        Path d = dir();
        return new Profile(MODEL, home().resolve("out").resolve("demo"), d.resolve("sft.jsonl"), d.resolve("sft_eval.jsonl"),
                d.resolve("tokenizer"), d.resolve("prompts.txt"),
                b -> b.epochs(2).batchSize(16).learningRate(5e-3).maxSeqLen(128).logInterval(20).evalInterval(100));
    }

    /**
     * DPO on the demo's preference pairs, starting from the SFT demo's model (out/demo/full_sft_128.pth, which
     * {@code minimind sft} with no arguments writes); no held-out loss (the pairs are not SFT data).
     */
    static Profile dpo() {
        Path d = dir();
        return new Profile(MODEL, home().resolve("out").resolve("demo"), d.resolve("dpo.jsonl"), null,
                d.resolve("tokenizer"), d.resolve("prompts.txt"),
                b -> b.epochs(2).batchSize(8).learningRate(1e-4).maxSeqLen(128).logInterval(10).evalInterval(100));
    }

    static Profile sft() {
        Path d = dir();
        return new Profile(MODEL, home().resolve("out").resolve("demo"), d.resolve("sft.jsonl"), d.resolve("sft_eval.jsonl"),
                d.resolve("tokenizer"), d.resolve("prompts.txt"),
                b -> b.epochs(2).batchSize(16).learningRate(1e-3).maxSeqLen(128).logInterval(20).evalInterval(100));
    }
}
