package minimind4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import minimind4j.data.JsonlIndex;
import minimind4j.data.LossMask;
import minimind4j.data.PretrainDataset;
import minimind4j.data.Sample;
import minimind4j.data.SftDataset;
import minimind4j.data.TokenDataset;
import minimind4j.tokenizer.MiniMindTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Look at training data the way the trainer sees it.",
        subcommands = {DataCommand.Render.class, DataCommand.Check.class})
public final class DataCommand {

    /** Options both subcommands take. */
    static class Common {
        @Option(names = {"--data", "--data_path", "--data-path"}, required = true, description = "JSONL data file")
        Path data;
        @Option(names = {"--tokenizer_path", "--tokenizer-path"}, defaultValue = "model", description = "Tokenizer directory (default: model)")
        Path tokenizerPath;
        @Option(names = {"--max_seq_len", "--max-seq-len"}, defaultValue = "340", description = "Truncation length (default: 340)")
        int maxSeqLen;
        @Option(names = {"--add_system_ratio", "--add-system-ratio"}, defaultValue = "0.2", description = "Probability of adding a MiniMind system prompt (default: 0.2)")
        double addSystemRatio;
        @Option(names = {"--empty_think_ratio", "--empty-think-ratio"}, defaultValue = "0.2", description = "Probability of keeping an empty <think> block (default: 0.2)")
        double emptyThinkRatio;
        @Option(names = "--seed", defaultValue = "42", description = "Augmentation seed, as --seed of sft (default: 42)")
        long seed;
        @Option(names = "--epoch", defaultValue = "1", description = "Which epoch's augmentation to show, 1-based (default: 1)")
        int epoch;
        @Option(names = "--stage", description = "sft or pretrain (default: from the first line)")
        String stage;
        @Option(names = {"--strict_data", "--strict-data"}, description = "Stop at the first bad line")
        boolean strictData;

        TokenDataset open(MiniMindTokenizer tok, PrintStream err) throws Exception {
            if (maxSeqLen < 2) throw new UserError("--max_seq_len " + maxSeqLen + ": must be at least 2");
            if (epoch < 1) throw new UserError("--epoch " + epoch + ": epochs count from 1");
            String st = stage != null ? stage : EvalCommand.detectStage(data);
            if (!st.equals("sft") && !st.equals("pretrain")) throw new UserError("--stage " + st + ": expected sft or pretrain");
            JsonlIndex idx = st.equals("pretrain") ? PretrainDataset.index(data, strictData) : SftDataset.index(data, strictData);
            if (idx.skipSummary() != null) err.println(idx.skipSummary());
            return st.equals("pretrain") ? new PretrainDataset(idx, tok, maxSeqLen)
                    : new SftDataset(idx, tok, maxSeqLen, addSystemRatio, emptyThinkRatio, seed);
        }
    }

    @Command(name = "render", mixinStandardHelpOptions = true,
            description = {"One JSON line per sample: {\"text\", \"input_ids\", \"labels\"} as MiniMind's dataset returns them, padded to",
                    "max_seq_len. Training here does not pad a sample to max_seq_len (only a batch to its longest sample, unless",
                    "--pad_to_max_seq_len): --no_pad prints the unpadded ids and labels, which are what its batches hold.",
                    "--show prints the text instead, supervised tokens highlighted."})
    static final class Render extends Common implements Callable<Integer> {
        @Option(names = "--out", description = "Write to this file (atomically) instead of stdout")
        Path out;
        @Option(names = "--show", description = "Human view: rendered text with supervised spans highlighted")
        boolean show;
        @Option(names = {"--no_pad", "--no-pad"}, description = "Leave samples unpadded")
        boolean noPad;
        @Option(names = "--limit", defaultValue = "0", description = "Only the first N samples (0 = all)")
        int limit;

        @Override
        public Integer call() throws Exception {
            // --out goes to a sibling temporary file moved over the target at the end: a failed run leaves the
            // old file as it was and never a half-written one
            Path tmp = out == null ? null : out.resolveSibling(out.getFileName() + ".tmp");
            try (MiniMindTokenizer tok = MiniMindTokenizer.load(tokenizerPath); TokenDataset ds = open(tok, System.err)) {
                if (tmp == null) {
                    // flushed, never closed: whatever runs after us in this process still prints to System.out
                    Writer w = new OutputStreamWriter(System.out, StandardCharsets.UTF_8);
                    write(w, tok, ds);
                    w.flush();
                    return 0;
                }
                try (Writer w = openOut(tmp)) {
                    write(w, tok, ds);
                } catch (IOException e) {
                    throw new UserError("--out " + out + ": cannot write (" + e.getMessage() + ")", e);
                }
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                if (tmp != null) Files.deleteIfExists(tmp);
            }
            return 0;
        }

        private static Writer openOut(Path tmp) throws IOException {
            return new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(tmp), StandardCharsets.UTF_8));
        }

        private void write(Writer w, MiniMindTokenizer tok, TokenDataset ds) throws IOException {
            ObjectMapper json = new ObjectMapper();
            int n = limit > 0 ? Math.min(limit, ds.size()) : ds.size();
            for (int i = 0; i < n; i++) {
                Sample s = ds.get(i, epoch - 1);
                if (show) {
                    w.write(highlight(tok, s, i));
                    continue;
                }
                int[] ids = s.ids(), labels = s.labels();
                if (!noPad && ids.length < maxSeqLen) {
                    int k = ids.length;
                    ids = Arrays.copyOf(ids, maxSeqLen);
                    labels = Arrays.copyOf(labels, maxSeqLen);
                    Arrays.fill(ids, k, maxSeqLen, ds.padId());
                    Arrays.fill(labels, k, maxSeqLen, LossMask.IGNORE);
                }
                ObjectNode o = json.createObjectNode();
                o.put("text", s.text());
                o.set("input_ids", json.valueToTree(ids));
                o.set("labels", json.valueToTree(labels));
                w.write(json.writeValueAsString(o));
                w.write('\n');
            }
        }

        /** Supervised tokens in green, the rest dimmed; token boundaries kept by decoding token runs. */
        static String highlight(MiniMindTokenizer tok, Sample s, int i) {
            StringBuilder sb = new StringBuilder();
            sb.append("\033[1m── sample ").append(i).append(" (").append(s.ids().length).append(" tokens, ")
                    .append(s.supervised()).append(" supervised) ──\033[0m\n");
            int start = 0;
            while (start < s.ids().length) {
                boolean sup = s.labels()[start] != LossMask.IGNORE;
                int end = start;
                while (end < s.ids().length && (s.labels()[end] != LossMask.IGNORE) == sup) end++;
                String text = tok.decode(Arrays.copyOfRange(s.ids(), start, end), false);
                sb.append(sup ? "\033[32m" : "\033[2m").append(text).append("\033[0m");
                start = end;
            }
            return sb.append("\n\n").toString();
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Counts, token-length percentiles, truncation, supervised-token fraction and skipped lines of a data file.",
                    "Every line is rendered and tokenized as training would, so a line training would stop at is reported here",
                    "(all of them, with file:line; the exit code is then 1)."})
    static final class Check extends Common implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            try (MiniMindTokenizer tok = MiniMindTokenizer.load(tokenizerPath); TokenDataset ds = open(tok, System.err)) {
                int total = ds.size(), n = 0;
                int[] lengths = new int[total];
                long tokens = 0, supervised = 0;
                int truncated = 0, lostAll = 0;
                List<String> failures = new ArrayList<>();
                for (int i = 0; i < total; i++) {
                    Sample s;
                    try {
                        s = ds.get(i, epoch - 1);
                    } catch (UserError e) {
                        failures.add(e.getMessage());
                        continue;
                    }
                    lengths[n++] = s.fullLength();
                    tokens += s.ids().length;
                    int sup = s.supervised();
                    supervised += sup;
                    if (s.truncated()) {
                        truncated++;
                        if (sup == 0) lostAll++;
                    }
                    if (total > 20000 && i % 20000 == 0) System.err.printf("  %d/%d%n", i, total);
                }
                if (n == 0) throw new UserError(data + ": no line could be rendered" + (failures.isEmpty() ? "" : "; first: " + failures.get(0)));
                lengths = Arrays.copyOf(lengths, n);
                int[] sorted = lengths.clone();
                Arrays.sort(sorted);
                JsonlIndex idx = ds.index();
                long padded = (long) n * maxSeqLen;
                System.out.printf(Locale.ROOT, "file: %s%n", data);
                System.out.printf(Locale.ROOT, "samples: %d usable of %d lines (%d skipped)%n", n, idx.totalLines(), idx.skipped());
                if (!failures.isEmpty()) {
                    System.out.printf(Locale.ROOT, "lines that fail when rendered (training stops at the first of them): %d%n", failures.size());
                    for (String f : failures.subList(0, Math.min(5, failures.size()))) System.out.println("  " + f);
                    if (failures.size() > 5) System.out.printf(Locale.ROOT, "  ... and %d more%n", failures.size() - 5);
                }
                System.out.printf(Locale.ROOT, "tokens per sample (before truncation): min %d, p50 %d, p90 %d, p99 %d, max %d, mean %.1f%n",
                        sorted[0], pct(sorted, 50), pct(sorted, 90), pct(sorted, 99), sorted[n - 1], Arrays.stream(lengths).average().orElse(0));
                System.out.printf(Locale.ROOT, "truncated at max_seq_len %d: %d (%.1f%%); of those, %d lose every supervised token%n",
                        maxSeqLen, truncated, 100.0 * truncated / n, lostAll);
                System.out.printf(Locale.ROOT, "tokens after truncation: %d; supervised: %d (%.1f%%)%n", tokens, supervised, 100.0 * supervised / Math.max(1, tokens));
                System.out.printf(Locale.ROOT, "padding to max_seq_len would add %d pad tokens (%.1f%% of a padded batch)%n",
                        padded - tokens, 100.0 * (padded - tokens) / padded);
                System.out.flush();
                return failures.isEmpty() ? 0 : 1;
            }
        }

        /** Nearest-rank percentile of an ascending array. */
        static int pct(int[] sorted, int p) {
            return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
        }
    }
}
