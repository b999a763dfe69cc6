package minimind4j.data;

import minimind4j.data.formats.Conversation;
import minimind4j.UserError;
import minimind4j.data.formats.DataFormat;
import minimind4j.data.formats.NotSftData;
import minimind4j.tokenizer.MiniMindTokenizer;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * MiniMind's SFTDataset, streamed: each sample is parsed from its record when asked for (in any
 * {@link DataFormat}), augmented with a system prompt with probability {@code addSystemRatio} (never for tool-use
 * samples), rendered with the tokenizer's chat template, tokenized, truncated to {@code maxSeqLen} and labelled by
 * {@link LossMask} (replies the data marks unsupervised, e.g. {@code weight: 0}, stay -100).
 *
 * <p>MiniMind draws its augmentation from Python's global RNG, so a resumed run sees other samples. Here the
 * randomness of sample {@code i} in epoch {@code e} comes from (seed, e, i) alone: the same run, resumed or not,
 * and on any number of ranks, sees the same samples.
 *
 * <p>One deliberate difference from MiniMind's tokenization: the text is encoded in pieces cut right after each
 * {@code bos + "assistant\n"} reply header (see {@link #tokenize}).
 */
public final class SftDataset implements TokenDataset {
    private static final String EMPTY_THINK = "<think>\n\n</think>\n\n";

    /** How samples are made: MiniMind's train_full_sft.py arguments plus the data format and over-length policy. */
    public record Options(int maxSeqLen, double addSystemRatio, double emptyThinkRatio, long seed, DataFormat format,
                          Truncation truncation) {
        public static Options of(int maxSeqLen) {
            return new Options(maxSeqLen, 0.2, 0.2, 42, DataFormat.AUTO, Truncation.TRUNCATE);
        }

        public Options withAugmentation(double addSystemRatio, double emptyThinkRatio, long seed) {
            return new Options(maxSeqLen, addSystemRatio, emptyThinkRatio, seed, format, truncation);
        }

        public Options withFormat(DataFormat f) { return new Options(maxSeqLen, addSystemRatio, emptyThinkRatio, seed, f, truncation); }

        public Options withTruncation(Truncation t) { return new Options(maxSeqLen, addSystemRatio, emptyThinkRatio, seed, format, t); }
    }

    private final JsonlIndex index;
    private final MiniMindTokenizer tokenizer;
    private final Options options;
    private final LossMask mask;
    private final String replyHeader;
    /** Dataset position to record: null while every record is a sample. */
    private int[] keep;

    public SftDataset(JsonlIndex index, MiniMindTokenizer tokenizer, Options options) {
        this.index = index;
        this.tokenizer = tokenizer;
        this.options = options;
        this.replyHeader = tokenizer.bosToken() + "assistant\n";
        this.mask = new LossMask(tokenizer.encode(replyHeader), tokenizer.encode(tokenizer.eosToken() + "\n"));
    }

    public SftDataset(JsonlIndex index, MiniMindTokenizer tokenizer, int maxSeqLen, double addSystemRatio,
                      double emptyThinkRatio, long seed) {
        this(index, tokenizer, Options.of(maxSeqLen).withAugmentation(addSystemRatio, emptyThinkRatio, seed));
    }

    /** Indexes {@code path}, checking each record parses as a conversation in any format. */
    public static JsonlIndex index(Path path, boolean strict) {
        return index(List.of(path), strict, DataFormat.AUTO);
    }

    /**
     * Indexes the data, checking each record converts to a trainable conversation; a record of another kind of data
     * (preference, KTO, multimodal, pretrain text) refuses the whole input.
     */
    public static JsonlIndex index(List<Path> paths, boolean strict, DataFormat format) {
        return JsonlIndex.build(paths, record -> {
            try {
                format.parse(record).checkTrainable();
                return null;
            } catch (NotSftData e) {
                throw new JsonlIndex.Refused(e.getMessage());
            } catch (Conversation.Invalid e) {
                return e.getMessage();
            }
        }, strict);
    }

    /**
     * The dataset training uses: indexed, every sample rendered and tokenized once (on all cores) to apply
     * {@code --truncation}, with what was skipped, truncated and dropped told to {@code log}.
     */
    public static SftDataset open(List<Path> paths, boolean strict, MiniMindTokenizer tok, Options options, Consumer<String> log) {
        JsonlIndex idx = index(paths, strict, options.format());
        if (idx.skipSummary() != null) log.accept(idx.skipSummary());
        SftDataset ds = new SftDataset(idx, tok, options);
        return Kept.measured(ds, ds::applyTruncation, log);
    }

    @Override
    public JsonlIndex index() { return index; }

    @Override
    public int size() { return keep == null ? index.size() : keep.length; }

    @Override
    public int padId() { return tokenizer.padId(); }

    public LossMask lossMask() { return mask; }

    public Options options() { return options; }

    /** The record in the index behind sample {@code i}. */
    public int record(int i) { return keep == null ? i : keep[i]; }

    /** Per-sample randomness from (seed, epoch, index) only. */
    static SplittableRandom random(long seed, int epoch, int index) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch * 0xC2B2AE3D27D4EB4FL + index);
    }

    /** A sample's text and which of its replies are supervised. */
    private record Rendered(String text, boolean[] supervisedReplies) {}

    private Rendered renderRecord(int rec, int epoch) {
        Conversation c;
        try {
            c = options.format().parse(index.line(rec));
        } catch (Conversation.Invalid e) {
            throw new UserError(index.location(rec) + ": " + e.getMessage());
        }
        SplittableRandom r = random(options.seed(), epoch, rec);
        double drawSystem = r.nextDouble();
        int which = r.nextInt(SystemPrompts.MINIMIND.size());
        double drawThink = r.nextDouble();
        if (!c.hasTools() && !c.startsWithSystem() && drawSystem < options.addSystemRatio())
            c = c.withSystem(SystemPrompts.MINIMIND.get(which));
        String text;
        try {
            text = tokenizer.applyChatTemplate(c.messages(), c.tools(), false, Map.of());
        } catch (RuntimeException e) {
            throw new UserError(index.location(rec) + ": the chat template failed on this conversation (" + e.getMessage() + ")");
        }
        // MiniMind drops empty think blocks most of the time so the model does not learn to always emit them
        if (text.contains(EMPTY_THINK) && drawThink > options.emptyThinkRatio()) text = text.replace(EMPTY_THINK, "");
        return new Rendered(text, c.supervisedReplies());
    }

    /** The text MiniMind trains on for this sample (after augmentation), before tokenizing. */
    public String render(int i, int epoch) {
        return renderRecord(record(i), epoch).text();
    }

    @Override
    public Sample get(int i, int epoch) {
        Rendered r = renderRecord(record(i), epoch);
        int[] full = tokenize(r.text());
        int[] ids = full.length > options.maxSeqLen() ? Arrays.copyOf(full, options.maxSeqLen()) : full;
        return new Sample(i, r.text(), ids, mask.labels(ids, r.supervisedReplies()), full.length);
    }

    /**
     * Keeps the samples {@code --truncation} keeps and says what happened: how many were truncated, how many were
     * dropped (no supervised token left, over-length under {@code drop}, template failures). Null when nothing
     * happened.
     */
    String applyTruncation(Measurement m) {
        Kept k = Kept.apply(m, index, options.truncation(), options.maxSeqLen(), "sample", "no supervised token is left", "supervised token");
        if (k.records() != null) keep = k.records();
        return k.summary();
    }

    /**
     * The ids of a rendered conversation: the tokenizer's ids of each piece of text cut right after every reply
     * header, concatenated.
     *
     * <p>Why not the ids of the whole text, as MiniMind takes them: byte-level BPE joins the header's {@code "\n"}
     * with whitespace that starts the reply ({@code "\n  "} is one token), so a reply beginning with two spaces (an
     * indented code line, a nested list; on minimind-3 whenever the empty think block was dropped) no longer
     * follows the header's token sequence and MiniMind leaves the whole reply unsupervised. Cutting there makes the
     * header end in its own {@code "\n"} token, as the generation prompt does at inference; everywhere else the
     * ids are MiniMind's, since the cut falls where the pre-tokenizer splits anyway.
     */
    public int[] tokenize(String text) {
        int[] ids = new int[0];
        int from = 0;
        for (int at = text.indexOf(replyHeader); at >= 0; at = text.indexOf(replyHeader, from)) {
            int cut = at + replyHeader.length();
            ids = concat(ids, tokenizer.encode(text.substring(from, cut)));
            from = cut;
        }
        return from == 0 ? tokenizer.encode(text) : concat(ids, tokenizer.encode(text.substring(from)));
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Override
    public void close() { index.close(); }
}
