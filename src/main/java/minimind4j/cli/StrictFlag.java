package minimind4j.cli;

import minimind4j.UserError;

import picocli.CommandLine.Option;

/**
 * {@code --strict 0|1} of every command that loads weights, as PyTorch's {@code load_state_dict(strict=...)}: 1 (the
 * default) refuses a file whose keys or shapes differ from the model's, listing each one; 0 loads the tensors that fit,
 * keeps a fresh initialisation for the rest, and prints the same list.
 */
public final class StrictFlag {
    @Option(names = "--strict", paramLabel = "0|1", description = "1 = the weight file must match the model exactly (default); 0 = load the tensors that fit and print what did not")
    String strict;

    /** True unless --strict 0 (or false) was given. */
    public boolean strict() {
        if (strict == null) return true;
        return switch (strict.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "1", "true" -> true;
            case "0", "false" -> false;
            default -> throw new UserError("--strict " + strict + ": expected 0 or 1");
        };
    }
}
