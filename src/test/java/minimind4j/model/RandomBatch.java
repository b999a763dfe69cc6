package minimind4j.model;

import java.util.Random;

/**
 * A batch of random token ids [rows, cols] whose labels copy the ids from column {@code promptColumns} on and are
 * -100 before it: a prompt followed by a supervised reply, as the loss mask lays out SFT samples.
 */
public record RandomBatch(long[] ids, long[] labels) {
    public static RandomBatch of(int vocab, int rows, int cols, int promptColumns, long seed) {
        Random r = new Random(seed);
        long[] ids = new long[rows * cols], labels = new long[rows * cols];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(vocab);
            labels[i] = i % cols >= promptColumns ? ids[i] : -100;
        }
        return new RandomBatch(ids, labels);
    }
}
