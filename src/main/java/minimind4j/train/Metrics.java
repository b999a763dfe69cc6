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
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** The metrics log ({@code *_metrics.csv}, appended so a resumed run continues it) and the loss-curve PNG. */
public final class Metrics implements AutoCloseable {
    public static final String HEADER = "epoch,step,global_step,loss,logits_loss,aux_loss,lr,tokens_per_s,supervised_tokens_per_s,elapsed_s,eval_loss";

    private final Writer out;
    private final List<double[]> points = new ArrayList<>();
    private final List<double[]> evalPoints = new ArrayList<>();

    public Metrics(Path csv, boolean append) {
        try {
            Files.createDirectories(csv.toAbsolutePath().getParent());
            boolean fresh = !append || !Files.exists(csv);
            out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    fresh ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND);
            if (fresh) out.write(HEADER + "\n");
            else readExisting(csv);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void readExisting(Path csv) throws IOException {
        for (String line : Files.readAllLines(csv)) {
            String[] f = line.split(",", -1);
            if (f.length < 11 || f[0].equals("epoch")) continue;
            try {
                if (!f[3].isEmpty()) points.add(new double[]{Double.parseDouble(f[2]), Double.parseDouble(f[3])});
                if (!f[10].isEmpty()) evalPoints.add(new double[]{Double.parseDouble(f[2]), Double.parseDouble(f[10])});
            } catch (NumberFormatException ignored) {
                // a torn last line from a killed run: skip it
            }
        }
    }

    public void log(int epoch, int step, long globalStep, double loss, double logitsLoss, double aux, double lr,
                    double tokPerS, double supPerS, double elapsed, Double evalLoss) {
        try {
            out.write(String.format(Locale.ROOT, "%d,%d,%d,%s,%s,%s,%.10g,%.1f,%.1f,%.1f,%s%n", epoch, step, globalStep,
                    Double.isNaN(loss) ? "" : String.format(Locale.ROOT, "%.6f", loss),
                    Double.isNaN(logitsLoss) ? "" : String.format(Locale.ROOT, "%.6f", logitsLoss),
                    Double.isNaN(aux) ? "" : String.format(Locale.ROOT, "%.6f", aux),
                    lr, tokPerS, supPerS, elapsed, evalLoss == null ? "" : String.format(Locale.ROOT, "%.6f", evalLoss)));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!Double.isNaN(loss)) points.add(new double[]{globalStep, loss});
        if (evalLoss != null) evalPoints.add(new double[]{globalStep, evalLoss});
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
        g.dispose();
        try {
            Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
            ImageIO.write(img, "png", tmp.toFile());
            Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
            throw new UncheckedIOException(e);
        }
    }
}
