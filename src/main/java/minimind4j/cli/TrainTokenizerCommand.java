package minimind4j.cli;

import minimind4j.UserError;

import minimind4j.tokenizer.BpeModel;
import minimind4j.tokenizer.BpeTrainer;
import minimind4j.tokenizer.TokenizerFiles;
import minimind4j.tokenizer.TrainingTexts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code minimind tokenizer train}: trains a byte-level BPE tokenizer and writes a MiniMind tokenizer directory. */
@Command(name = "train", mixinStandardHelpOptions = true, version = "minimind4j 0.1.0",
        description = {"Train a byte-level BPE tokenizer like MiniMind's trainer/train_tokenizer.py and write "
                + "tokenizer.json + tokenizer_config.json in the HF tokenizers format of MiniMind's model/ directory.",
                "Special tokens <|endoftext|>, <|im_start|>, <|im_end|> get ids 0, 1, 2."})
public final class TrainTokenizerCommand implements Callable<Integer> {

    @Option(names = {"--data_path", "--data-path"}, required = true, paramLabel = "FILE",
            description = "Training text: .jsonl with \"text\" or \"conversations\" lines "
                    + "(e.g. dataset/sft_t2t_mini.jsonl), or a .txt file, one text per line.")
    Path dataPath;

    @Option(names = {"--tokenizer_dir", "--tokenizer-dir"}, defaultValue = "model_learn_tokenizer", paramLabel = "DIR",
            description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path tokenizerDir;

    @Option(names = {"--vocab_size", "--vocab-size"}, defaultValue = "6400", paramLabel = "N",
            description = "Vocabulary size, special tokens included (default: ${DEFAULT-VALUE}).")
    int vocabSize;

    @Option(names = {"--max_lines", "--max-lines"}, paramLabel = "N",
            description = "Read only the first N lines (MiniMind's script reads 10000). Default: all.")
    Long maxLines;

    @Option(names = {"--special_tokens", "--special-tokens"}, split = ",", paramLabel = "TOKEN",
            description = "More special tokens, after the three standard ones (comma separated), e.g. <tool_call>,</tool_call>.")
    List<String> extraSpecialTokens = new ArrayList<>();

    @Option(names = {"--model_max_length", "--model-max-length"}, defaultValue = "" + TokenizerFiles.DEFAULT_MODEL_MAX_LENGTH, paramLabel = "N",
            description = "model_max_length written to tokenizer_config.json (default: ${DEFAULT-VALUE}).")
    int modelMaxLength;

    @Override
    public Integer call() throws IOException {
        PrintStream err = System.err;
        List<String> specials = new ArrayList<>(BpeTrainer.DEFAULT_SPECIAL_TOKENS);
        for (String t : extraSpecialTokens) {
            if (t.isEmpty() || specials.contains(t)) {
                throw new UserError("--special_tokens: '" + t + "' is empty or given twice; list each extra token once");
            }
            specials.add(t);
        }
        int min = BpeTrainer.minVocabSize(specials.size());
        if (vocabSize < min) {
            throw new UserError("--vocab_size " + vocabSize + " is too small: it must hold 256 byte tokens + "
                    + specials.size() + " special tokens; use --vocab_size " + min + " or more (MiniMind uses 6400)");
        }
        if (maxLines != null && maxLines <= 0) {
            throw new UserError("--max_lines " + maxLines + " must be positive; leave it out to read every line");
        }
        if (!Files.isRegularFile(dataPath)) {
            throw new UserError("--data_path " + dataPath + ": no such file; pass a .jsonl (\"text\" or "
                    + "\"conversations\" lines) or a .txt file");
        }
        if (dataPath.getFileName().toString().toLowerCase().endsWith(".json")) {
            throw new UserError("--data_path " + dataPath + ": a .json file is not read; convert it to .jsonl "
                    + "(one {\"text\": ...} or {\"conversations\": [...]} object per line)");
        }

        BpeTrainer trainer = new BpeTrainer(vocabSize, specials).onProgress(err::println);
        TrainingTexts.Summary read = TrainingTexts.read(dataPath, maxLines == null ? 0 : maxLines, trainer::addText,
                err::println);
        if (read.skipped() > 0) {
            err.printf("tokenizer: skipped %,d lines that are not JSON (first: %s:%d)%n",
                    read.skipped(), dataPath, read.firstSkippedLine());
        }
        if (read.texts() == 0 || trainer.distinctWords() == 0) {
            throw new UserError(dataPath + ": no training text in " + read.lines() + " lines; expected jsonl lines "
                    + "with a \"text\" string or \"conversations\" with \"content\", or a non-empty .txt file");
        }
        long start = System.nanoTime();
        BpeModel model = trainer.train();
        TokenizerFiles.write(tokenizerDir, model, modelMaxLength);
        if (model.vocabSize() < vocabSize) {
            err.printf("tokenizer: the text ran out of pairs to merge: vocabulary is %d, not %d; "
                    + "train on more text or ask for a smaller --vocab_size%n", model.vocabSize(), vocabSize);
        }
        System.out.printf("wrote %s and %s (vocab %d, %d merges, %d texts, %.1fs)%n",
                tokenizerDir.resolve(TokenizerFiles.TOKENIZER_JSON), TokenizerFiles.TOKENIZER_CONFIG_JSON,
                model.vocabSize(), model.merges().size(), read.texts(), (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
