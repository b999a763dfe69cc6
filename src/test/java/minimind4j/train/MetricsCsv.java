package minimind4j.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A run's metrics CSV read by column name: its header must start with {@link Metrics#HEADER}. */
public final class MetricsCsv {
    private MetricsCsv() {}

    /** One logged row: its values by the header's column names. */
    public record Row(List<String> header, List<String> values) {
        /** The column's text as written ("" where the row has no value, as eval_loss on most steps). */
        public String get(String column) {
            int i = header.indexOf(column);
            if (i < 0) throw new IllegalArgumentException("no column " + column + " in " + header);
            return i < values.size() ? values.get(i) : "";
        }

        /** Whether the column holds a value on this row. */
        public boolean has(String column) {
            return !get(column).isEmpty();
        }

        /** The column's number; fails on an empty one. */
        public double value(String column) {
            String v = get(column);
            if (v.isEmpty()) throw new AssertionError(column + " is empty on the row " + this);
            return Double.parseDouble(v);
        }

        public int step() { return (int) value("step"); }

        public long globalStep() { return (long) value("global_step"); }

        public double loss() { return value("loss"); }

        @Override
        public String toString() { return String.join(",", values); }
    }

    /** The rows after the header. */
    public static List<Row> read(Path csv) {
        List<String> lines;
        try {
            lines = Files.readAllLines(csv);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (lines.isEmpty() || !lines.get(0).startsWith(Metrics.HEADER))
            throw new AssertionError(csv + ": the header is not Metrics.HEADER: " + (lines.isEmpty() ? "(empty file)" : lines.get(0)));
        List<String> header = List.of(lines.get(0).split(",", -1));
        List<Row> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) rows.add(new Row(header, Arrays.asList(line.split(",", -1))));
        return rows;
    }

    /** The given column of every row, as written. */
    public static List<String> column(List<Row> rows, String column) {
        return rows.stream().map(r -> r.get(column)).toList();
    }

    /** The rows' values of a column, skipping rows without one (eval_loss, say). */
    public static List<Double> values(List<Row> rows, String column) {
        return rows.stream().filter(r -> r.has(column)).map(r -> r.value(column)).toList();
    }
}
