package minimind4j.train;

/**
 * Fault injection for tests: the global steps whose loss is made NaN, so the skip path can be exercised without
 * breaking a model for real. Passed when the {@link Trainer} is built; {@link #NONE} in every real run.
 */
@FunctionalInterface
public interface LossFault {
    LossFault NONE = step -> false;

    /** Whether the loss of global step {@code step} (1-based over the whole run) is to be NaN. */
    boolean poisons(long step);
}
