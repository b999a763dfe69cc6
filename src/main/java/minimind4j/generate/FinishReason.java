package minimind4j.generate;

/**
 * Why a generation ended. The first three are OpenAI's {@code finish_reason} values and go on the wire (the server
 * decides TOOL_CALLS from the reply's text); the last two never do (a cancelled or timed-out request is answered
 * with an error instead) but are what the request log and {@code chat --show_speed} report.
 */
public enum FinishReason {
    /** the end-of-sequence token, or a stop string */
    STOP("stop"),
    /** max_tokens, the server's per-reply cap, or the context ran out */
    LENGTH("length"),
    /** the reply called tools (a request with tools whose reply held tool-call spans) */
    TOOL_CALLS("tool_calls"),
    /** the client left, or the server is shutting down */
    CANCELLED("cancelled"),
    /** --request_timeout ran out */
    TIMEOUT("timeout");

    private final String wireName;

    FinishReason(String wireName) { this.wireName = wireName; }

    /** The name OpenAI's API and the request log use, e.g. {@code "tool_calls"}. */
    public String wireName() { return wireName; }

    /** A reply that called tools finishes with "tool_calls", whatever ended its generation. */
    public FinishReason orToolCalls(boolean calledTools) { return calledTools ? TOOL_CALLS : this; }

    /** The wire name, so that logs formatting a reason with %s read as they did when reasons were strings. */
    @Override
    public String toString() { return wireName; }
}
