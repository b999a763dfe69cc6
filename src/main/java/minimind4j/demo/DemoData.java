package minimind4j.demo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import minimind4j.UserError;
import minimind4j.tokenizer.BpeModel;
import minimind4j.tokenizer.BpeTrainer;
import minimind4j.tokenizer.TokenizerFiles;
import minimind4j.tokenizer.TrainingTexts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Generates the project's bundled demo data (demo/ in the repository) from a seed: a pretraining corpus about a small
 * fictional world, SFT conversations about it, held-out evaluation conversations, demo prompts, and a small
 * tokenizer trained on the corpus. Everything is written by this class, so the data carries the project's licence.
 */
public final class DemoData {
    public static final long DEFAULT_SEED = 42;
    public static final int DEFAULT_VOCAB_SIZE = 2048;
    public static final int SFT_CONVERSATIONS = 3000;
    public static final long PRETRAIN_BYTES = 2_200_000;
    /** Long enough for the demo's short sequences; the model's own max_seq_len is what limits training. */
    public static final int DEMO_MODEL_MAX_LENGTH = 2048;

    public static final String PRETRAIN = "pretrain.jsonl";
    public static final String SFT = "sft.jsonl";
    public static final String SFT_EVAL = "sft_eval.jsonl";
    public static final String PROMPTS = "prompts.txt";
    public static final String DPO = "dpo.jsonl";
    public static final String TOKENIZER_DIR = "tokenizer";
    public static final String README = "README.md";
    public static final String LICENSE = "LICENSE-DATA.md";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The generated text files, exactly as written to disk. */
    public record DemoFiles(String pretrainJsonl, String sftJsonl, String sftEvalJsonl, String promptsTxt,
                            String readme, String license, String dpoJsonl) {}

    private DemoData() {}

    /** The text files for {@code seed}; the same seed gives the same bytes. */
    public static DemoFiles generate(long seed) {
        DemoWorld world = DemoWorld.create(seed);
        List<String> docs = new DemoCorpus(world, new Random(seed + 1)).documents(PRETRAIN_BYTES);
        DemoConversations.Split split = DemoConversations.build(world, new Random(seed + 2), SFT_CONVERSATIONS);

        StringBuilder pretrain = new StringBuilder();
        for (String doc : docs) {
            ObjectNode line = JSON.createObjectNode();
            line.put("text", doc);
            pretrain.append(json(line)).append('\n');
        }
        String sft = conversationsJsonl(split.sft());
        String eval = conversationsJsonl(split.eval());
        String prompts = String.join("\n", split.prompts()) + "\n";
        String readme = DemoReadme.readme(seed, world, docs.size(), split.sft().size(), split.eval().size(),
                split.prompts().size(), DemoPreferences.PAIRS);
        String dpo = DemoPreferences.jsonl(world, new Random(seed + 3), DemoPreferences.PAIRS);
        return new DemoFiles(pretrain.toString(), sft, eval, prompts, readme, DemoReadme.license(), dpo);
    }

    private static String conversationsJsonl(List<DemoConversations.Conversation> conversations) {
        StringBuilder out = new StringBuilder();
        for (DemoConversations.Conversation c : conversations) {
            ObjectNode line = JSON.createObjectNode();
            ArrayNode turns = line.putArray("conversations");
            for (DemoConversations.Turn t : c.turns()) {
                turns.addObject().put("role", t.role()).put("content", t.content());
            }
            out.append(json(line)).append('\n');
        }
        return out.toString();
    }

    private static String json(ObjectNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Trains the demo tokenizer on the pretraining texts and the SFT conversations (contents joined with "\n", as
     * MiniMind's get_texts does).
     */
    public static BpeModel trainTokenizer(DemoFiles files, int vocabSize, Consumer<String> progress) throws IOException {
        BpeTrainer trainer = new BpeTrainer(vocabSize, BpeTrainer.DEFAULT_SPECIAL_TOKENS).onProgress(progress);
        for (String jsonl : List.of(files.pretrainJsonl(), files.sftJsonl())) {
            for (String line : jsonl.split("\n")) {
                String text = TrainingTexts.textOf(JSON.readTree(line));
                if (text != null) trainer.addText(text);
            }
        }
        return trainer.train();
    }

    /** Writes every demo file into {@code outDir} (the tokenizer too unless {@code withTokenizer} is false). */
    public static void write(Path outDir, long seed, boolean withTokenizer, int vocabSize, Consumer<String> progress)
            throws IOException {
        DemoFiles files = generate(seed);
        Files.createDirectories(outDir);
        TokenizerFiles.writeAtomically(outDir.resolve(PRETRAIN), files.pretrainJsonl());
        TokenizerFiles.writeAtomically(outDir.resolve(SFT), files.sftJsonl());
        TokenizerFiles.writeAtomically(outDir.resolve(SFT_EVAL), files.sftEvalJsonl());
        TokenizerFiles.writeAtomically(outDir.resolve(PROMPTS), files.promptsTxt());
        TokenizerFiles.writeAtomically(outDir.resolve(DPO), files.dpoJsonl());
        TokenizerFiles.writeAtomically(outDir.resolve(README), files.readme());
        TokenizerFiles.writeAtomically(outDir.resolve(LICENSE), files.license());
        if (withTokenizer) {
            BpeModel model = trainTokenizer(files, vocabSize, progress);
            TokenizerFiles.write(outDir.resolve(TOKENIZER_DIR), model, DEMO_MODEL_MAX_LENGTH);
        }
    }

}
