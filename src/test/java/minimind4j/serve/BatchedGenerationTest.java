package minimind4j.serve;

import minimind4j.engine.Torch;
import minimind4j.generate.Generator;
import minimind4j.generate.Sampling;
import minimind4j.model.KvCache;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Continuous batching: sequences of different lengths decoded in one forward per step, joining and leaving between
 * steps, each get exactly the tokens they get alone ({@link Generator}, one sequence, one cache).
 */
class BatchedGenerationTest {
    private static final int NO_EOS = -1;
    private static MiniMindLM model;

    @BeforeAll
    static void tinyModel() {
        model = MiniMindLM.init(ModelConfig.minimind2(32, 2, false).withHeads(4, 2), 11);
    }

    @AfterAll
    static void free() {
        model.close();
    }

    private static int[] prompt(int length, int salt) {
        int[] p = new int[length];
        for (int i = 0; i < length; i++) p[i] = 3 + (i * 37 + salt * 101) % 6000;
        return p;
    }

    @Test
    void decodeOfSeveralCachesMatchesEachSequenceAlone() {
        int[][] prompts = {prompt(5, 1), prompt(17, 2), prompt(9, 3)};
        int[] next = {40, 41, 42};
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = Torch.scope()) {
            int layers = model.config().numHiddenLayers();
            KvCache[] batch = new KvCache[prompts.length];
            float[][] alone = new float[prompts.length][];
            for (int r = 0; r < prompts.length; r++) {
                batch[r] = new KvCache(layers);
                model.forward(ids(prompts[r]), null, null, batch[r]);
                try (KvCache own = new KvCache(layers)) {
                    model.forward(ids(prompts[r]), null, null, own);
                    alone[r] = Torch.toFloats(model.logits(model.forward(ids(new int[]{next[r]}), null, null, own).states()));
                }
            }
            long[] step = {next[0], next[1], next[2]};
            float[] together = Torch.toFloats(model.logits(model.decode(Torch.longs(step, 3, 1), batch).states()));
            int v = model.config().vocabSize();
            for (int r = 0; r < prompts.length; r++) {
                assertEquals(prompts[r].length + 1, batch[r].length(), "each cache grew by one");
                double worst = 0;
                for (int i = 0; i < v; i++) worst = Math.max(worst, Math.abs(together[r * v + i] - alone[r][i]));
                assertTrue(worst < 1e-4, "row " + r + " differs from its sequence alone by " + worst);
                batch[r].close();
            }
        }
    }

    private static org.bytedeco.pytorch.Tensor ids(int[] tokens) {
        long[] l = new long[tokens.length];
        for (int i = 0; i < tokens.length; i++) l[i] = tokens[i];
        return Torch.longs(l, 1, l.length);
    }

    @Test
    void requestsDecodedTogetherGetWhatTheyGetAlone() throws Exception {
        requestsTogetherAsAlone(model);
    }

    /**
     * Serving in bf16 (chat/serve --dtype bfloat16): the same guarantee. Batched rows run the same bf16 GEMM rows as a
     * sequence alone (attention on a CPU in bf16 is two GEMMs per row block), so the replies are the same tokens.
     */
    @Test
    void inBf16RequestsDecodedTogetherGetWhatTheyGetAlone() throws Exception {
        try (MiniMindLM bf16 = MiniMindLM.init(ModelConfig.minimind2(32, 2, false).withHeads(4, 2), 11)) {
            bf16.to(minimind4j.engine.Precision.resolve("cpu", "bfloat16", -1));
            requestsTogetherAsAlone(bf16);
        }
    }

    private static void requestsTogetherAsAlone(MiniMindLM model) throws Exception {
        Generator generator = new Generator(model);
        int n = 6;
        int[][] prompts = new int[n][];
        int[] maxNew = new int[n];
        Sampling[] sampling = new Sampling[n];
        Generator.Result[] alone = new Generator.Result[n];
        for (int i = 0; i < n; i++) {
            prompts[i] = prompt(4 + 7 * i, i);
            maxNew[i] = 12 + 5 * i; // they leave the batch at different steps
            // greedy, and seeded sampling: each sequence draws from its own random stream
            sampling[i] = i % 2 == 0 ? Sampling.GREEDY : new Sampling(0.9, 0.9, 20, 1.1);
            alone[i] = generator.generate(prompts[i], maxNew[i], sampling[i], NO_EOS, 1000 + i, null);
        }
        try (GenerationQueue queue = new GenerationQueue(model, 4, 16)) {
            List<GenerationQueue.Ticket> tickets = new ArrayList<>();
            AtomicInteger late = new AtomicInteger();
            // the first two start together; the rest join while those are mid-reply (and wait for a free slot)
            List<GenerationQueue.Job> jobs = new ArrayList<>();
            for (int i = 0; i < n; i++) jobs.add(new GenerationQueue.Job(prompts[i], maxNew[i], sampling[i], NO_EOS, 1000 + i, Long.MAX_VALUE));
            List<GenerationQueue.Ticket> joined = java.util.Collections.synchronizedList(new ArrayList<>());
            tickets.add(queue.submit(jobs.get(0), id -> {
                if (late.incrementAndGet() == 3) {
                    try {
                        for (int i = 2; i < n; i++) joined.add(queue.submit(jobs.get(i), null));
                    } catch (GenerationQueue.Full e) {
                        throw new AssertionError(e);
                    }
                }
                return true;
            }));
            tickets.add(queue.submit(jobs.get(1), null));
            tickets.get(0).result().get(60, TimeUnit.SECONDS);
            tickets.addAll(joined);
            assertEquals(n, tickets.size());
            for (int i = 0; i < n; i++) {
                Generator.Result r = tickets.get(i).result().get(60, TimeUnit.SECONDS);
                assertArrayEquals(alone[i].tokens(), r.tokens(), "request " + i + " batched vs alone");
                assertEquals(alone[i].finishReason(), r.finishReason());
                assertEquals(prompts[i].length, r.promptTokens());
            }
            assertTrue(queue.largestBatch() >= 3, "sequences were decoded together: largest batch " + queue.largestBatch());
            int tokens = 0;
            for (int m : maxNew) tokens += m;
            assertTrue(queue.decodeSteps() < tokens - n, queue.decodeSteps() + " forward steps for " + tokens + " tokens");
        }
    }
}
