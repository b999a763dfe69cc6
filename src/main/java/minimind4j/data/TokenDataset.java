package minimind4j.data;

/** A dataset of token samples; {@code epoch} feeds the per-sample randomness (system-prompt augmentation). */
public interface TokenDataset extends AutoCloseable {
    int size();

    Sample get(int index, int epoch);

    /** The id right-padding uses. */
    int padId();

    /** The file's index: where each sample's line is, and which lines were skipped. */
    JsonlIndex index();

    @Override
    void close();
}
