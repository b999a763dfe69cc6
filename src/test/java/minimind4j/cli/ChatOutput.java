package minimind4j.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What {@code minimind chat ARGS} prints. chat writes UTF-8 to the process's standard output itself (whatever the
 * locale), so {@link CliRun}'s captured System.out never sees its replies; this hands the command a stream instead.
 */
final class ChatOutput {
    private ChatOutput() {}

    /**
     * Runs chat; the replies are compared with exact references, so it computes in float32, said explicitly wherever
     * chat has a --dtype (whatever its default becomes).
     */
    static String of(String... args) {
        ChatCommand command = new ChatCommand();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        command.out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        picocli.CommandLine cli = new picocli.CommandLine(command);
        if (cli.getCommandSpec().findOption("--dtype") != null && !java.util.Arrays.asList(args).contains("--dtype")) {
            String[] withDtype = java.util.Arrays.copyOf(args, args.length + 2);
            withDtype[args.length] = "--dtype";
            withDtype[args.length + 1] = "float32";
            args = withDtype;
        }
        int code = cli.execute(args);
        assertEquals(0, code, "chat exit code");
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The reply to {@code --prompt p} ({@code 💬: p\n🧠: REPLY\n\n} with --show_speed 0). */
    static String reply(String... args) {
        String out = of(args);
        int at = out.indexOf("🧠: ");
        if (at < 0 || !out.endsWith("\n\n")) throw new AssertionError("not one chat reply: " + out);
        return out.substring(at + "🧠: ".length(), out.length() - 2);
    }
}
