package minimind4j.cli;

import minimind4j.UserError;

import minimind4j.demo.DemoData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code minimind demo-data}: regenerates the bundled demo data set (demo/ in the repository). */
@Command(name = "demo-data", mixinStandardHelpOptions = true, version = "minimind4j 0.1.0",
        description = {"Generate the bundled demo data: pretrain.jsonl, sft.jsonl, sft_eval.jsonl, prompts.txt and a "
                + "small tokenizer, all about a made-up valley of towns, animals and sums.",
                "The same --seed always gives the same files."})
public final class DemoDataCommand implements Callable<Integer> {

    @Option(names = {"--out_dir", "--out-dir"}, defaultValue = "demo", paramLabel = "DIR",
            description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path outDir;

    @Option(names = "--seed", defaultValue = "" + DemoData.DEFAULT_SEED, paramLabel = "N",
            description = "Random seed (default: ${DEFAULT-VALUE}, the seed of the bundled files).")
    long seed;

    @Option(names = {"--vocab_size", "--vocab-size"}, defaultValue = "" + DemoData.DEFAULT_VOCAB_SIZE, paramLabel = "N",
            description = "Vocabulary size of the demo tokenizer (default: ${DEFAULT-VALUE}).")
    int vocabSize;

    @Option(names = {"--no_tokenizer", "--no-tokenizer"},
            description = "Write only the text files; leave the tokenizer directory alone.")
    boolean noTokenizer;

    /** Runs {@code demo-data} without the launcher: {@code java -cp ... minimind4j.cli.DemoDataCommand --out_dir demo}. */
    public static void main(String[] args) {
        picocli.CommandLine cli = new picocli.CommandLine(new DemoDataCommand());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (!(ex instanceof UserError)) throw ex;
            cmd.getErr().println("error: " + ex.getMessage());
            return 2;
        });
        System.exit(cli.execute(args));
    }

    @Override
    public Integer call() throws IOException {
        if (vocabSize < 259) {
            throw new UserError("--vocab_size " + vocabSize + " is too small: the tokenizer needs 256 byte tokens "
                    + "+ 3 special tokens; use 259 or more (the demo uses " + DemoData.DEFAULT_VOCAB_SIZE + ")");
        }
        long start = System.nanoTime();
        DemoData.write(outDir, seed, !noTokenizer, vocabSize, System.err::println);
        System.out.printf("wrote demo data (seed %d) to %s in %.1fs%n", seed, outDir, (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
