package minimind4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Encodes and decodes with a {@link BpeModel} in plain Java, applying merges by rank as HF's BPE model does. The
 * project encodes with HF's tokenizer through DJL; this class exists to check a trained model independently of it.
 */
public final class BpeEncoder {
    private final BpeModel model;
    private final Map<String, Integer> ids = new HashMap<>();
    private final Map<Long, Integer> rankOfPair = new HashMap<>();
    private final SpecialTokenSplitter splitter;

    public BpeEncoder(BpeModel model) {
        this.model = model;
        for (int id = 0; id < model.vocab().size(); id++) ids.putIfAbsent(model.vocab().get(id), id);
        List<BpeModel.Merge> merges = model.merges();
        for (int rank = 0; rank < merges.size(); rank++) {
            BpeModel.Merge m = merges.get(rank);
            rankOfPair.putIfAbsent(pairKey(id(m.left()), id(m.right())), rank);
        }
        this.splitter = new SpecialTokenSplitter(model.specialTokens());
    }

    private int id(String token) {
        Integer id = ids.get(token);
        if (id == null) throw new IllegalArgumentException("token not in the vocabulary: " + token);
        return id;
    }

    public int[] encode(String text) {
        List<Integer> out = new ArrayList<>();
        splitter.split(text, plain -> {
            for (String piece : ByteLevel.split(plain)) encodeWord(ByteLevel.toSymbols(piece), out);
        }, out::add);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Repeatedly merges the lowest-ranked adjacent pair, every occurrence left to right, until none applies. */
    private void encodeWord(String symbols, List<Integer> out) {
        List<Integer> parts = new ArrayList<>(symbols.length());
        for (int i = 0; i < symbols.length(); i++) parts.add(id(String.valueOf(symbols.charAt(i))));
        while (parts.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer rank = rankOfPair.get(pairKey(parts.get(i), parts.get(i + 1)));
                if (rank != null && rank < bestRank) bestRank = rank;
            }
            if (bestRank == Integer.MAX_VALUE) break;
            BpeModel.Merge m = model.merges().get(bestRank);
            int left = id(m.left()), right = id(m.right()), merged = id(m.merged());
            List<Integer> next = new ArrayList<>(parts.size());
            for (int i = 0; i < parts.size(); ) {
                if (i + 1 < parts.size() && parts.get(i) == left && parts.get(i + 1) == right) {
                    next.add(merged);
                    i += 2;
                } else {
                    next.add(parts.get(i++));
                }
            }
            parts = next;
        }
        out.addAll(parts);
    }

    /** Token ids back to text; special tokens are written as themselves, bytes that are not valid UTF-8 as U+FFFD. */
    public String decode(int[] tokenIds) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int specials = model.specialTokens().size();
        for (int id : tokenIds) {
            String token = model.vocab().get(id);
            if (id < specials) {
                bytes.writeBytes(token.getBytes(StandardCharsets.UTF_8));
            } else {
                ByteLevel.appendBytes(token, bytes);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static long pairKey(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }
}
