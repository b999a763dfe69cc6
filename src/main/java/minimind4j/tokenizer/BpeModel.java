package minimind4j.tokenizer;

import java.util.List;

/**
 * A trained byte-level BPE tokenizer: the vocabulary in id order (special tokens first, then the 256 byte symbols,
 * then one token per new merge) and the merges in the order they were learned, which is their rank when encoding.
 */
public record BpeModel(List<String> specialTokens, List<String> vocab, List<Merge> merges) {

    /** Two adjacent tokens that become one; {@link #merged()} is the token they become. */
    public record Merge(String left, String right) {
        public String merged() {
            return left + right;
        }
    }

    public BpeModel {
        specialTokens = List.copyOf(specialTokens);
        vocab = List.copyOf(vocab);
        merges = List.copyOf(merges);
        if (!vocab.subList(0, Math.min(vocab.size(), specialTokens.size())).equals(specialTokens)) {
            throw new IllegalArgumentException("the vocabulary must start with the special tokens " + specialTokens);
        }
    }

    public int vocabSize() {
        return vocab.size();
    }
}
