package minimind4j.data;

import minimind4j.cli.UserError;
import minimind4j.tokenizer.MiniMindTokenizer;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MiniMind's SFTDataset, streamed: each sample is parsed from its JSONL line when asked for, augmented with a
 * system prompt with probability {@code addSystemRatio} (never for tool-use samples), rendered with the tokenizer's
 * chat template, tokenized, truncated to {@code maxSeqLen} and labelled by {@link LossMask}.
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

    private final JsonlIndex index;
    private final MiniMindTokenizer tokenizer;
    private final int maxSeqLen;
    private final double addSystemRatio;
    private final double emptyThinkRatio;
    private final long seed;
    private final LossMask mask;
    private final String replyHeader;

    public SftDataset(JsonlIndex index, MiniMindTokenizer tokenizer, int maxSeqLen, double addSystemRatio,
                      double emptyThinkRatio, long seed) {
        this.index = index;
        this.tokenizer = tokenizer;
        this.maxSeqLen = maxSeqLen;
        this.addSystemRatio = addSystemRatio;
        this.emptyThinkRatio = emptyThinkRatio;
        this.seed = seed;
        this.replyHeader = tokenizer.bosToken() + "assistant\n";
        this.mask = new LossMask(tokenizer.encode(replyHeader), tokenizer.encode(tokenizer.eosToken() + "\n"));
    }

    /** Indexes {@code path}, checking each line parses as a conversation. */
    public static JsonlIndex index(Path path, boolean strict) {
        return JsonlIndex.build(path, line -> {
            try {
                Conversation.parse(line);
                return null;
            } catch (Conversation.Invalid e) {
                return e.getMessage();
            }
        }, strict);
    }

    @Override
    public JsonlIndex index() { return index; }

    @Override
    public int size() { return index.size(); }

    @Override
    public int padId() { return tokenizer.padId(); }

    public LossMask lossMask() { return mask; }

    /** Per-sample randomness from (seed, epoch, index) only. */
    static SplittableRandom random(long seed, int epoch, int index) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch * 0xC2B2AE3D27D4EB4FL + index);
    }

    /** The text MiniMind trains on for this sample (after augmentation), before tokenizing. */
    public String render(int i, int epoch) {
        Conversation c;
        try {
            c = Conversation.parse(index.line(i));
        } catch (Conversation.Invalid e) {
            throw new UserError(index.path() + ":" + index.lineNumber(i) + ": " + e.getMessage());
        }
        SplittableRandom r = random(seed, epoch, i);
        double drawSystem = r.nextDouble();
        int which = r.nextInt(SystemPrompts.MINIMIND.size());
        double drawThink = r.nextDouble();
        if (!c.hasTools() && !"system".equals(c.messages().get(0).get("role")) && drawSystem < addSystemRatio)
            c = c.withSystem(SystemPrompts.MINIMIND.get(which));
        String text;
        try {
            text = tokenizer.applyChatTemplate(c.messages(), c.tools(), false, Map.of());
        } catch (RuntimeException e) {
            throw new UserError(index.path() + ":" + index.lineNumber(i) + ": the chat template failed on this conversation (" + e.getMessage() + ")");
        }
        // MiniMind drops empty think blocks most of the time so the model does not learn to always emit them
        if (text.contains(EMPTY_THINK) && drawThink > emptyThinkRatio) text = text.replace(EMPTY_THINK, "");
        return text;
    }

    @Override
    public Sample get(int i, int epoch) {
        String text = render(i, epoch);
        int[] full = tokenize(text);
        int[] ids = full.length > maxSeqLen ? Arrays.copyOf(full, maxSeqLen) : full;
        return new Sample(i, text, ids, mask.labels(ids), full.length);
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
