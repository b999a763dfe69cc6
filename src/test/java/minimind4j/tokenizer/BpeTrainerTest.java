package minimind4j.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BpeTrainerTest {
    static final List<String> SPECIALS = BpeTrainer.DEFAULT_SPECIAL_TOKENS;

    static BpeModel train(int vocabSize, List<String> texts) {
        BpeTrainer trainer = new BpeTrainer(vocabSize, SPECIALS);
        texts.forEach(trainer::addText);
        return trainer.train();
    }

    @Test
    void specialTokensThenBytesInCodePointOrder() {
        BpeModel model = train(259, List.of("hello"));
        assertEquals(259, model.vocabSize());
        assertEquals(List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>"), model.vocab().subList(0, 3));
        assertEquals("!", model.vocab().get(3));     // byte 0x21, the first printable byte
        assertEquals("a", model.vocab().get(3 + 'a' - '!'));
        assertEquals("Ā", model.vocab().get(3 + 188)); // byte 0x00 is moved to U+0100, after the 188 printable bytes
        assertEquals("Ġ", model.vocab().get(3 + 188 + 32)); // space (byte 0x20) is U+0120
        assertEquals("Ń", model.vocab().get(258));
        assertTrue(model.merges().isEmpty());
    }

    /*
     * "aaab aaab" pre-tokenizes to the words "aaab" and " aaab" = "Ġaaab" (count 1 each).
     * Ids: a=67, b=68, Ġ=223; new tokens get 259, 260, ...
     *   pairs: (a,a)=2+2=4, (a,b)=1+1=2, (Ġ,a)=1
     *   1. (a,a)=4          -> "aa"=259. words: [aa a b], [Ġ aa a b]; pairs (aa,a)=2, (a,b)=2, (Ġ,aa)=1
     *   2. tie at 2: (a,b)=(67,68) beats (aa,a)=(259,67) because its left id is smaller
     *                       -> "ab"=260. words: [aa ab], [Ġ aa ab]; pairs (aa,ab)=2, (Ġ,aa)=1
     *   3. (aa,ab)=2        -> "aaab"=261. words: [aaab], [Ġ aaab]; pairs (Ġ,aaab)=1
     *   4. (Ġ,aaab)=1       -> "Ġaaab"=262. No pair is left.
     */
    @Test
    void handComputedMerges() {
        BpeModel model = train(263, List.of("aaab aaab"));
        assertEquals(List.of(new BpeModel.Merge("a", "a"), new BpeModel.Merge("a", "b"),
                new BpeModel.Merge("aa", "ab"), new BpeModel.Merge("Ġ", "aaab")), model.merges());
        assertEquals(List.of("aa", "ab", "aaab", "Ġaaab"), model.vocab().subList(259, 263));
        assertEquals(263, model.vocabSize());
    }

    /* "aaaa": (a,a) occurs 3 times, merging left to right gives [aa aa], then (aa,aa)=1 gives "aaaa". */
    @Test
    void overlappingPairsMergeLeftToRight() {
        BpeModel model = train(300, List.of("aaaa"));
        assertEquals(List.of(new BpeModel.Merge("a", "a"), new BpeModel.Merge("aa", "aa")), model.merges());
        assertEquals(261, model.vocabSize(), "stops when no pair is left");
    }

    /* Frequency beats id order: "xy" occurs 3 times, "ab" twice. */
    @Test
    void higherCountWins() {
        BpeModel model = train(260, List.of("ab ab xy xy xy"));
        // words: "ab", "Ġab", "xy", "Ġxy" x2 ... (x,y)=3, (a,b)=2, (Ġ,x)=2, (Ġ,a)=1
        assertEquals(new BpeModel.Merge("x", "y"), model.merges().get(0));
    }

    @Test
    void exactVocabSizeOnRealisticText() {
        BpeModel model = train(500, corpus(400, 1)); // this corpus allows about 540
        assertEquals(500, model.vocabSize());
        assertTrue(model.merges().size() >= 500 - 259);
        assertEquals(model.vocab().size(), new java.util.HashSet<>(model.vocab()).size(), "tokens are distinct");
    }

    @Test
    void deterministicAndIndependentOfTextOrder() {
        List<String> texts = corpus(300, 2);
        String first = TokenizerFiles.tokenizerJson(train(600, texts));
        String again = TokenizerFiles.tokenizerJson(train(600, texts));
        List<String> shuffled = new ArrayList<>(texts);
        Collections.shuffle(shuffled, new Random(7));
        String reordered = TokenizerFiles.tokenizerJson(train(600, shuffled));
        assertEquals(first, again);
        assertEquals(first, reordered);
    }

    @Test
    void specialTokensInTextAreNotLearned() {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 50; i++) texts.add("<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>");
        BpeModel model = train(320, texts);
        for (String token : model.vocab().subList(3, model.vocabSize())) {
            assertFalse(token.contains("im_"), "learned a piece of a special token: " + token);
        }
    }

    @Test
    void rejectsVocabTooSmallForBytesAndSpecials() {
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer(258, SPECIALS));
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer(400, List.of("<a>", "<a>")));
    }

    /** Varied text: English, Chinese, digits, punctuation, emoji, odd white space. */
    static List<String> corpus(int lines, long seed) {
        String[] words = {"the", "river", "town", "blue", "pottery", "known", "for", "its", "market", "Monday",
                "honey", "bread", "fox", "eats", "berries", "don't", "it's", "we'll", "I'm", "they've", "you'd",
                "河流", "小镇", "蓝色", "陶器", "以", "闻名", "市场", "星期一", "蜂蜜", "面包", "狐狸", "吃", "浆果",
                "12", "345", "7", "2024", "3.14", "😀", "🦊", "café", "naïve", "Ελλάδα", "Москва", "..."};
        String[] glue = {" ", " ", " ", ", ", ". ", "，", "。", "  ", "\t", "\n", " - ", "! ", "? ", "\u00a0", "\u3000"};
        Random r = new Random(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines; i++) {
            StringBuilder sb = new StringBuilder();
            int n = 5 + r.nextInt(25);
            for (int j = 0; j < n; j++) {
                sb.append(words[r.nextInt(words.length)]).append(glue[r.nextInt(glue.length)]);
            }
            out.add(sb.toString());
        }
        return out;
    }
}
