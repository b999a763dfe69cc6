package minimind4j.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import minimind4j.checkpoint.format.AtomicFiles;

/**
 * The metrics log ({@code *_metrics.csv}, appended so a resumed run continues it) and the loss-curve PNG. A resumed
 * run first drops the rows logged after the step it resumes from (the killed run got further than its last
 * checkpoint), so every step appears once. Write failures (a full disk) are one line naming the file.
 */
public final class Metrics implements AutoCloseable {
    public static final String HEADER = "epoch,step,global_step,loss,logits_loss,aux_loss,lr,tokens_per_s,supervised_tokens_per_s,elapsed_s,eval_loss";

    private final Path csv;
    private final Writer out;
    private final List<double[]> points = new ArrayList<>();
    private final List<double[]> evalPoints = new ArrayList<>();
    /** Extra columns drawn on the plot too (DPO's reward accuracy and margin, on the loss's axis), and their points. */
    static final List<String> PLOTTED = List.of("rewards/accuracies", "rewards/margins");
    private final java.util.Map<String, List<double[]>> extraPoints = new java.util.LinkedHashMap<>();
    /** Columns after {@link #HEADER}'s that a stage adds (DPO's rewards); values given to {@link #log} in this order. */
    private final List<String> extraColumns;

    public Metrics(Path csv, boolean append) {
        this(csv, append, Long.MAX_VALUE);
    }

    /** {@code resumedStep}: the global step a resumed run continues after; rows beyond it are dropped. */
    public Metrics(Path csv, boolean append, long resumedStep) {
        this(csv, append, resumedStep, List.of());
    }

    public Metrics(Path csv, boolean append, long resumedStep, List<String> extraColumns) {
        this.csv = csv;
        this.extraColumns = List.copyOf(extraColumns);
        for (String c : this.extraColumns) if (PLOTTED.contains(c)) extraPoints.put(c, new ArrayList<>());
        try {
            Files.createDirectories(csv.toAbsolutePath().getParent());
            StringBuilder kept = new StringBuilder(HEADER);
            for (String c : this.extraColumns) kept.append(',').append(c);
            kept.append('\n');
            if (append && Files.exists(csv)) keepUpTo(csv, resumedStep, kept);
            // the rewrite is atomic: a kill here leaves the old log, never a truncated one
            AtomicFiles.write(csv, kept.toString().getBytes(StandardCharsets.UTF_8));
            out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw AtomicFiles.failure(csv, "the metrics log", e);
        }
    }

    private void keepUpTo(Path csv, long resumedStep, StringBuilder kept) throws IOException {
        for (String line : Files.readAllLines(csv)) {
            String[] f = line.split(",", -1);
            if (f.length < 11 || f[0].equals("epoch")) continue;
            try {
                if (Double.parseDouble(f[2]) > resumedStep) continue;
                double loss = f[3].isEmpty() ? Double.NaN : Double.parseDouble(f[3]);
                double eval = f[10].isEmpty() ? Double.NaN : Double.parseDouble(f[10]);
                if (!Double.isNaN(loss)) points.add(new double[]{Double.parseDouble(f[2]), loss});
                if (!Double.isNaN(eval)) evalPoints.add(new double[]{Double.parseDouble(f[2]), eval});
                for (int i = 0; i < extraColumns.size() && 11 + i < f.length; i++) {
                    List<double[]> pts = extraPoints.get(extraColumns.get(i));
                    if (pts != null && !f[11 + i].isEmpty()) pts.add(new double[]{Double.parseDouble(f[2]), Double.parseDouble(f[11 + i])});
                }
                kept.append(line).append('\n');
            } catch (NumberFormatException ignored) {
                // a torn last line from a killed run: dropped
            }
        }
    }

    public void log(int epoch, int step, long globalStep, double loss, double logitsLoss, double aux, double lr,
                    double tokPerS, double supPerS, double elapsed, Double evalLoss) {
        log(epoch, step, globalStep, loss, logitsLoss, aux, lr, tokPerS, supPerS, elapsed, evalLoss, new double[0]);
    }

    /** A row with the extra columns' values ({@code extra.length} = the extra columns' count; NaN = empty). */
    public void log(int epoch, int step, long globalStep, double loss, double logitsLoss, double aux, double lr,
                    double tokPerS, double supPerS, double elapsed, Double evalLoss, double[] extra) {
        StringBuilder tail = new StringBuilder();
        for (int i = 0; i < extraColumns.size(); i++) {
            double v = i < extra.length ? extra[i] : Double.NaN;
            tail.append(',').append(Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6f", v));
        }
        try {
            out.write(String.format(Locale.ROOT, "%d,%d,%d,%s,%s,%s,%.10g,%.1f,%.1f,%.1f,%s%s%n", epoch, step, globalStep,
                    Double.isNaN(loss) ? "" : String.format(Locale.ROOT, "%.6f", loss),
                    Double.isNaN(logitsLoss) ? "" : String.format(Locale.ROOT, "%.6f", logitsLoss),
                    Double.isNaN(aux) ? "" : String.format(Locale.ROOT, "%.6f", aux),
                    lr, tokPerS, supPerS, elapsed, evalLoss == null ? "" : String.format(Locale.ROOT, "%.6f", evalLoss), tail));
            out.flush();
        } catch (IOException e) {
            throw AtomicFiles.failure(csv, "the metrics log", e);
        }
        if (!Double.isNaN(loss)) points.add(new double[]{globalStep, loss});
        if (evalLoss != null) evalPoints.add(new double[]{globalStep, evalLoss});
        for (int i = 0; i < extraColumns.size() && i < extra.length; i++) {
            List<double[]> pts = extraPoints.get(extraColumns.get(i));
            if (pts != null && !Double.isNaN(extra[i])) pts.add(new double[]{globalStep, extra[i]});
        }
    }

    /** Draws the training (blue) and eval (orange) loss against the global step. */
    public void plot(Path png, String title) {
        if (points.size() < 2) return;
        int w = 800, h = 480, left = 70, right = 20, top = 40, bottom = 50;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        double minX = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, minY = Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
        List<double[]> all = new ArrayList<>(points);
        all.addAll(evalPoints);
        extraPoints.values().forEach(all::addAll);
        for (double[] p : all) {
            minX = Math.min(minX, p[0]);
            maxX = Math.max(maxX, p[0]);
            minY = Math.min(minY, p[1]);
            maxY = Math.max(maxY, p[1]);
        }
        if (maxX == minX) maxX = minX + 1;
        if (maxY == minY) maxY = minY + 1;
        g.setColor(Color.GRAY);
        g.drawRect(left, top, w - left - right, h - top - bottom);
        g.setColor(Color.BLACK);
        g.drawString(title, left, 25);
        for (int i = 0; i <= 4; i++) {
            double yv = minY + (maxY - minY) * i / 4;
            int y = (int) (h - bottom - (h - top - bottom) * i / 4.0);
            g.drawString(String.format(Locale.ROOT, "%.3f", yv), 5, y + 4);
            double xv = minX + (maxX - minX) * i / 4;
            int x = (int) (left + (w - left - right) * i / 4.0);
            g.drawString(String.format(Locale.ROOT, "%.0f", xv), x - 10, h - bottom + 18);
        }
        g.drawString("step", w / 2, h - 10);
        g.setColor(new Color(31, 119, 180));
        g.drawString("train loss", w - right - 150, 25);
        if (!evalPoints.isEmpty()) {
            g.setColor(new Color(255, 127, 14));
            g.drawString("eval loss", w - right - 70, 25);
        }
        g.setStroke(new BasicStroke(1.5f));
        drawSeries(g, points, new Color(31, 119, 180), minX, maxX, minY, maxY, left, right, top, bottom, w, h);
        drawSeries(g, evalPoints, new Color(255, 127, 14), minX, maxX, minY, maxY, left, right, top, bottom, w, h);
        Color[] extraColors = {new Color(44, 160, 44), new Color(148, 103, 189)};
        int k = 0;
        for (var e : extraPoints.entrySet()) {
            Color c = extraColors[k % extraColors.length];
            g.setColor(c);
            g.drawString(e.getKey(), left + 10 + 160 * k, h - 22);
            drawSeries(g, e.getValue(), c, minX, maxX, minY, maxY, left, right, top, bottom, w, h);
            k++;
        }
        g.dispose();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);  // in memory: cannot fail for want of disk
        }
        AtomicFiles.writeOrFail(png, bytes.toByteArray(), "the loss plot");
    }

    private static void drawSeries(Graphics2D g, List<double[]> pts, Color c, double minX, double maxX, double minY, double maxY,
                                   int left, int right, int top, int bottom, int w, int h) {
        g.setColor(c);
        int px = -1, py = -1;
        for (double[] p : pts) {
            int x = (int) (left + (p[0] - minX) / (maxX - minX) * (w - left - right));
            int y = (int) (h - bottom - (p[1] - minY) / (maxY - minY) * (h - top - bottom));
            if (px >= 0) g.drawLine(px, py, x, y);
            else g.fillOval(x - 2, y - 2, 4, 4);
            px = x;
            py = y;
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw AtomicFiles.failure(csv, "the metrics log", e);
        }
    }
}
