package minimind4j.data;

import minimind4j.cli.UserError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
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
 * any order without holding the file in memory. Each line is checked while indexing; lines that fail (including
 * blank lines and lines that are not UTF-8) are counted and reported (file:line and why), or, in strict mode, stop
 * with the first one. Lines may end in LF or CRLF, the last one may lack its newline, and a UTF-8 byte order mark
 * at the start of the file is ignored.
 */
public final class JsonlIndex implements AutoCloseable {
    /** A line that cannot be used, and why. */
    public record BadLine(int line, String reason) {}

    /** How many bad lines the summary quotes. */
    public static final int REPORTED = 5;

    private final Path path;
    private final FileChannel channel;
    private final long[] offsets;
    private final int[] lengths;
    private final int[] lineNumbers;
    private final int totalLines;
    private final List<BadLine> bad;
    private final int badCount;

    private JsonlIndex(Path path, Scan scan) throws IOException {
        this.path = path;
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
        this.offsets = Arrays.copyOf(scan.offsets, scan.good);
        this.lengths = Arrays.copyOf(scan.lengths, scan.good);
        this.lineNumbers = Arrays.copyOf(scan.lineNumbers, scan.good);
        this.totalLines = scan.lineNo;
        this.bad = List.copyOf(scan.bad);
        this.badCount = scan.badCount;
    }

    /**
     * Indexes {@code path}. {@code check} returns null for a usable line, or the reason it is not.
     * With {@code strict}, the first bad line is a {@link UserError}.
     */
    public static JsonlIndex build(Path path, Function<String, String> check, boolean strict) {
        if (!Files.isRegularFile(path)) throw new UserError(path + ": no such file (pass --data_path FILE.jsonl)");
        Scan scan = new Scan(path, check, strict);
        try (InputStream in = Files.newInputStream(path)) {
            byte[] chunk = new byte[1 << 16];
            long filePos = 0;
            for (int n; (n = in.read(chunk)) > 0; filePos += n) {
                int from = 0;
                for (int k = 0; k < n; k++) {
                    if (chunk[k] != '\n') continue;
                    scan.line.append(chunk, from, k - from);
                    scan.endLine(filePos + k + 1);
                    from = k + 1;
                }
                scan.line.append(chunk, from, n - from);
            }
            if (scan.line.size() > 0) scan.endLine(filePos); // the last line had no newline
            if (scan.good == 0) {
                String why = scan.bad.isEmpty() ? "the file is empty" : "line " + scan.bad.get(0).line() + ": " + scan.bad.get(0).reason();
                throw new UserError(path + ": no usable lines (" + why + ")");
            }
            return new JsonlIndex(path, scan);
        } catch (IOException e) {
            throw new UserError(path + ": cannot read (" + e.getMessage() + ")");
        }
    }

    public Path path() { return path; }

    /** Number of usable lines. */
    public int size() { return offsets.length; }

    /** Lines in the file, good and bad. */
    public int totalLines() { return totalLines; }

    public int skipped() { return badCount; }

    /** The first few bad lines (at most {@link #REPORTED}). */
    public List<BadLine> firstBad() { return bad; }

    /** 1-based line number in the file of usable line {@code i}. */
    public int lineNumber(int i) { return lineNumbers[i]; }

    /** Usable line {@code i}, without its line ending: the text the check accepted. */
    public String line(int i) {
        ByteBuffer bb = ByteBuffer.allocate(lengths[i]);
        try {
            long at = offsets[i];
            while (bb.hasRemaining()) {
                int n = channel.read(bb, at + bb.position());
                if (n < 0) throw new IOException("the file shrank since it was indexed");
            }
        } catch (IOException e) {
            throw new UserError(path + ":" + lineNumbers[i] + ": cannot read (" + e.getMessage() + ")");
        }
        return new String(bb.array(), StandardCharsets.UTF_8);
    }

    /** "N skipped of M lines" and the first reasons, or null when nothing was skipped. */
    public String skipSummary() {
        if (badCount == 0) return null;
        StringBuilder sb = new StringBuilder();
        sb.append(path).append(": skipped ").append(badCount).append(" of ").append(totalLines).append(" lines");
        if (badCount > bad.size()) sb.append(" (the first ").append(bad.size()).append(" below)");
        for (BadLine b : bad) sb.append("\n  ").append(path).append(':').append(b.line()).append(": ").append(b.reason());
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

    /** State of the indexing pass: the line being read and what was found so far. */
    private static final class Scan {
        final Path path;
        final Function<String, String> check;
        final boolean strict;
        final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        final ByteArrayBuilder line = new ByteArrayBuilder();
        long lineStart;
        long[] offsets = new long[1024];
        int[] lengths = new int[1024];
        int[] lineNumbers = new int[1024];
        int good, lineNo, badCount;
        final List<BadLine> bad = new ArrayList<>();

        Scan(Path path, Function<String, String> check, boolean strict) {
            this.path = path;
            this.check = check;
            this.strict = strict;
        }

        /** Checks the collected line; {@code next} is the file offset just past its newline. */
        void endLine(long next) {
            lineNo++;
            int skip = lineNo == 1 && line.startsWithBom() ? 3 : 0;
            int end = line.size();
            if (end > skip && line.at(end - 1) == '\r') end--;
            String reason;
            try {
                String text = utf8.decode(ByteBuffer.wrap(line.array(), skip, end - skip)).toString();
                reason = text.isBlank() ? "empty line" : check.apply(text);
            } catch (CharacterCodingException e) {
                reason = "not valid UTF-8 text (save the file as UTF-8)";
            }
            if (reason == null) {
                if (good == offsets.length) {
                    offsets = Arrays.copyOf(offsets, good * 2);
                    lengths = Arrays.copyOf(lengths, good * 2);
                    lineNumbers = Arrays.copyOf(lineNumbers, good * 2);
                }
                offsets[good] = lineStart + skip;
                lengths[good] = end - skip;
                lineNumbers[good] = lineNo;
                good++;
            } else {
                if (strict) throw new UserError(path + ":" + lineNo + ": " + reason + " (fix the line, or drop --strict_data to skip bad lines)");
                badCount++;
                if (bad.size() < REPORTED) bad.add(new BadLine(lineNo, reason));
            }
            line.reset();
            lineStart = next;
        }
    }

    private static final class ByteArrayBuilder {
        private byte[] a = new byte[4096];
        private int n;

        void append(byte[] src, int from, int count) {
            if (n + count > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, n + count));
            System.arraycopy(src, from, a, n, count);
            n += count;
        }

        int size() { return n; }

        byte at(int i) { return a[i]; }

        byte[] array() { return a; }

        boolean startsWithBom() { return n >= 3 && a[0] == (byte) 0xEF && a[1] == (byte) 0xBB && a[2] == (byte) 0xBF; }

        void reset() { n = 0; }
    }
}
