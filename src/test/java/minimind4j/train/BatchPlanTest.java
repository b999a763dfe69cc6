package minimind4j.train;

import minimind4j.TestPaths;
import minimind4j.TestPython;
import minimind4j.data.Batch;
import minimind4j.data.SftDataset;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer's batches (BatchPlan through BatchLoader, as Trainer reads them): every sample exactly once per epoch,
 * with and without length grouping, also when the sample count is not a multiple of the batch size; grouping makes
 * batches of similar length; a resumed epoch (skipped batches) continues with the same batches; the order is
 * torch.randperm's under manual_seed(42 + epoch), checked against real PyTorch.
 */
class BatchPlanTest {
    @TempDir
    Path dir;

    static final int N = 203, BATCH = 4;

    SftDataset dataset(MiniMindTokenizer tok) throws Exception {
        Random r = new Random(5);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            String reply = "word ".repeat(1 + r.nextInt(40));
            lines.add("{\"conversations\":[{\"role\":\"user\",\"content\":\"q" + i + "\"},{\"role\":\"assistant\",\"content\":\"" + reply.strip() + "\"}]}");
        }
        return new SftDataset(SftDataset.index(Files.write(dir.resolve("d.jsonl"), lines), true), tok, 340, 0.0, 1.0, 42);
    }

    static List<Batch> batches(BatchPlan plan, int skip) {
        List<Batch> out = new ArrayList<>();
        try (BatchLoader loader = new BatchLoader(plan, skip, 0, 0)) {
            for (Batch b; (b = loader.next()) != null; ) out.add(b);
        }
        return out;
    }

    @Test
    void everySampleOncePerEpochGroupedOrNot() throws Exception {
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(TestPaths.minimind2()); SftDataset ds = dataset(tok)) {
            double spreadGrouped = 0, spreadPlain = 0;
            List<int[]> firstBatches = new ArrayList<>();
            for (boolean group : new boolean[]{true, false}) {
                for (int epoch = 0; epoch < 3; epoch++) {
                    BatchPlan plan = new BatchPlan(ds, BATCH, epoch, group, 32, 0, 1);
                    assertEquals((N + BATCH - 1) / BATCH, plan.iters());
                    List<Batch> all = batches(plan, 0);
                    assertEquals(plan.iters(), all.size(), "one batch per step");
                    int[] seen = new int[N];
                    for (Batch b : all) {
                        assertTrue(b.rows() <= BATCH);
                        int longest = 0, shortest = Integer.MAX_VALUE;
                        for (int i : b.sampleIndices()) {
                            seen[i]++;
                            int len = ds.get(i, epoch).ids().length;
                            longest = Math.max(longest, len);
                            shortest = Math.min(shortest, len);
                        }
                        assertEquals(longest, b.cols(), "padded to the batch's longest sample");
                        if (group) spreadGrouped += longest - shortest; else spreadPlain += longest - shortest;
                    }
                    for (int i = 0; i < N; i++) assertEquals(1, seen[i], (group ? "grouped" : "plain") + " epoch " + epoch + ": sample " + i);
                    firstBatches.add(all.get(0).sampleIndices());
                    // a resume after 7 steps gets exactly the remaining batches
                    List<Batch> rest = batches(new BatchPlan(ds, BATCH, epoch, group, 32, 0, 1), 7);
                    assertEquals(all.size() - 7, rest.size());
                    for (int k = 0; k < rest.size(); k++) assertArrayEquals(all.get(7 + k).sampleIndices(), rest.get(k).sampleIndices());
                }
            }
            assertTrue(spreadGrouped < spreadPlain / 3, "grouping by length: spread " + spreadGrouped + " vs " + spreadPlain);
            assertNotEquals(Arrays.toString(firstBatches.get(0)), Arrays.toString(firstBatches.get(1)), "another epoch, another order");
        }
    }

    @Test
    void theOrderIsTorchRandpermSeeded42PlusEpoch() {
        String py = TestPython.run(new String[]{"torch"}, "", "-c",
                "import torch\nfor e in range(3):\n    torch.manual_seed(42 + e); print(torch.randperm(" + N + ").tolist())");
        String[] lines = py.strip().split("\n");
        for (int e = 0; e < 3; e++) assertEquals(lines[e], Arrays.toString(BatchPlan.permutation(N, 42 + e)), "epoch " + e);
    }
}
