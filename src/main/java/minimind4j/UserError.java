package minimind4j;

/**
 * A problem the user can fix (bad flag, missing file, malformed line). The launcher prints its message as one
 * line, without a stack trace, and exits with status 2. Messages say where (file:line), what is wrong and what to do.
 */
public final class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
    }
}
