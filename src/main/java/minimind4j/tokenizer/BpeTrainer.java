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

        Pairs pairs = new Pairs();
        for (int w = 0; w < words.length; w++) {
            int[] s = words[w];
            for (int j = 0; j + 1 < s.length; j++) {
                int q = pairs.indexOf(s[j], s[j + 1]);
                pairs.count[q] += freq[w];
                pairs.addWord(q, w);
            }
        }
        PriorityQueue<Candidate> queue = new PriorityQueue<>(Candidate.ORDER);
        for (int q = 0; q < pairs.size; q++) queue.add(pairs.candidate(q));

        int wanted = vocabSize - vocab.size();
        progress.accept(String.format("tokenizer: %,d distinct words, %,d pairs; learning up to %,d merges",
                words.length, pairs.size, wanted));
        List<BpeModel.Merge> merges = new ArrayList<>();
        int[] seenAtStep = new int[words.length];
        long lastReport = System.nanoTime();
        while (vocab.size() < vocabSize && !queue.isEmpty()) {
            Candidate top = queue.poll();
            // Every count change pushes a fresh candidate, so an entry whose count is out of date is just dropped.
            if (pairs.count[top.pair] != top.count) continue;

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

            int step = merges.size();
            pairs.startStep(step);
            // No merge can re-create the pair being merged, so its word list does not change while we walk it.
            int[] candidates = pairs.words[top.pair];
            int candidateCount = pairs.wordCount[top.pair];
            for (int i = 0; i < candidateCount; i++) {
                int w = candidates[i];
                if (seenAtStep[w] == step) continue;
                seenAtStep[w] = step;
                int[] merged = mergeWord(words[w], top.left, top.right, id, freq[w], w, pairs);
                if (merged != null) words[w] = merged;
            }
            if (pairs.count[top.pair] != 0) {
                throw new IllegalStateException("merge left occurrences of " + leftToken + " " + rightToken);
            }
            pairs.clearWords(top.pair);
            for (int i = 0; i < pairs.touchedSize; i++) {
                int q = pairs.touched[i];
                if (pairs.count[q] > 0 && pairs.count[q] != pairs.countBefore[q]) queue.add(pairs.candidate(q));
                if (pairs.count[q] == 0) pairs.clearWords(q);
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
     * "aa a"), and updates pair counts: only pairs that touch a merge site can change.
     * Returns null when the word no longer holds the pair (its entry in the pair's word list is stale).
     */
    private static int[] mergeWord(int[] s, int left, int right, int newId, long f, int word, Pairs pairs) {
        int[] t = null;
        int n = 0;
        int lastOldPair = -1; // index j of the old pair (s[j], s[j+1]) last counted as removed
        boolean[] isNew = null;
        for (int i = 0; i < s.length; ) {
            if (i + 1 < s.length && s[i] == left && s[i + 1] == right) {
                if (t == null) {
                    t = new int[s.length];
                    System.arraycopy(s, 0, t, 0, i);
                    n = i;
                    isNew = new boolean[s.length];
                }
                for (int j = Math.max(i - 1, lastOldPair + 1); j <= i + 1 && j + 1 < s.length; j++) {
                    pairs.add(pairs.existing(s[j], s[j + 1]), -f);
                    lastOldPair = j;
                }
                isNew[n] = true;
                t[n++] = newId;
                i += 2;
            } else {
                if (t != null) t[n++] = s[i];
                i++;
            }
        }
        if (t == null) return null;
        int lastNewPair = -1;
        for (int k = 0; k < n; k++) {
            if (!isNew[k]) continue;
            for (int j = Math.max(k - 1, lastNewPair + 1); j <= k && j + 1 < n; j++) {
                int q = pairs.indexOf(t[j], t[j + 1]);
                pairs.add(q, f);
                pairs.addWord(q, word);
                lastNewPair = j;
            }
        }
        return Arrays.copyOf(t, n);
    }

    /**
     * Every pair seen so far, by dense index: its weighted count and the words that contain (or once contained) it.
     * Primitive arrays and an open-addressing key table, because the hot loop touches millions of pairs.
     */
    private static final class Pairs {
        private static final int[] NO_WORDS = new int[0];
        private long[] table = new long[1 << 16];   // pair key, or -1 for an empty slot
        private int[] tableIndex = new int[1 << 16];
        int size;
        int[] left = new int[1024];
        int[] right = new int[1024];
        long[] count = new long[1024];
        int[][] words = new int[1024][];
        int[] wordCount = new int[1024];
        // per merge step: which pairs changed, and their count before the step
        private int[] touchedAt = new int[1024];
        long[] countBefore = new long[1024];
        int[] touched = new int[1024];
        int touchedSize;
        private int step;

        Pairs() {
            Arrays.fill(table, -1);
        }

        int indexOf(int l, int r) {
            long key = pairKey(l, r);
            int mask = table.length - 1;
            for (int slot = mix(key) & mask; ; slot = (slot + 1) & mask) {
                if (table[slot] == key) return tableIndex[slot];
                if (table[slot] == -1) {
                    table[slot] = key;
                    tableIndex[slot] = size;
                    addPair(l, r);
                    if (size * 2 > table.length) rehash();
                    return size - 1;
                }
            }
        }

        int existing(int l, int r) {
            long key = pairKey(l, r);
            int mask = table.length - 1;
            for (int slot = mix(key) & mask; ; slot = (slot + 1) & mask) {
                if (table[slot] == key) return tableIndex[slot];
                if (table[slot] == -1) throw new IllegalStateException("unknown pair " + l + " " + r);
            }
        }

        private void addPair(int l, int r) {
            if (size == left.length) {
                int n = size * 2;
                left = Arrays.copyOf(left, n);
                right = Arrays.copyOf(right, n);
                count = Arrays.copyOf(count, n);
                words = Arrays.copyOf(words, n);
                wordCount = Arrays.copyOf(wordCount, n);
                touchedAt = Arrays.copyOf(touchedAt, n);
                countBefore = Arrays.copyOf(countBefore, n);
            }
            left[size] = l;
            right[size] = r;
            words[size] = NO_WORDS;
            size++;
        }

        private void rehash() {
            long[] oldTable = table;
            int[] oldIndex = tableIndex;
            table = new long[oldTable.length * 2];
            tableIndex = new int[oldTable.length * 2];
            Arrays.fill(table, -1);
            int mask = table.length - 1;
            for (int i = 0; i < oldTable.length; i++) {
                if (oldTable[i] == -1) continue;
                int slot = mix(oldTable[i]) & mask;
                while (table[slot] != -1) slot = (slot + 1) & mask;
                table[slot] = oldTable[i];
                tableIndex[slot] = oldIndex[i];
            }
        }

        private static int mix(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 32));
        }

        void addWord(int q, int w) {
            int n = wordCount[q];
            if (n > 0 && words[q][n - 1] == w) return;
            if (n == words[q].length) words[q] = Arrays.copyOf(words[q], Math.max(4, n * 2));
            words[q][n] = w;
            wordCount[q] = n + 1;
        }

        void clearWords(int q) {
            words[q] = NO_WORDS;
            wordCount[q] = 0;
        }

        void startStep(int step) {
            this.step = step;
            touchedSize = 0;
        }

        void add(int q, long delta) {
            if (touchedAt[q] != step) {
                touchedAt[q] = step;
                countBefore[q] = count[q];
                if (touchedSize == touched.length) touched = Arrays.copyOf(touched, touchedSize * 2);
                touched[touchedSize++] = q;
            }
            count[q] += delta;
        }

        Candidate candidate(int q) {
            return new Candidate(count[q], left[q], right[q], q);
        }
    }

    private static long pairKey(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private record Candidate(long count, int left, int right, int pair) {
        /** Highest count first; ties to the smaller left id, then the smaller right id. */
        static final Comparator<Candidate> ORDER = Comparator.comparingLong(Candidate::count).reversed()
                .thenComparingInt(Candidate::left)
                .thenComparingInt(Candidate::right);
    }
}
