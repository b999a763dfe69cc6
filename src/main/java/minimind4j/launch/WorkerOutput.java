package minimind4j.launch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Copies a worker's stdout to the launcher's, dropping Gloo's connection report ("[Gloo] Rank 0 is connected to 1
 * peer ranks. ..."), which libtorch writes straight to the process's stdout on every group creation and no log level
 * silences. Output passes on at each '\n' or '\r', so a live progress bar still redraws.
 */
public final class WorkerOutput {
    private static final Pattern GLOO_CONNECTED = Pattern.compile("\\[Gloo] Rank \\d+ is connected to \\d+ peer ranks\\. Expected number of connected peer ranks is : \\d+\\s*");

    private WorkerOutput() {}

    public static boolean isChatter(String line) {
        return GLOO_CONNECTED.matcher(line).matches();
    }

    public static Thread pump(InputStream in, OutputStream out) {
        Thread t = new Thread(() -> {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            try (in) {
                int b;
                while ((b = in.read()) >= 0) {
                    line.write(b);
                    if (b == '\n' || b == '\r') flush(line, out);
                }
                flush(line, out);
            } catch (IOException ignored) {
                // the worker is gone: nothing more to copy
            }
        }, "worker-output");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void flush(ByteArrayOutputStream line, OutputStream out) throws IOException {
        if (line.size() == 0) return;
        if (!isChatter(line.toString(StandardCharsets.UTF_8))) {
            synchronized (out) {
                line.writeTo(out);
                out.flush();
            }
        }
        line.reset();
    }
}
