package minimind4j;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the real MiniMind reference files live: {@code src/test/resources/minimind} inside the checkout (see its SOURCE.md). */
public final class TestPaths {
    private TestPaths() {}

    /** The test resources folder, resolved from the module's base directory (Maven runs tests there). */
    public static Path resources() {
        Path p = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath().resolve("src/test/resources");
        if (!Files.isDirectory(p)) throw new IllegalStateException("test resources not found at " + p + ": run the tests from the checkout's root");
        return p;
    }

    public static Path minimindReference() {
        Path p = resources().resolve("minimind");
        if (!Files.isRegularFile(p.resolve("minimind3/tokenizer.json"))) {
            throw new IllegalStateException("MiniMind reference files not found at " + p + " (they are part of the checkout)");
        }
        return p;
    }

    /** minimind-3 tokenizer directory (tokenizer.json + tokenizer_config.json). */
    public static Path minimind3() { return minimindReference().resolve("minimind3"); }

    /** MiniMind2 tokenizer directory. */
    public static Path minimind2() { return minimindReference().resolve("minimind2"); }

    /** The conversation content that makes {@link #tokenizerThatRejects} raise. */
    public static final String REJECTED = "BOOM";

    /**
     * A tokenizer directory in {@code dir}: MiniMind2's tokenizer with a plain ChatML template that calls
     * raise_exception('no booms here') on a message whose content is {@link #REJECTED} — a line only rendering finds.
     */
    public static Path tokenizerThatRejects(Path dir) throws java.io.IOException {
        Files.createDirectories(dir);
        Files.copy(minimind2().resolve("tokenizer.json"), dir.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var cfg = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(minimind2().resolve("tokenizer_config.json").toFile());
        cfg.put("chat_template", "{% for m in messages %}{% if m.content == '" + REJECTED + "' %}{{ raise_exception('no booms here') }}{% endif %}"
                + "<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}");
        json.writeValue(dir.resolve("tokenizer_config.json").toFile(), cfg);
        return dir;
    }
}
