package minimind4j.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * What a run reports while it trains: the live progress bar, the log line every --log_interval steps (loss, lr,
 * throughput of the window since the last line, elapsed time, ETA) and its row in the metrics CSV, then the loss plot.
 * Log lines are the main rank's; the throughput sums every rank's tokens.
 */
final class StepLog {
    private final TrainConfig o;
    private final Distributed dist;
    private final Progress progress;
    private Metrics metrics;  // null on the non-main ranks and before openMetrics
    private final StepLoss stepLoss;
    private long runStart = System.nanoTime();
    private long windowTokens, windowSupervised, windowStart = System.nanoTime();

    StepLog(TrainConfig o, PrintStream out, Distributed dist, StepLoss stepLoss) {
        this.o = o;
        this.dist = dist;
        this.stepLoss = stepLoss;
        this.progress = new Progress(out, dist.isMain() && Progress.onTerminal());
    }

    /**
     * The loop starts: the run's clock starts now and rows go to {@code csv} (main rank only); a resumed run drops the rows a killed run logged
     * after its last checkpoint ({@code fromGlobalStep}), so each step appears once.
     */
    void begin(java.nio.file.Path csv, boolean resumed, long fromGlobalStep) {
        if (dist.isMain()) metrics = new Metrics(csv, resumed, fromGlobalStep, stepLoss.metricNames());
        runStart = System.nanoTime();
    }

    /** A permanent line, main rank only. */
    void line(String s) {
        if (dist.isMain()) progress.line(s);
    }

    double elapsed() { return (System.nanoTime() - runStart) / 1e9; }

    /** A new epoch: its throughput window starts now. */
    void startEpoch() {
        windowTokens = windowSupervised = 0;
        windowStart = System.nanoTime();
    }

    /** After each micro-step: counts its tokens (this rank's) and redraws the bar. */
    void stepDone(int epoch, int step, int iters, double loss, double lr, long tokens, long supervised, long stepsRun, long stepsToRun) {
        windowTokens += tokens;
        windowSupervised += supervised;
        double eta = elapsed() / stepsRun * (stepsToRun - stepsRun);
        if (dist.isMain()) progress.tick(epoch + 1, o.epochs(), step, iters, loss, lr, windowTokens * dist.worldSize() / windowSeconds(), eta);
    }

    private double windowSeconds() { return Math.max(1e-9, (System.nanoTime() - windowStart) / 1e9); }

    boolean due(int step, boolean last, Double evalLoss) {
        return step % o.logInterval() == 0 || last || evalLoss != null;
    }

    /**
     * The log line and metrics row of the window that ends at this step (every rank takes part: the values are
     * reduced across ranks); {@code losses}: this rank's loss, logits loss and aux loss. Returns the global loss.
     */
    double write(int epoch, int step, int iters, double weight, double[] losses, double lr, Double evalLoss, GradScaler scaler,
                 long overflowSkips, long stepsRun, long stepsToRun) {
        GlobalStep g = GlobalStep.of(dist, weight, losses[0], losses[1], losses[2], windowTokens, windowSupervised);
        double[] extra = stepLoss.globalMetrics(dist);
        double windowSec = windowSeconds(), elapsed = elapsed();
        double eta = elapsed / stepsRun * (stepsToRun - stepsRun);
        line(String.format(Locale.ROOT,
                "Epoch:[%d/%d](%d/%d), loss: %.4f, " + stepLoss.lossName() + ": %.4f, aux_loss: %.4f, lr: %.8f, %.0f tok/s, %.0f supervised tok/s, elapsed %s, ETA %s%s%s",
                epoch + 1, o.epochs(), step, iters, g.loss(), g.logitsLoss(), g.auxLoss(), lr, g.tokens() / windowSec,
                g.supervised() / windowSec, Progress.duration(elapsed), Progress.duration(eta),
                evalLoss == null ? "" : String.format(Locale.ROOT, ", eval_loss: %.4f", evalLoss),
                scaler.enabled() ? String.format(Locale.ROOT, ", loss_scale: %.0f, overflow_skips: %d", scaler.scale(), overflowSkips) : "")
                + stepLoss.describeMetrics(extra));
        if (metrics != null) metrics.log(epoch + 1, step, (long) epoch * iters + step, g.loss(), g.logitsLoss(), g.auxLoss(), lr,
                g.tokens() / windowSec, g.supervised() / windowSec, elapsed, evalLoss, extra);
        startEpoch();
        return g.loss();
    }

    /** Draws the loss plot and closes the metrics log (the plot and the close also write). */
    void close(java.nio.file.Path plot) {
        if (metrics == null) return;
        try {
            metrics.plot(plot, o.saveWeight() + " loss (" + o.dataPath().getFileName() + ")");
        } finally {
            metrics.close();
        }
    }
}
