package minimind4j.generate;

import minimind4j.engine.Torch;
import minimind4j.model.KvCache;
import minimind4j.model.MiniMindLM;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;

/**
 * Autoregressive decoding with a KV cache: the prompt is run once (prefill), then one token per step, each step
 * attending to the cached keys and values. Not thread-safe: one generation at a time per model (the server queues).
 */
public final class Generator {
    private final MiniMindLM model;

    public Generator(MiniMindLM model) {
        this.model = model;
        model.train(false);
    }

    /** The generated ids and why generation stopped. */
    public record Result(int[] tokens, int promptTokens, FinishReason reason, double seconds) {
        /** The reason's wire name: "stop", "length", "cancelled", ... */
        public String finishReason() { return reason.wireName(); }
    }

    /**
     * Generates up to {@code maxNewTokens} after {@code prompt}, stopping after {@code eosId}. {@code onToken} sees each
     * new token as it is produced and may return false to stop early (a client went away).
     */
    public Result generate(int[] prompt, int maxNewTokens, Sampling sampling, int eosId, long seed, IntPredicate onToken) {
        long start = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        int[] seen = Arrays.copyOf(prompt, prompt.length + Math.max(0, maxNewTokens));
        int count = prompt.length;
        int[] out = new int[Math.max(0, maxNewTokens)];
        int n = 0;
        FinishReason reason = FinishReason.LENGTH;
        int maxPos = model.config().maxPositionEmbeddings();
        // one autocast region for the whole reply: its cache casts each weight to bf16/fp16 once, not once per token
        try (NoGradGuard g = new NoGradGuard(); KvCache cache = new KvCache(model.config().numHiddenLayers());
             minimind4j.engine.Precision.Region autocast = model.precision().autocastRegion()) {
            int[] feed = prompt;
            while (n < maxNewTokens) {
                if (cache.length() + feed.length > maxPos) break;
                float[] logits;
                try (PointerScope scope = Torch.scope()) {
                    long[] ids = new long[feed.length];
                    for (int i = 0; i < feed.length; i++) ids[i] = feed[i];
                    MiniMindLM.Hidden h = model.forward(Torch.longsLike(model.anyParameter(), ids, 1, ids.length), null, null, cache);
                    Tensor last = h.states().narrow(1, feed.length - 1, 1);
                    logits = Torch.toFloats(model.logits(last));
                }
                int next = sampling.next(logits, seen, count, random);
                seen[count++] = next;
                out[n++] = next;
                if (next == eosId) {
                    reason = FinishReason.STOP;
                    break;
                }
                if (onToken != null && !onToken.test(next)) {
                    reason = FinishReason.CANCELLED;
                    break;
                }
                feed = new int[]{next};
            }
        }
        return new Result(Arrays.copyOf(out, n), prompt.length, reason, (System.nanoTime() - start) / 1e9);
    }
}
