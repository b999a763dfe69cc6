package minimind4j.data;

import minimind4j.UserError;

import java.util.Locale;

/**
 * What SFT does with a sample longer than max_seq_len ({@code --truncation}). In every mode a sample that would lose
 * every supervised token is dropped (and counted): it would train on nothing.
 */
public enum Truncation {
    /** Cut at max_seq_len, as MiniMind does. */
    TRUNCATE,
    /** Leave out every sample that does not fit. */
    DROP,
    /** Stop before training, naming the first sample that does not fit. */
    ERROR;

    public static Truncation fromFlag(String flag) {
        if (flag == null) return TRUNCATE;
        try {
            return valueOf(flag.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserError("--truncation " + flag + ": expected truncate, drop or error");
        }
    }

    public String flag() { return name().toLowerCase(Locale.ROOT); }
}
