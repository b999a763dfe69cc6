package minimind4j.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import minimind4j.UserError;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.zip.GZIPInputStream;

/**
 * Where each good record of the data files is, found in one streaming pass, so that epochs can visit records in any
 * order without holding the data in memory. Reads JSONL (one object per line), JSON arrays ({@code [{...}, ...]},
 * streamed, never loaded whole), either gzip-compressed (unpacked once to a temporary file, deleted on close), from
 * every file {@link DataFiles} finds for the paths given.
 *
 * <p>Each record is checked while indexing, on all cores: records that fail (including blank lines and lines that
 * are not UTF-8) are counted and reported by file:line, or, in strict mode, stop with the first one. A check that
 * throws {@link Refused} stops indexing at once: the data is of another kind and nothing of it is used. Lines may end
 * in LF or CRLF, the last one may lack its newline, and a UTF-8 byte order mark at the start of a file is ignored.
 */
public final class JsonlIndex implements AutoCloseable {
    /** A record that cannot be used, and why; {@code where} is {@code file:line} (and the record number in an array). */
    public record BadLine(String where, int line, String reason) {}

    /** Bad records of one kind (the reason with its numbers and details taken out): how many, and the first few. */
    public record BadKind(String kind, int count, List<BadLine> first) {}

    /** The kind of a reason: "message 3 has no content" and "message 1 has no content" are one kind. */
    public static String kindOf(String reason) {
        return reason.replaceAll("\\s*\\(.*$", "").replaceAll("\\d+", "N").trim();
    }

    /** Thrown by a check for a record that makes the whole input unusable (data of another kind). */
    public static final class Refused extends RuntimeException {
        public Refused(String message) { super(message, null, false, false); }
    }

    /** How many bad records the summary quotes. */
    public static final int REPORTED = 5;
    private static final int CHUNK = 1024;

    /** One input file: the path the user gave, the channel records are read from (a temporary file for gzip). */
    private record Source(Path path, FileChannel channel, boolean array, Path temp) {}

    private final List<Source> sources;
    private final int[] source;
    private final long[] offsets;
    private final int[] lengths;
    private final int[] lineNumbers;
    private final int[] recordNumbers;
    private final int totalLines;
    private final List<BadLine> bad;
    private final int badCount;
    private final String name;
    private final List<BadKind> badKinds;

    private JsonlIndex(Builder b) {
        this.sources = List.copyOf(b.sources);
        int n = b.good;
        this.source = Arrays.copyOf(b.source, n);
        this.offsets = Arrays.copyOf(b.offsets, n);
        this.lengths = Arrays.copyOf(b.lengths, n);
        this.lineNumbers = Arrays.copyOf(b.lineNumbers, n);
        this.recordNumbers = Arrays.copyOf(b.recordNumbers, n);
        this.totalLines = b.total;
        this.bad = List.copyOf(b.bad);
        this.badCount = b.badCount;
        this.name = b.name;
        List<BadKind> kinds = new ArrayList<>();
        b.kinds.forEach((k, v) -> kinds.add(new BadKind(k, v.count, List.copyOf(v.first))));
        this.badKinds = List.copyOf(kinds);
    }

    /** Bad records by kind, in the order each kind was first met. */
    public List<BadKind> badKinds() { return badKinds; }

    public static JsonlIndex build(Path path, Function<String, String> check, boolean strict) {
        return build(List.of(path), check, strict);
    }

    /**
     * Indexes the data at {@code paths} (files, directories, globs). {@code check} returns null for a usable record,
     * or the reason it is not. With {@code strict}, the first bad record is a {@link UserError}.
     */
    public static JsonlIndex build(List<Path> paths, Function<String, String> check, boolean strict) {
        List<Path> files = DataFiles.resolve(paths);
        Builder b = new Builder(check, strict, files.size() == 1 ? files.get(0).toString() : files.size() + " files (" + files.get(0) + ", ...)");
        try {
            for (Path f : files) b.read(f);
            b.drain(0);
        } catch (RuntimeException e) {
            b.abort();
            throw e;
        } finally {
            b.pool.shutdownNow();
        }
        if (b.good == 0) {
            b.abort();
            String why = b.bad.isEmpty() ? (b.total == 0 ? "the data is empty" : "no records") : b.bad.get(0).where() + ": " + b.bad.get(0).reason();
            throw new UserError(b.name + ": no usable records (" + why + ")");
        }
        return new JsonlIndex(b);
    }

    /** The file, or "N files (first, ...)". */
    public String name() { return name; }

    /** The first data file (what messages name when there is one). */
    public Path path() { return sources.get(0).path(); }

    public List<Path> files() { return sources.stream().map(Source::path).toList(); }

    /** Number of usable records. */
    public int size() { return offsets.length; }

    /** Records (lines of JSONL files, elements of arrays) read, good and bad. */
    public int totalLines() { return totalLines; }

    public int skipped() { return badCount; }

    /** The first few bad records (at most {@link #REPORTED}). */
    public List<BadLine> firstBad() { return bad; }

    /** 1-based line in its file where usable record {@code i} starts. */
    public int lineNumber(int i) { return lineNumbers[i]; }

    /** Where usable record {@code i} is, as the user's file names it: {@code file:line}, plus the record number in an array. */
    public String location(int i) {
        return where(sources.get(source[i]).path(), lineNumbers[i], recordNumbers[i]);
    }

    private static String where(Path file, int line, int record) {
        return file + ":" + line + (record > 0 ? " (record " + record + ")" : "");
    }

    /** Usable record {@code i} (a line without its line ending, or an array element): the text the check accepted. */
    public String line(int i) {
        ByteBuffer bb = ByteBuffer.allocate(lengths[i]);
        FileChannel ch = sources.get(source[i]).channel();
        try {
            long at = offsets[i];
            while (bb.hasRemaining()) {
                int n = ch.read(bb, at + bb.position());
                if (n < 0) throw new IOException("the file shrank since it was indexed");
            }
        } catch (IOException e) {
            throw new UserError(location(i) + ": cannot read (" + e.getMessage() + ")");
        }
        return new String(bb.array(), StandardCharsets.UTF_8);
    }

    /** "N skipped of M records" and the first reasons, or null when nothing was skipped. */
    public String skipSummary() {
        if (badCount == 0) return null;
        StringBuilder sb = new StringBuilder();
        sb.append(name).append(": skipped ").append(badCount).append(" of ").append(totalLines).append(" records");
        if (badCount > bad.size()) sb.append(" (the first ").append(bad.size()).append(" below)");
        for (BadLine b : bad) sb.append("\n  ").append(b.where()).append(": ").append(b.reason());
        sb.append("\n  (use --strict_data to stop at the first bad record)");
        return sb.toString();
    }

    @Override
    public void close() {
        for (Source s : sources) closeSource(s);
    }

    private static void closeSource(Source s) {
        try {
            s.channel().close();
            if (s.temp() != null) Files.deleteIfExists(s.temp());
        } catch (IOException ignored) {
            // read-only channel and our own temporary file: nothing to lose
        }
    }

    /** The indexing pass: files read in order, records checked in parallel chunks, verdicts applied in order. */
    private static final class Builder {
        final Function<String, String> check;
        final boolean strict;
        final String name;
        final ExecutorService pool;
        final int maxPending;
        final List<Source> sources = new ArrayList<>();
        final ArrayDeque<Chunk> pending = new ArrayDeque<>();
        Chunk current;
        int[] source = new int[1024], lengths = new int[1024], lineNumbers = new int[1024], recordNumbers = new int[1024];
        long[] offsets = new long[1024];
        int good, total, badCount;
        final List<BadLine> bad = new ArrayList<>();
        final java.util.LinkedHashMap<String, KindCount> kinds = new java.util.LinkedHashMap<>();

        static final class KindCount {
            int count;
            final List<BadLine> first = new ArrayList<>();
        }

        Builder(Function<String, String> check, boolean strict, String name) {
            this.check = check;
            this.strict = strict;
            this.name = name;
            int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
            this.pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "data-index");
                t.setDaemon(true);
                return t;
            });
            this.maxPending = threads * 2;
        }

        void read(Path file) {
            Path temp = null;
            try {
                Path readFrom = file;
                if (DataFiles.isGzip(file)) {
                    temp = Files.createTempFile("minimind-data-", ".unpacked");
                    temp.toFile().deleteOnExit();
                    try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16));
                         OutputStream out = Files.newOutputStream(temp)) {
                        in.transferTo(out);
                    } catch (java.util.zip.ZipException | java.io.EOFException e) {
                        throw new UserError(file + ": not a complete gzip file (" + e.getMessage() + ")");
                    }
                    readFrom = temp;
                }
                int bom = hasBom(readFrom) ? 3 : 0;
                boolean array = firstByte(readFrom, bom) == '[';
                Source s = new Source(file, FileChannel.open(readFrom, StandardOpenOption.READ), array, temp);
                sources.add(s);
                temp = null;
                if (array) readArray(s, readFrom, bom);
                else readLines(s, readFrom);
                flush();
            } catch (IOException e) {
                throw new UserError(file + ": cannot read (" + e.getMessage() + ")");
            } finally {
                if (temp != null) try { Files.deleteIfExists(temp); } catch (IOException ignored) { /* best effort */ }
            }
        }

        private static boolean hasBom(Path f) throws IOException {
            try (InputStream in = Files.newInputStream(f)) {
                byte[] h = in.readNBytes(3);
                return h.length == 3 && h[0] == (byte) 0xEF && h[1] == (byte) 0xBB && h[2] == (byte) 0xBF;
            }
        }

        private static int firstByte(Path f, int skip) throws IOException {
            try (InputStream in = new BufferedInputStream(Files.newInputStream(f))) {
                in.skipNBytes(skip);
                for (int c; (c = in.read()) >= 0; ) if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return c;
                return -1;
            }
        }

        /** JSONL: every line is a record. */
        private void readLines(Source s, Path readFrom) throws IOException {
            int si = sources.size() - 1;
            ByteArrayBuilder line = new ByteArrayBuilder();
            int lineNo = 0;
            long lineStart = 0;
            try (InputStream in = Files.newInputStream(readFrom)) {
                byte[] chunk = new byte[1 << 16];
                long filePos = 0;
                for (int n; (n = in.read(chunk)) > 0; filePos += n) {
                    int from = 0;
                    for (int k = 0; k < n; k++) {
                        if (chunk[k] != '\n') continue;
                        line.append(chunk, from, k - from);
                        lineNo++;
                        addLine(si, line, lineStart, lineNo);
                        lineStart = filePos + k + 1;
                        from = k + 1;
                    }
                    line.append(chunk, from, n - from);
                }
                if (line.size() > 0) addLine(si, line, lineStart, ++lineNo); // the last line had no newline
            }
        }

        private void addLine(int si, ByteArrayBuilder line, long lineStart, int lineNo) {
            int skip = lineNo == 1 && line.startsWithBom() ? 3 : 0;
            int end = line.size();
            if (end > skip && line.at(end - 1) == '\r') end--;
            add(si, lineStart + skip, Arrays.copyOfRange(line.array(), skip, end), lineNo, 0);
            line.reset();
        }

        /** A JSON array: each element is a record, found with Jackson's streaming parser and read back by offset. */
        private void readArray(Source s, Path readFrom, int bom) throws IOException {
            int si = sources.size() - 1;
            JsonFactory factory = new JsonFactory();
            try (InputStream raw = new BufferedInputStream(Files.newInputStream(readFrom), 1 << 16)) {
                raw.skipNBytes(bom);
                try (JsonParser p = factory.createParser(raw)) {
                    p.nextToken(); // the opening [
                    int record = 0;
                    for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; ) {
                        if (t == null) throw new UserError(where(s.path(), p.getCurrentLocation().getLineNr(), 0) + ": the JSON array is not closed (the file is cut short?)");
                        record++;
                        JsonLocation at = p.getTokenLocation();
                        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) p.skipChildren();
                        long start = at.getByteOffset(), end = p.getCurrentLocation().getByteOffset();
                        byte[] bytes = new byte[Math.toIntExact(end - start)];
                        ByteBuffer bb = ByteBuffer.wrap(bytes);
                        while (bb.hasRemaining()) if (s.channel().read(bb, bom + start + bb.position()) < 0) break;
                        add(si, bom + start, bytes, at.getLineNr(), record);
                    }
                } catch (JsonParseException e) {
                    JsonLocation l = e.getLocation();
                    throw new UserError(s.path() + ":" + (l == null ? "?" : l.getLineNr() + ":" + l.getColumnNr())
                            + ": the file starts with [ but is not a valid JSON array (" + e.getOriginalMessage() + "); fix the file");
                }
            }
        }

        private void add(int si, long offset, byte[] bytes, int line, int record) {
            if (current == null) current = new Chunk();
            current.add(si, offset, bytes, line, record);
            if (current.n == CHUNK) flush();
        }

        private void flush() {
            if (current == null || current.n == 0) return;
            Chunk c = current;
            current = null;
            c.verdicts = pool.submit(() -> c.check(check));
            pending.add(c);
            drain(maxPending);
        }

        /** Applies the verdicts of the oldest chunks, in file order, until at most {@code keep} are outstanding. */
        void drain(int keep) {
            flushIfLast(keep);
            while (pending.size() > keep) {
                Chunk c = pending.poll();
                String[] v;
                try {
                    v = c.verdicts.get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) throw r;
                    throw new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new UserError("interrupted while reading the data");
                }
                for (int k = 0; k < c.n; k++) apply(c, k, v[k]);
            }
        }

        private void flushIfLast(int keep) {
            if (keep == 0 && current != null && current.n > 0) {
                Chunk c = current;
                current = null;
                c.verdicts = pool.submit(() -> c.check(check));
                pending.add(c);
            }
        }

        private void apply(Chunk c, int k, String reason) {
            total++;
            String where = where(sources.get(c.source[k]).path(), c.line[k], c.record[k]);
            if (reason != null && reason.startsWith(Chunk.REFUSED))
                throw new UserError(where + ": " + reason.substring(Chunk.REFUSED.length()) + " (nothing of this data is used)");
            if (reason == null) {
                if (good == offsets.length) {
                    int cap = good * 2;
                    source = Arrays.copyOf(source, cap);
                    offsets = Arrays.copyOf(offsets, cap);
                    lengths = Arrays.copyOf(lengths, cap);
                    lineNumbers = Arrays.copyOf(lineNumbers, cap);
                    recordNumbers = Arrays.copyOf(recordNumbers, cap);
                }
                source[good] = c.source[k];
                offsets[good] = c.offset[k];
                lengths[good] = c.length[k];
                lineNumbers[good] = c.line[k];
                recordNumbers[good] = c.record[k];
                good++;
                return;
            }
            if (strict) throw new UserError(where + ": " + reason + " (fix the record, or drop --strict_data to skip bad records)");
            badCount++;
            BadLine b = new BadLine(where, c.line[k], reason);
            if (bad.size() < REPORTED) bad.add(b);
            KindCount kc = kinds.computeIfAbsent(kindOf(reason), x -> new KindCount());
            if (kc.count++ < REPORTED) kc.first.add(b);
        }

        void abort() {
            for (Chunk c : pending) if (c.verdicts != null) c.verdicts.cancel(true);
            for (Source s : sources) closeSource(s);
        }
    }

    /** Records handed to one worker. */
    private static final class Chunk {
        static final String REFUSED = "\u0000refused:";
        final int[] source = new int[CHUNK], length = new int[CHUNK], line = new int[CHUNK], record = new int[CHUNK];
        final long[] offset = new long[CHUNK];
        final byte[][] bytes = new byte[CHUNK][];
        int n;
        Future<String[]> verdicts;

        void add(int si, long off, byte[] b, int ln, int rec) {
            source[n] = si;
            offset[n] = off;
            length[n] = b.length;
            bytes[n] = b;
            line[n] = ln;
            record[n] = rec;
            n++;
        }

        String[] check(Function<String, String> check) {
            var utf8 = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
            String[] out = new String[n];
            for (int k = 0; k < n; k++) {
                try {
                    String text = utf8.decode(ByteBuffer.wrap(bytes[k])).toString();
                    out[k] = text.isBlank() ? "empty line" : check.apply(text);
                } catch (CharacterCodingException e) {
                    out[k] = "not valid UTF-8 text (save the file as UTF-8)";
                } catch (Refused e) {
                    out[k] = REFUSED + e.getMessage();
                }
                bytes[k] = null;
            }
            return out;
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
