package minimind4j.bench;

/** Where a measurement prints its lines (stdout, or stderr when the command prints JSON). */
@FunctionalInterface
public interface Say {
    void say(String fmt, Object... args);
}
