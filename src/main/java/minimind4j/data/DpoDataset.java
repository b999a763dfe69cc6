package minimind4j.data;

import minimind4j.data.formats.Conversation;
import minimind4j.UserError;
import minimind4j.data.formats.PreferenceFormat;
import minimind4j.data.formats.PreferenceFormat.Pair;
import minimind4j.tokenizer.MiniMindTokenizer;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * MiniMind's DPODataset, streamed: each record's chosen and rejected conversations ({@link PreferenceFormat}) are
 * rendered with the chat template (no random system prompt; the empty think block dropped as
 * post_processing_chat does, drawn separately for each side), tokenized, truncated to max_seq_len and labelled by the
 * SFT assistant-span rule ({@link LossMask}). MiniMind's x = ids[:-1], y = ids[1:], mask = loss_mask[1:] is what
 * the model's shift makes of ids and labels here. A sample is the pair: the chosen {@link Sample} with the
 * rejected one attached ({@link Sample#rejected}).
 *
 * <p>Pairs whose chosen or rejected sequence keeps no supervised token after truncation are dropped and named (they
 * would compare nothing). Randomness comes from (seed, epoch, index), as in {@link SftDataset}.
 */
public final class DpoDataset implements TokenDataset {
    private static final String EMPTY_THINK = "<think>\n\n</think>\n\n";

    private final JsonlIndex index;
    private final MiniMindTokenizer tokenizer;
    private final SftDataset.Options options;
    /** Tokenization and labels exactly as SFT makes them. */
    private final SftDataset sft;
    private int[] keep;

    public DpoDataset(JsonlIndex index, MiniMindTokenizer tokenizer, SftDataset.Options options) {
        this.index = index;
        this.tokenizer = tokenizer;
        this.options = options;
        this.sft = new SftDataset(index, tokenizer, options);
    }

    /** Indexes the data, checking each record is a preference pair; SFT, KTO and pretrain data refuse the input. */
    public static JsonlIndex index(List<Path> paths, boolean strict) {
        return JsonlIndex.build(paths, record -> {
            try {
                Pair p = PreferenceFormat.parse(record);
                p.chosen().checkTrainable();
                p.rejected().checkTrainable();
                return null;
            } catch (PreferenceFormat.NotPreferenceData e) {
                throw new JsonlIndex.Refused(e.getMessage());
            } catch (Conversation.Invalid e) {
                return e.getMessage();
            }
        }, strict);
    }

    /** The dataset training uses: indexed, every pair made once to apply --truncation and drop empty pairs. */
    public static DpoDataset open(List<Path> paths, boolean strict, MiniMindTokenizer tok, SftDataset.Options options, Consumer<String> log) {
        JsonlIndex idx = index(paths, strict);
        if (idx.skipSummary() != null) log.accept(idx.skipSummary());
        DpoDataset ds = new DpoDataset(idx, tok, options);
        return Kept.measured(ds, ds::applyTruncation, log);
    }

    @Override
    public int size() { return keep == null ? index.size() : keep.length; }

    @Override
    public int padId() { return tokenizer.padId(); }

    @Override
    public JsonlIndex index() { return index; }

    public int record(int i) { return keep == null ? i : keep[i]; }

    @Override
    public Sample get(int i, int epoch) {
        int rec = record(i);
        Pair p;
        try {
            p = PreferenceFormat.parse(index.line(rec));
        } catch (Conversation.Invalid e) {
            throw new UserError(index.location(rec) + ": " + e.getMessage());
        }
        SplittableRandom r = SftDataset.random(options.seed(), epoch, rec);
        double drawChosen = r.nextDouble(), drawRejected = r.nextDouble();
        return Sample.pair(side(i, rec, p.chosen(), drawChosen, "chosen"), side(i, rec, p.rejected(), drawRejected, "rejected"));
    }

    private Sample side(int i, int rec, Conversation c, double drawThink, String which) {
        String text;
        try {
            text = tokenizer.applyChatTemplate(c.messages(), c.tools(), false, Map.of());
        } catch (RuntimeException e) {
            throw new UserError(index.location(rec) + ": the chat template failed on the " + which + " conversation (" + e.getMessage() + ")");
        }
        if (text.contains(EMPTY_THINK) && drawThink > options.emptyThinkRatio()) text = text.replace(EMPTY_THINK, "");
        int[] full = sft.tokenize(text);
        int[] ids = full.length > options.maxSeqLen() ? Arrays.copyOf(full, options.maxSeqLen()) : full;
        return new Sample(i, text, ids, sft.lossMask().labels(ids, c.supervisedReplies()), full.length);
    }

    /** Keeps the pairs --truncation keeps; says how many were truncated or dropped, or null when none. */
    private String applyTruncation(Measurement m) {
        Kept k = Kept.apply(m, index, options.truncation(), options.maxSeqLen(), "pair", "the chosen or rejected reply is cut to nothing", "reply token");
        if (k.records() != null) keep = k.records();
        return k.summary();
    }

    @Override
    public void close() { index.close(); }
}
