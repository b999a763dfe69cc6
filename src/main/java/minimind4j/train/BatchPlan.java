package minimind4j.train;

import minimind4j.data.Sample;
import minimind4j.data.TokenDataset;
import minimind4j.engine.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Which samples make up each step of an epoch. The order is MiniMind's: {@code torch.randperm(n)} after seeding
 * with 42 + epoch (libtorch's own generator, so the same permutation as the Python script), cut into consecutive
 * batches. With {@code groupByLength}, each window of {@code window} batches is sorted by length before cutting, and
 * the window's batches are then shuffled: a batch then holds samples of similar length, so padding to the batch's
 * longest sample wastes little. A rank of a distributed run takes its shard of the permutation first.
 */
public final class BatchPlan {
    /** Batches per length-grouping window in training (and in bench, which times training's first batches). */
    public static final int GROUP_WINDOW = 32;

    private final TokenDataset dataset;
    private final int batchSize;
    private final int epoch;
    private final boolean groupByLength;
    private final int window;
    private final int[] order;

    public BatchPlan(TokenDataset dataset, int batchSize, int epoch, boolean groupByLength, int window, int rank, int worldSize) {
        this.dataset = dataset;
        this.batchSize = batchSize;
        this.epoch = epoch;
        this.groupByLength = groupByLength;
        this.window = Math.max(1, window);
        this.order = shard(permutation(dataset.size(), 42L + epoch), rank, worldSize);
    }

    /** torch.manual_seed(seed); torch.randperm(n). */
    public static int[] permutation(int n, long seed) {
        try (PointerScope s = Torch.scope()) {
            Torch.seed(seed);
            long[] p = Torch.toLongs(torch.randperm(n));
            int[] out = new int[n];
            for (int i = 0; i < n; i++) out[i] = (int) p[i];
            return out;
        }
    }

    /**
     * DistributedSampler without shuffling of its own (the order is already shuffled): pad to a multiple of
     * worldSize by repeating from the start, then take every worldSize-th index from rank.
     */
    static int[] shard(int[] order, int rank, int worldSize) {
        if (worldSize == 1) return order;
        int per = (order.length + worldSize - 1) / worldSize;
        int[] out = new int[per];
        for (int i = 0; i < per; i++) out[i] = order[(rank + i * worldSize) % order.length];
        return out;
    }

    /** Steps in the epoch: ceil(samples / batch_size), as len(DataLoader) with drop_last=False. */
    public int iters() {
        return (order.length + batchSize - 1) / batchSize;
    }

    public int epoch() { return epoch; }

    /** The batches of one window; {@code w} is a window index. Without grouping a window is one batch. */
    public List<List<Sample>> window(int w) {
        int per = groupByLength ? window : 1;
        int from = w * per * batchSize, to = Math.min(order.length, (w + 1) * per * batchSize);
        List<Sample> samples = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) samples.add(dataset.get(order[i], epoch));
        if (!groupByLength) return List.of(samples);
        return grouped(samples, batchSize, epoch, w);
    }

    /**
     * One window's batches under length grouping: the samples sorted longest first, cut into batches, and the
     * batches shuffled (seeded by epoch and window). {@code bench} builds its batches the same way, so what it times
     * is what training's first steps compute.
     */
    public static List<List<Sample>> grouped(List<Sample> window, int batchSize, int epoch, int w) {
        List<Sample> samples = new ArrayList<>(window);
        samples.sort(Comparator.comparingInt((Sample s) -> s.ids().length).reversed());
        List<List<Sample>> batches = new ArrayList<>();
        for (int i = 0; i < samples.size(); i += batchSize)
            batches.add(samples.subList(i, Math.min(samples.size(), i + batchSize)));
        SplittableRandom r = new SplittableRandom(0x5DEECE66DL * (epoch + 1) + w);
        for (int i = batches.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            var t = batches.get(i);
            batches.set(i, batches.get(j));
            batches.set(j, t);
        }
        return batches;
    }

    /** Window index of 0-based batch {@code b} and its position inside the window. */
    public int windowOf(int b) { return b / (groupByLength ? window : 1); }

    public int positionInWindow(int b) { return b % (groupByLength ? window : 1); }
}
