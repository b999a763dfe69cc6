package minimind4j.checkpoint;

import minimind4j.checkpoint.format.HostTensor;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeSet;

/** The one weight-equality assertion: two state dicts hold the same names and bit-identical tensors. */
public final class SameWeights {
    private SameWeights() {}

    /**
     * The same key set, and every tensor equal by {@link HostTensor#equals} (dtype, shape and bytes). A failure names
     * the first differing key (in {@code expected}'s order) and, for floating-point tensors of one shape, the largest
     * absolute difference.
     */
    public static void assertBitIdentical(Map<String, HostTensor> expected, Map<String, HostTensor> actual) {
        assertBitIdentical(expected, actual, "");
    }

    /** {@link #assertBitIdentical(Map, Map)} with {@code what} (the runs compared, say) opening the message. */
    public static void assertBitIdentical(Map<String, HostTensor> expected, Map<String, HostTensor> actual, String what) {
        String prefix = what.isEmpty() ? "" : what + ": ";
        if (!expected.keySet().equals(actual.keySet())) {
            TreeSet<String> missing = new TreeSet<>(expected.keySet()), extra = new TreeSet<>(actual.keySet());
            missing.removeAll(actual.keySet());
            extra.removeAll(expected.keySet());
            throw new AssertionError(prefix + "different tensor names: missing " + missing + ", unexpected " + extra);
        }
        int differing = 0;
        String first = null;
        for (Map.Entry<String, HostTensor> e : expected.entrySet()) {
            if (e.getValue().equals(actual.get(e.getKey()))) continue;
            if (first == null) first = e.getKey();
            differing++;
        }
        if (first == null) return;
        throw new AssertionError(prefix + differing + " of " + expected.size() + " tensors differ; first " + first + ": "
                + difference(expected.get(first), actual.get(first)));
    }

    private static String difference(HostTensor a, HostTensor b) {
        if (a.dtype() != b.dtype()) return "dtype " + a.dtype() + " vs " + b.dtype();
        if (!Arrays.equals(a.shape(), b.shape())) return "shape " + Arrays.toString(a.shape()) + " vs " + Arrays.toString(b.shape());
        if (!a.dtype().isFloatingPoint()) return "the " + a.dtype() + " values differ";
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double max = 0;
        int at = -1;
        for (int i = 0; i < x.length; i++) {
            double d = Math.abs(x[i] - y[i]);
            if (Double.isNaN(d) && Double.isNaN(x[i]) != Double.isNaN(y[i])) return "element " + i + ": " + x[i] + " vs " + y[i];
            if (d > max) {
                max = d;
                at = i;
            }
        }
        return at < 0 ? "max abs difference 0 (the bits differ: -0.0 or NaN payloads)"
                : "max abs difference " + max + " (element " + at + ": " + x[at] + " vs " + y[at] + ")";
    }
}
