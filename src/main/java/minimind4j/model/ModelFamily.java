package minimind4j.model;

/**
 * The two MiniMind architectures: MiniMind2 (model_minimind.py before minimind-3) and minimind-3 (per-head q/k
 * RMSNorm, post_init weights, a router-first MoE with a batch-level aux loss). Files and flags spell them
 * {@code minimind2} and {@code minimind3}.
 */
public enum ModelFamily {
    MINIMIND2("minimind2"),
    MINIMIND3("minimind3");

    private final String id;

    ModelFamily(String id) { this.id = id; }

    /** The name config files and {@code --model_family} use. */
    public String id() { return id; }

    @Override
    public String toString() { return id; }

    /** The family named {@code id} ({@code minimind2} or {@code minimind3}). */
    public static ModelFamily parse(String id) {
        for (ModelFamily f : values()) if (f.id.equals(id)) return f;
        throw new IllegalArgumentException("unknown model family " + id + " (minimind2 or minimind3)");
    }
}
