package minimind4j.cli;

import minimind4j.UserError;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import minimind4j.data.DataFiles;
import minimind4j.data.JsonlIndex;
import minimind4j.data.Measurement;
import minimind4j.data.Truncation;
import minimind4j.data.formats.DataFormat;
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
        @Option(names = {"--data", "--data_path", "--data-path"}, required = true, arity = "1..*", paramLabel = "PATH",
                description = ".jsonl, .json (array or one object per line), .jsonl.gz/.json.gz, a directory of them or a quoted glob; several may be given")
        List<Path> data;
        @Option(names = {"--data_format", "--data-format"}, description = "SFT: auto, minimind, openai, sharegpt, alpaca or prompt_completion (default: auto)")
        String dataFormat;
        @Option(names = "--truncation", description = "SFT samples longer than --max_seq_len: truncate, drop or error, as sft would (default: truncate)")
        String truncation;
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
        @Option(names = "--stage", description = "sft, pretrain or dpo (default: from the first line; chosen/rejected records are dpo)")
        String stage;
        @Option(names = {"--strict_data", "--strict-data"}, description = "Stop at the first bad line")
        boolean strictData;

        TokenDataset open(MiniMindTokenizer tok, PrintStream err) throws Exception {
            if (maxSeqLen < 2) throw new UserError("--max_seq_len " + maxSeqLen + ": must be at least 2");
            if (epoch < 1) throw new UserError("--epoch " + epoch + ": epochs count from 1");
            String st = stage();
            DataFormat format = DataFormat.fromFlag(dataFormat);
            Truncation.fromFlag(truncation); // a bad value is the first error, before any reading
            if (st.equals("dpo")) {
                JsonlIndex idx = minimind4j.data.DpoDataset.index(data, strictData);
                if (idx.skipSummary() != null && !quietSkips()) err.println(idx.skipSummary());
                return new minimind4j.data.DpoDataset(idx, tok, new SftDataset.Options(maxSeqLen, 0, emptyThinkRatio, seed, format, Truncation.fromFlag(truncation)));
            }
            JsonlIndex idx = st.equals("pretrain") ? PretrainDataset.index(data, strictData) : SftDataset.index(data, strictData, format);
            if (idx.skipSummary() != null && !quietSkips()) err.println(idx.skipSummary());
            return st.equals("pretrain") ? new PretrainDataset(idx, tok, maxSeqLen)
                    : new SftDataset(idx, tok, new SftDataset.Options(maxSeqLen, addSystemRatio, emptyThinkRatio, seed, format, Truncation.fromFlag(truncation)));
        }

        String stage() {
            String st = stage != null ? stage : DataFiles.detectStage(data);
            if (!st.equals("sft") && !st.equals("pretrain") && !st.equals("dpo")) throw new UserError("--stage " + st + ": expected sft, pretrain or dpo");
            return st;
        }

        /** Whether the skipped records are reported elsewhere (check's own report) rather than on stderr. */
        boolean quietSkips() { return false; }

        String dataName() {
            return data.size() == 1 ? data.get(0).toString() : String.join(" ", data.stream().map(Path::toString).toList());
        }
    }

    @Command(name = "render", mixinStandardHelpOptions = true,
            description = {"One JSON line per sample: {\"text\", \"input_ids\", \"labels\"} as MiniMind's dataset returns them, padded to",
                    "max_seq_len. Training here does not pad a sample to max_seq_len (only a batch to its longest sample, unless",
                    "--pad_to_max_seq_len): --no_pad prints the unpadded ids and labels, which are what its batches hold.",
                    "--show prints the text instead with supervised tokens highlighted: green on a terminal, [[...]] when",
                    "the output is a file or a pipe or NO_COLOR is set. Samples are shown as they are, before --truncation drops any."})
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
            boolean colour = out == null && System.console() != null && System.getenv("NO_COLOR") == null;
            int n = limit > 0 ? Math.min(limit, ds.size()) : ds.size();
            for (int i = 0; i < n; i++) {
                Sample pair = ds.get(i, epoch - 1);
                for (Sample s = pair; s != null; s = s == pair ? pair.rejected() : null) {  // a DPO pair: chosen, then rejected
                if (show) {
                    w.write(highlight(tok, s, i, colour));
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
                if (pair.rejected() != null) o.put("side", s == pair ? "chosen" : "rejected");
                o.put("text", s.text());
                o.set("input_ids", json.valueToTree(ids));
                o.set("labels", json.valueToTree(labels));
                w.write(json.writeValueAsString(o));
                w.write('\n');
                }
            }
        }

        /**
         * Supervised tokens in green and the rest dimmed ({@code colour}), or supervised spans between [[ and ]] in
         * plain text; token boundaries kept by decoding token runs.
         */
        static String highlight(MiniMindTokenizer tok, Sample s, int i, boolean colour) {
            StringBuilder sb = new StringBuilder();
            String header = "── sample " + i + " (" + s.ids().length + " tokens, " + s.supervised() + " supervised) ──";
            sb.append(colour ? "\033[1m" + header + "\033[0m" : header).append('\n');
            int start = 0;
            while (start < s.ids().length) {
                boolean sup = s.labels()[start] != LossMask.IGNORE;
                int end = start;
                while (end < s.ids().length && (s.labels()[end] != LossMask.IGNORE) == sup) end++;
                String text = tok.decode(Arrays.copyOfRange(s.ids(), start, end), false);
                if (colour) sb.append(sup ? "\033[32m" : "\033[2m").append(text).append("\033[0m");
                else sb.append(sup ? "[[" : "").append(text).append(sup ? "]]" : "");
                start = end;
            }
            return sb.append("\n\n").toString();
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Checks a data set the way training reads it, on all cores: every record converted, rendered and",
                    "tokenized. Reports skipped records by reason, samples over --max_seq_len, samples that lose every",
                    "supervised token, template failures (the first few of each with file:line), token-length percentiles,",
                    "supervised-token fraction and padding. Exit code 1 when any record is skipped, fails, would be dropped,",
                    "or (with --truncation error) is too long; 0 when training would use every record."})
    static final class Check extends Common implements Callable<Integer> {
        @Option(names = "--json", description = "Print the full report as one JSON object")
        boolean json;

        @Override
        boolean quietSkips() { return true; }

        /** Samples of one kind: how many, and where the first few are. */
        private record Kind(String kind, int count, List<String> first) {}

        @Override
        public Integer call() throws Exception {
            long start = System.nanoTime();
            try (MiniMindTokenizer tok = MiniMindTokenizer.load(tokenizerPath); TokenDataset ds = open(tok, System.err)) {
                Measurement m = Measurement.of(ds, epoch - 1, System.err::println); // progress on stderr: stdout stays the report
                JsonlIndex idx = ds.index();
                int total = m.size(), n = 0;
                int[] lengths = new int[total];
                long tokens = 0, supervised = 0;
                List<String> failures = new ArrayList<>(), truncated = new ArrayList<>(), lostAll = new ArrayList<>();
                int failed = 0, truncatedCount = 0, lostCount = 0;
                for (int i = 0; i < total; i++) {
                    if (m.failure()[i] != null) {
                        if (failed++ < JsonlIndex.REPORTED) failures.add(m.failure()[i]);
                        continue;
                    }
                    lengths[n++] = m.fullLength()[i];
                    tokens += m.length()[i];
                    supervised += m.supervised()[i];
                    if (m.truncated(i) && truncatedCount++ < JsonlIndex.REPORTED)
                        truncated.add(idx.location(i) + ": " + m.fullLength()[i] + " tokens");
                    if (m.lostAll(i) && lostCount++ < JsonlIndex.REPORTED) lostAll.add(idx.location(i));
                }
                if (n == 0) throw new UserError(dataName() + ": no record could be rendered" + (failures.isEmpty() ? "" : "; first: " + failures.get(0)));
                lengths = Arrays.copyOf(lengths, n);
                int[] sorted = lengths.clone();
                Arrays.sort(sorted);
                long padded = (long) n * maxSeqLen;
                Truncation mode = Truncation.fromFlag(truncation);
                List<Kind> skipped = new ArrayList<>();
                for (JsonlIndex.BadKind k : idx.badKinds())
                    skipped.add(new Kind(k.kind(), k.count(), k.first().stream().map(b -> b.where() + ": " + b.reason()).toList()));
                double secs = (System.nanoTime() - start) / 1e9;
                boolean bad = idx.skipped() > 0 || failed > 0 || lostCount > 0 || (mode == Truncation.ERROR && truncatedCount > 0);
                if (json) {
                    ObjectMapper om = new ObjectMapper();
                    ObjectNode o = om.createObjectNode();
                    o.set("files", om.valueToTree(idx.files().stream().map(Path::toString).toList()));
                    o.put("stage", ds instanceof SftDataset ? "sft" : ds instanceof minimind4j.data.DpoDataset ? "dpo" : "pretrain");
                    if (ds instanceof SftDataset sft) o.put("format", sft.options().format().flag());
                    o.put("records", idx.totalLines());
                    o.put("samples", n);
                    o.put("max_seq_len", maxSeqLen);
                    o.put("truncation", mode.flag());
                    ObjectNode sk = o.putObject("skipped");
                    sk.put("count", idx.skipped());
                    sk.set("by_reason", om.valueToTree(skipped));
                    o.set("template_failures", om.valueToTree(new Kind("the chat template fails", failed, failures)));
                    o.set("truncated", om.valueToTree(new Kind("longer than max_seq_len", truncatedCount, truncated)));
                    o.set("no_supervised_token", om.valueToTree(new Kind("no supervised token left (dropped by sft)", lostCount, lostAll)));
                    ObjectNode len = o.putObject("tokens_per_sample");
                    len.put("min", sorted[0]);
                    for (int p : new int[]{10, 25, 50, 75, 90, 95, 99}) len.put("p" + p, pct(sorted, p));
                    len.put("max", sorted[n - 1]);
                    len.put("mean", Arrays.stream(lengths).average().orElse(0));
                    o.put("tokens", tokens);
                    o.put("supervised_tokens", supervised);
                    o.put("pad_tokens_at_max_seq_len", padded - tokens);
                    o.put("seconds", secs);
                    o.put("records_per_second", idx.totalLines() / Math.max(1e-9, secs));
                    o.put("ok", !bad);
                    System.out.println(om.writeValueAsString(o));
                    System.out.flush();
                    return bad ? 1 : 0;
                }
                System.out.printf(Locale.ROOT, "data: %s%n", idx.name());
                System.out.printf(Locale.ROOT, "samples: %d usable of %d records (%d skipped)%n", n, idx.totalLines(), idx.skipped());
                for (Kind k : skipped) print("skipped: " + k.kind(), k.count(), k.first());
                print("the chat template fails on (sft drops them)", failed, failures);
                System.out.printf(Locale.ROOT, "tokens per sample (before truncation): min %d, p50 %d, p90 %d, p99 %d, max %d, mean %.1f%n",
                        sorted[0], pct(sorted, 50), pct(sorted, 90), pct(sorted, 99), sorted[n - 1], Arrays.stream(lengths).average().orElse(0));
                System.out.printf(Locale.ROOT, "truncated at max_seq_len %d: %d (%.1f%%); of those, %d lose every supervised token%n",
                        maxSeqLen, truncatedCount, 100.0 * truncatedCount / n, lostCount);
                print("longer than --max_seq_len " + maxSeqLen + (mode == Truncation.ERROR ? " (--truncation error: sft stops)"
                        : mode == Truncation.DROP ? " (--truncation drop: sft leaves them out)" : " (truncated)"), truncatedCount, truncated);
                print("no supervised token left at --max_seq_len " + maxSeqLen + " (sft drops them)", lostCount, lostAll);
                System.out.printf(Locale.ROOT, "tokens after truncation: %d; supervised: %d (%.1f%%)%n", tokens, supervised, 100.0 * supervised / Math.max(1, tokens));
                System.out.printf(Locale.ROOT, "padding to max_seq_len would add %d pad tokens (%.1f%% of a padded batch)%n",
                        padded - tokens, 100.0 * (padded - tokens) / padded);
                System.out.flush();
                System.err.printf(Locale.ROOT, "checked %d records in %.1fs (%.0f records/s on %d cores)%n", idx.totalLines(), secs,
                        idx.totalLines() / Math.max(1e-9, secs), Runtime.getRuntime().availableProcessors());
                return bad ? 1 : 0;
            }
        }

        private static void print(String what, int count, List<String> first) {
            if (count == 0) return;
            System.out.printf(Locale.ROOT, "%s: %d%n", what, count);
            for (String f : first) System.out.println("  " + f);
            if (count > first.size()) System.out.printf(Locale.ROOT, "  ... and %d more%n", count - first.size());
        }

        /** Nearest-rank percentile of an ascending array. */
        static int pct(int[] sorted, int p) {
            return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
        }
    }
}
