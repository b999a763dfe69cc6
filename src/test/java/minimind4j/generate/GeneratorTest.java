package minimind4j.generate;

import minimind4j.TestPaths;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generator's KV-cache decoding and MiniMind's sampling rules, on a tiny random model. */
class GeneratorTest {
    private static final int[] PROMPT = {1, 262, 1536, 88, 4070, 17, 2};
    private static final int NO_EOS = -1;

    private static MiniMindLM model;
    private static Generator generator;

    @BeforeAll
    static void tinyModel() {
        model = MiniMindLM.init(ModelConfig.minimind2(32, 2, false).withHeads(4, 2), 3);
        generator = new Generator(model);
    }

    @AfterAll
    static void free() {
        model.close();
    }

    /** Logits of the next token after {@code ids}, by a full forward without a cache. */
    private static float[] nextLogits(int[] ids) {
        try (NoGradGuard g = new NoGradGuard(); PointerScope s = Torch.scope()) {
            long[] longs = Arrays.stream(ids).asLongStream().toArray();
            Tensor states = model.forward(Torch.longs(longs, 1, longs.length), null, null, null).states();
            return Torch.toFloats(model.logits(states.narrow(1, ids.length - 1, 1)));
        }
    }

    @Test
    void greedyTokenIsTheFullForwardArgmaxAtEveryStep() {
        Generator.Result r = generator.generate(PROMPT, 24, Sampling.GREEDY, NO_EOS, 0, null);
        assertEquals(24, r.tokens().length);
        int[] seq = Arrays.copyOf(PROMPT, PROMPT.length + r.tokens().length);
        int exact = 0;
        for (int i = 0; i < r.tokens().length; i++) {
            float[] logits = nextLogits(Arrays.copyOf(seq, PROMPT.length + i));
            int best = Sampling.argmax(logits);
            int got = r.tokens()[i];
            if (got == best) exact++;
            // the cached and uncached paths sum in different orders: only a near-tie may pick another token
            else assertEquals(logits[best], logits[got], 1e-4, "step " + i + ": cache chose " + got + ", full forward " + best);
            seq[PROMPT.length + i] = got;
        }
        assertTrue(exact >= r.tokens().length - 1, "near-ties should be rare, got " + exact + " exact of " + r.tokens().length);
    }

    @Test
    void sameSeedSamplesTheSameTokensAnotherSeedOthers() {
        Sampling hot = new Sampling(1.2, 0.98, 0, 1.0);
        int[] a = generator.generate(PROMPT, 16, hot, NO_EOS, 7, null).tokens();
        int[] b = generator.generate(PROMPT, 16, hot, NO_EOS, 7, null).tokens();
        int[] c = generator.generate(PROMPT, 16, hot, NO_EOS, 8, null).tokens();
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c), "seeds 7 and 8 drew the same 16 tokens");
    }

    @Test
    void topKOneIsGreedy() {
        int[] greedy = generator.generate(PROMPT, 16, Sampling.GREEDY, NO_EOS, 0, null).tokens();
        int[] topOne = generator.generate(PROMPT, 16, new Sampling(0.9, 0.9, 1, 1.0), NO_EOS, 12345, null).tokens();
        assertArrayEquals(greedy, topOne);
    }

    @Test
    void eosEndsTheReplyWithFinishReasonStop() {
        int[] free = generator.generate(PROMPT, 12, Sampling.GREEDY, NO_EOS, 0, null).tokens();
        int eos = free[3];
        int first = 0;
        while (free[first] != eos) first++;
        List<Integer> seen = new ArrayList<>();
        Generator.Result r = generator.generate(PROMPT, 12, Sampling.GREEDY, eos, 0, t -> seen.add(t));
        assertEquals("stop", r.finishReason());
        assertArrayEquals(Arrays.copyOf(free, first + 1), r.tokens());
        assertEquals(first, seen.size(), "the eos token is not handed to the listener");
        assertEquals(PROMPT.length, r.promptTokens());
    }

    @Test
    void maxTokensEndsTheReplyWithFinishReasonLength() {
        Generator.Result r = generator.generate(PROMPT, 5, Sampling.GREEDY, NO_EOS, 0, null);
        assertEquals("length", r.finishReason());
        assertEquals(5, r.tokens().length);
    }

    @Test
    void aListenerThatSaysNoStopsGeneration() {
        int[] count = {0};
        Generator.Result r = generator.generate(PROMPT, 50, Sampling.GREEDY, NO_EOS, 0, t -> ++count[0] < 3);
        assertEquals("cancelled", r.finishReason());
        assertEquals(3, r.tokens().length);
    }

    @Test
    void streamingDecoderNeverSplitsACharacterAndAddsUpToTheFullDecode() {
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(TestPaths.minimind2())) {
            String text = "你好🎉，世界 hello 🦄 ok";
            int[] ids = tok.encode(text);
            StreamingDecoder decoder = new StreamingDecoder(tok, null);
            StringBuilder out = new StringBuilder();
            int heldBack = 0;
            for (int id : ids) {
                String piece = decoder.accept(id);
                assertFalse(piece.contains("\uFFFD"), "a piece ended inside a character: " + piece);
                if (piece.isEmpty()) heldBack++;
                out.append(piece);
            }
            out.append(decoder.finish());
            assertEquals(text, out.toString());
            assertTrue(heldBack > 0, "the emoji should span several byte tokens, so some tokens release nothing");
        }
    }
}
