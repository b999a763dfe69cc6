package minimind4j;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the real MiniMind reference files live: {@code ../shared/minimind} beside the checkout (CI lays it there). */
public final class TestPaths {
    private TestPaths() {}

    public static Path sharedMinimind() {
        Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent().resolve("shared/minimind");
        if (!Files.isRegularFile(p.resolve("tokenizer.json"))) {
            throw new IllegalStateException("MiniMind reference files not found at " + p
                    + ": the tests expect ../shared/minimind beside the checkout");
        }
        return p;
    }

    /** minimind-3 tokenizer directory (tokenizer.json + tokenizer_config.json). */
    public static Path minimind3() { return sharedMinimind(); }

    /** MiniMind2 tokenizer directory. */
    public static Path minimind2() { return sharedMinimind().resolve("minimind2"); }
}
