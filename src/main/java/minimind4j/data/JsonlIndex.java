package minimind4j.data;

import minimind4j.cli.UserError;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * The byte offsets of the good lines of a JSONL file, found in one streaming pass, so that epochs can visit lines in
 * any order without holding the file in memory. Each line is checked while indexing; lines that fail are counted and
 * reported (file:line and why), or, in strict mode, stop with the first one.
 */
public final class JsonlIndex implements AutoCloseable {
    /** A line that cannot be used, and why. */
    public record BadLine(int line, String reason) {}

    private final Path path;
    private final FileChannel channel;
    private final long[] offsets;
    private final int[] lengths;
    private final int[] lineNumbers;
    private final int totalLines;
    private final List<BadLine> bad;
    private final int badCount;

    private JsonlIndex(Path path, long[] offsets, int[] lengths, int[] lineNumbers, int totalLines, List<BadLine> bad, int badCount) throws IOException {
        this.path = path;
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
        this.offsets = offsets;
        this.lengths = lengths;
        this.lineNumbers = lineNumbers;
        this.totalLines = totalLines;
        this.bad = bad;
        this.badCount = badCount;
    }

    /**
     * Indexes {@code path}. {@code check} returns null for a usable line, or the reason it is not.
     * With {@code strict}, the first bad line is a {@link UserError}.
     */
    public static JsonlIndex build(Path path, Function<String, String> check, boolean strict) {
        if (!Files.isRegularFile(path)) throw new UserError(path + ": no such file (pass --data_path FILE.jsonl)");
        long[] offsets = new long[1024];
        int[] lengths = new int[1024];
        int[] lines = new int[1024];
        int good = 0, lineNo = 0, badCount = 0;
        List<BadLine> bad = new ArrayList<>();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 20)) {
            ByteArrayBuilder buf = new ByteArrayBuilder();
            long pos = 0, start = 0;
            int b;
            boolean eof = false;
            while (!eof) {
                b = in.read();
                if (b == -1) eof = true;
                if (b == '\n' || eof) {
                    if (eof && buf.size() == 0) break;
                    lineNo++;
                    String text = buf.toUtf8();
                    String reason = text.isBlank() ? "empty line" : check.apply(text);
                    if (reason == null) {
                        if (good == offsets.length) {
                            offsets = Arrays.copyOf(offsets, good * 2);
                            lengths = Arrays.copyOf(lengths, good * 2);
                            lines = Arrays.copyOf(lines, good * 2);
                        }
                        offsets[good] = start;
                        lengths[good] = buf.size();
                        lines[good] = lineNo;
                        good++;
                    } else if (!text.isBlank() || !eof) {
                        if (strict) throw new UserError(path + ":" + lineNo + ": " + reason + " (fix the line, or drop --strict_data to skip bad lines)");
                        badCount++;
                        if (bad.size() < 5) bad.add(new BadLine(lineNo, reason));
                    }
                    buf.reset();
                    start = pos + 1;
                } else {
                    buf.add((byte) b);
                }
                pos++;
            }
            if (good == 0) {
                String why = bad.isEmpty() ? "the file is empty" : "line " + bad.get(0).line() + ": " + bad.get(0).reason();
                throw new UserError(path + ": no usable lines (" + why + ")");
            }
            return new JsonlIndex(path, Arrays.copyOf(offsets, good), Arrays.copyOf(lengths, good),
                    Arrays.copyOf(lines, good), lineNo, bad, badCount);
        } catch (IOException e) {
            throw new UserError(path + ": cannot read (" + e.getMessage() + ")");
        }
    }

    public Path path() { return path; }

    /** Number of usable lines. */
    public int size() { return offsets.length; }

    public int totalLines() { return totalLines; }

    public int skipped() { return badCount; }

    /** The first few bad lines (at most 5). */
    public List<BadLine> firstBad() { return bad; }

    /** 1-based line number in the file of usable line {@code i}. */
    public int lineNumber(int i) { return lineNumbers[i]; }

    public String line(int i) {
        ByteBuffer bb = ByteBuffer.allocate(lengths[i]);
        try {
            long at = offsets[i];
            while (bb.hasRemaining()) {
                int n = channel.read(bb, at + bb.position());
                if (n < 0) throw new IOException("file shrank while training");
            }
        } catch (IOException e) {
            throw new UserError(path + ":" + lineNumbers[i] + ": cannot read (" + e.getMessage() + ")");
        }
        return new String(bb.array(), StandardCharsets.UTF_8);
    }

    /** "N skipped of M lines; first reasons: ..." or null when nothing was skipped. */
    public String skipSummary() {
        if (badCount == 0) return null;
        StringBuilder sb = new StringBuilder();
        sb.append(path).append(": skipped ").append(badCount).append(" of ").append(totalLines).append(" lines");
        for (BadLine b : bad) sb.append("\n  line ").append(b.line()).append(": ").append(b.reason());
        sb.append("\n  (use --strict_data to stop at the first bad line)");
        return sb.toString();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only channel: nothing to flush
        }
    }

    private static final class ByteArrayBuilder {
        private byte[] a = new byte[4096];
        private int n;

        void add(byte b) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = b;
        }

        int size() { return n; }

        void reset() { n = 0; }

        String toUtf8() {
            int end = n;
            if (end > 0 && a[end - 1] == '\r') end--;
            return new String(a, 0, end, StandardCharsets.UTF_8);
        }
    }
}
