package minimind4j.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of this process from Linux's /proc/self/status: current, peak, and a reset of the peak. */
public final class Rss {
    private Rss() {}

    /** Resets VmHWM to the current RSS where Linux allows it (writing 5 to clear_refs); returns the current RSS. */
    public static double resetPeakRss() {
        System.gc();
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (Exception ignored) {
            // not Linux, or not permitted: the peaks are then process-wide
        }
        return currentRssMb();
    }

    public static double peakRssMb() { return procStatusMb("VmHWM:"); }

    public static double currentRssMb() { return procStatusMb("VmRSS:"); }

    private static double procStatusMb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith(key)) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        } catch (Exception ignored) {
            // not Linux: no RSS figure
        }
        return Double.NaN;
    }
}
