package minimind4j.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.Consumer;

/**
 * Trains a byte-level BPE tokenizer the way HF {@code tokenizers}' {@code BpeTrainer} does with
 * {@code pre_tokenizers.ByteLevel(add_prefix_space=False)} and {@code initial_alphabet=ByteLevel.alphabet()}
 * (MiniMind's trainer/train_tokenizer.py).
 *
 * <p>Ids: the special tokens first (0, 1, 2, ...), then the 256 byte symbols in code-point order, then one id per
 * learned token. Each step merges the adjacent pair with the highest count, counted over all words weighted by
 * word frequency. <b>Ties</b> go to the pair whose left token id is smallest, then whose right token id is smallest
 * (the rule HF uses), so the result depends only on the word counts, never on hash or input order.
 *
 * <p>Speed: the text is reduced to distinct words with counts first; a merge then touches only the words that
 * contain the pair, and only the pairs next to each merge site change, so training on a few MB takes seconds.
 */
public final class BpeTrainer {
    public static final List<String> DEFAULT_SPECIAL_TOKENS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");

    private final int vocabSize;
    private final List<String> specialTokens;
    private final SpecialTokenSplitter splitter;
    private final Map<String, long[]> wordCounts = new HashMap<>();
    private Consumer<String> progress = message -> {};

    public BpeTrainer(int vocabSize, List<String> specialTokens) {
        if (new HashSet<>(specialTokens).size() != specialTokens.size() || specialTokens.contains("")) {
            throw new IllegalArgumentException("special tokens must be distinct and non-empty: " + specialTokens);
        }
        if (vocabSize < minVocabSize(specialTokens.size())) {
            throw new IllegalArgumentException("vocab_size " + vocabSize + " is below " + minVocabSize(specialTokens.size())
                    + " (256 byte symbols + " + specialTokens.size() + " special tokens)");
        }
        this.vocabSize = vocabSize;
        this.specialTokens = List.copyOf(specialTokens);
        this.splitter = new SpecialTokenSplitter(specialTokens);
    }

    /** The smallest vocabulary that holds every byte and the special tokens, i.e. zero merges. */
    public static int minVocabSize(int specialTokenCount) {
        return 256 + specialTokenCount;
    }

    /** Where to send progress lines (default: nowhere). */
    public BpeTrainer onProgress(Consumer<String> sink) {
        this.progress = sink;
        return this;
    }

    /**
     * Counts the words of one training text. Special tokens in the text are cut out first (as encoding will),
     * so no merges are spent on their pieces.
     */
    public void addText(String text) {
        splitter.split(text, this::countWords, special -> {});
    }

    private void countWords(String plain) {
        for (String piece : ByteLevel.split(plain)) {
            wordCounts.computeIfAbsent(ByteLevel.toSymbols(piece), k -> new long[1])[0]++;
        }
    }

    /** Distinct pre-tokenized words seen so far. */
    public int distinctWords() {
        return wordCounts.size();
    }

    /**
     * Learns merges until the vocabulary reaches {@code vocabSize} or no pair is left (a corpus too small for the
     * requested size gives a smaller vocabulary: compare {@link BpeModel#vocabSize()}).
     */
    public BpeModel train() {
        List<String> vocab = new ArrayList<>(specialTokens);
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < vocab.size(); i++) ids.put(vocab.get(i), i);
        for (String symbol : ByteLevel.alphabet()) {
            if (ids.putIfAbsent(symbol, vocab.size()) == null) vocab.add(symbol);
        }

        String[] keys = wordCounts.keySet().toArray(new String[0]);
        Arrays.sort(keys);
        int[][] words = new int[keys.length][];
        long[] freq = new long[keys.length];
        for (int w = 0; w < keys.length; w++) {
            String key = keys[w];
            int[] symbols = new int[key.length()];
            for (int j = 0; j < symbols.length; j++) symbols[j] = ids.get(String.valueOf(key.charAt(j)));
            words[w] = symbols;
            freq[w] = wordCounts.get(key)[0];
        }

        Map<Long, PairStats> pairs = new HashMap<>();
        for (int w = 0; w < words.length; w++) {
            int[] s = words[w];
            for (int j = 0; j + 1 < s.length; j++) {
                PairStats st = pairs.computeIfAbsent(pairKey(s[j], s[j + 1]), k -> new PairStats());
                st.count += freq[w];
                st.addWord(w);
            }
        }
        PriorityQueue<Candidate> queue = new PriorityQueue<>(Candidate.ORDER);
        pairs.forEach((key, st) -> queue.add(new Candidate(st.count, left(key), right(key))));

        int wanted = vocabSize - vocab.size();
        progress.accept(String.format("tokenizer: %,d distinct words, %,d pairs; learning up to %,d merges",
                words.length, pairs.size(), wanted));
        List<BpeModel.Merge> merges = new ArrayList<>();
        int[] seenAtStep = new int[words.length];
        long lastReport = System.nanoTime();
        while (vocab.size() < vocabSize && !queue.isEmpty()) {
            Candidate top = queue.poll();
            PairStats st = pairs.get(pairKey(top.left, top.right));
            // Every count change pushes a fresh candidate, so an entry whose count is out of date is just dropped.
            if (st == null || st.count != top.count) continue;

            String leftToken = vocab.get(top.left);
            String rightToken = vocab.get(top.right);
            String token = leftToken + rightToken;
            Integer id = ids.get(token);
            if (id == null) {
                // Two different pairs can spell the same string ("a"+"bc", "ab"+"c"); then the id is reused.
                id = vocab.size();
                ids.put(token, id);
                vocab.add(token);
            }
            merges.add(new BpeModel.Merge(leftToken, rightToken));

            Map<Long, Long> delta = new HashMap<>();
            int step = merges.size();
            int[] candidates = Arrays.copyOf(st.words, st.size);
            for (int w : candidates) {
                if (seenAtStep[w] == step) continue;
                seenAtStep[w] = step;
                int[] merged = mergeWord(words[w], top.left, top.right, id, freq[w], w, delta, pairs);
                if (merged != null) words[w] = merged;
            }
            for (Map.Entry<Long, Long> e : delta.entrySet()) {
                PairStats changed = pairs.get(e.getKey());
                changed.count += e.getValue();
                if (changed.count == 0) {
                    pairs.remove(e.getKey());
                } else if (e.getValue() != 0) {
                    queue.add(new Candidate(changed.count, left(e.getKey()), right(e.getKey())));
                }
            }
            if (pairs.containsKey(pairKey(top.left, top.right))) {
                throw new IllegalStateException("merge left occurrences of " + leftToken + " " + rightToken);
            }
            if (System.nanoTime() - lastReport > 2_000_000_000L) {
                lastReport = System.nanoTime();
                progress.accept(String.format("tokenizer: %,d / %,d merges", merges.size(), wanted));
            }
        }
        return new BpeModel(specialTokens, vocab, merges);
    }

    /**
     * Merges every non-overlapping (left, right) in one word, scanning left to right as HF does ("a a a" becomes
     * "aa a"), and records how pair counts change: only pairs that touch a merge site can change.
     * Returns null when the word no longer holds the pair (its entry in the pair's word list is stale).
     */
    private static int[] mergeWord(int[] s, int left, int right, int newId, long f, int word,
                                   Map<Long, Long> delta, Map<Long, PairStats> pairs) {
        int[] t = new int[s.length];
        int n = 0;
        int lastOldPair = -1; // index j of the old pair (s[j], s[j+1]) last counted as removed
        boolean[] isNew = null;
        for (int i = 0; i < s.length; ) {
            if (i + 1 < s.length && s[i] == left && s[i + 1] == right) {
                for (int j = Math.max(i - 1, lastOldPair + 1); j <= i + 1 && j + 1 < s.length; j++) {
                    delta.merge(pairKey(s[j], s[j + 1]), -f, Long::sum);
                    lastOldPair = j;
                }
                if (isNew == null) isNew = new boolean[s.length];
                isNew[n] = true;
                t[n++] = newId;
                i += 2;
            } else {
                t[n++] = s[i++];
            }
        }
        if (isNew == null) return null;
        int lastNewPair = -1;
        for (int k = 0; k < n; k++) {
            if (!isNew[k]) continue;
            for (int j = Math.max(k - 1, lastNewPair + 1); j <= k && j + 1 < n; j++) {
                long key = pairKey(t[j], t[j + 1]);
                delta.merge(key, f, Long::sum);
                pairs.computeIfAbsent(key, x -> new PairStats()).addWord(word);
                lastNewPair = j;
            }
        }
        return Arrays.copyOf(t, n);
    }

    private static long pairKey(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private static int left(long key) {
        return (int) (key >>> 32);
    }

    private static int right(long key) {
        return (int) key;
    }

    /** A pair's weighted count and the words that contain (or once contained) it. */
    private static final class PairStats {
        long count;
        int[] words = new int[4];
        int size;

        void addWord(int w) {
            if (size > 0 && words[size - 1] == w) return;
            if (size == words.length) words = Arrays.copyOf(words, size * 2);
            words[size++] = w;
        }
    }

    private record Candidate(long count, int left, int right) {
        /** Highest count first; ties to the smaller left id, then the smaller right id. */
        static final Comparator<Candidate> ORDER = Comparator.comparingLong(Candidate::count).reversed()
                .thenComparingInt(Candidate::left)
                .thenComparingInt(Candidate::right);
    }
}
