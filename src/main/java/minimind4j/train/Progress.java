package minimind4j.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Training progress for people: on a terminal a live bar redrawn in place, elsewhere (logs, CI) plain lines at each
 * log interval. Both carry loss, lr, throughput, elapsed time and ETA.
 */
public final class Progress {
    private final PrintStream out;
    private final boolean tty;
    private final long startNanos = System.nanoTime();
    private long lastDraw;

    public Progress(PrintStream out) {
        this(out, onTerminal());
    }

    /** A terminal and not CI; a worker whose launcher is on a terminal is told so (its own stdout is a pipe). */
    public static boolean onTerminal() {
        return (System.console() != null || "1".equals(System.getenv("MINIMIND_TTY"))) && System.getenv("CI") == null;
    }

    public Progress(PrintStream out, boolean tty) {
        this.out = out;
        this.tty = tty;
    }

    public double elapsedSeconds() { return (System.nanoTime() - startNanos) / 1e9; }

    public static String duration(double s) {
        if (Double.isNaN(s) || Double.isInfinite(s)) return "?";
        long t = Math.round(s);
        return t >= 3600 ? String.format(Locale.ROOT, "%dh%02dm%02ds", t / 3600, t % 3600 / 60, t % 60)
                : t >= 60 ? String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60) : t + "s";
    }

    /** Redraws the live bar (terminal only, at most ~4 times a second). */
    public void tick(int epoch, int epochs, int step, int iters, double loss, double lr, double tokPerS, double eta) {
        if (!tty) return;
        long now = System.nanoTime();
        if (now - lastDraw < 250_000_000L && step != iters) return;
        lastDraw = now;
        int width = 24, filled = (int) Math.round(width * (double) step / iters);
        String bar = "#".repeat(filled) + "-".repeat(width - filled);
        out.printf(Locale.ROOT, "\rEpoch %d/%d [%s] %d/%d loss %.4f lr %.2e %.0f tok/s elapsed %s ETA %s   ",
                epoch, epochs, bar, step, iters, loss, lr, tokPerS, duration(elapsedSeconds()), duration(eta));
        out.flush();
    }

    /** A permanent line (log interval, eval, saves, warnings). */
    public void line(String s) {
        if (tty) out.print("\r\033[K");
        out.println(s);
        out.flush();
    }
}
