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

    static String of(String... args) {
        ChatCommand command = new ChatCommand();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        command.out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        int code = new picocli.CommandLine(command).execute(args);
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
