package minimind4j.checkpoint.format;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads entries of a ZIP archive straight from a {@link FileChannel}, one entry at a time, so checkpoints larger
 * than memory-limit-sized byte arrays (and larger than 4 GiB, via ZIP64) can be read.
 *
 * <p>It trusts the central directory, as miniz (torch's reader) does: torch's writer leaves sizes and CRC out of
 * the local headers and puts them in data descriptors after the data, so local headers are only used to find where
 * an entry's bytes start (header + name + extra field, the same arithmetic as PyTorchStreamReader::getRecordOffset).
 * Stored entries are what torch writes; deflated ones are accepted too. CRC-32 is checked on every read.
 */
final class ZipArchiveReader implements Closeable {
    static final int LOCAL_HEADER_SIG = 0x04034b50;
    static final int CENTRAL_HEADER_SIG = 0x02014b50;
    static final int END_SIG = 0x06054b50;
    static final int ZIP64_END_SIG = 0x06064b50;
    static final int ZIP64_LOCATOR_SIG = 0x07064b50;

    /** One central-directory entry. */
    record Entry(String name, int method, int flags, long crc32, long compressedSize, long size, long localHeaderOffset) {}

    /** Thrown for archives that are truncated or not ZIP files; the message says which and where. */
    static final class ZipFormatException extends IOException {
        private static final long serialVersionUID = 1L;

        ZipFormatException(String message) {
            super(message);
        }
    }

    private final FileChannel channel;
    private final long fileSize;
    private final Map<String, Entry> entries;

    private ZipArchiveReader(FileChannel channel) throws IOException {
        this.channel = channel;
        this.fileSize = channel.size();
        this.entries = Collections.unmodifiableMap(readCentralDirectory());
    }

    static ZipArchiveReader open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return new ZipArchiveReader(ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Entries in central-directory order (which is the order they were written). */
    List<Entry> entries() { return new ArrayList<>(entries.values()); }

    Entry find(String name) { return entries.get(name); }

    long fileSize() { return fileSize; }

    /** Where the entry's (stored) bytes begin in the file. */
    long dataOffset(Entry e) throws IOException {
        ByteBuffer h = readAt(e.localHeaderOffset(), 30, "local header of " + e.name());
        if (h.getInt(0) != LOCAL_HEADER_SIG) {
            throw new ZipFormatException("no local header for entry " + e.name() + " at offset " + e.localHeaderOffset());
        }
        int nameLength = Short.toUnsignedInt(h.getShort(26));
        int extraLength = Short.toUnsignedInt(h.getShort(28));
        return e.localHeaderOffset() + 30 + nameLength + extraLength;
    }

    /** The entry's uncompressed bytes as a little-endian heap buffer, CRC-checked. */
    ByteBuffer read(Entry e) throws IOException {
        if (e.size() > Integer.MAX_VALUE - 8) {
            throw new ZipFormatException("entry " + e.name() + " has " + e.size()
                    + " bytes, more than one Java buffer can hold (2 GiB)");
        }
        long start = dataOffset(e);
        if (start + e.compressedSize() > fileSize) {
            throw new ZipFormatException("entry " + e.name() + " ends at byte " + (start + e.compressedSize())
                    + " but the file has only " + fileSize + " bytes (truncated)");
        }
        ByteBuffer out;
        if (e.method() == 0) {
            if (e.compressedSize() != e.size()) {
                throw new ZipFormatException("stored entry " + e.name() + " has different compressed and plain sizes");
            }
            out = readAt(start, (int) e.size(), e.name());
        } else if (e.method() == 8) {
            out = inflate(e, readAt(start, Math.toIntExact(e.compressedSize()), e.name()));
        } else {
            throw new ZipFormatException("entry " + e.name() + " uses ZIP compression method " + e.method()
                    + "; only stored (0) and deflate (8) are supported");
        }
        CRC32 crc = new CRC32();
        crc.update(out.duplicate());
        if (crc.getValue() != e.crc32()) {
            throw new ZipFormatException("entry " + e.name() + " fails its CRC-32 check (corrupted file)");
        }
        return out;
    }

    private ByteBuffer inflate(Entry e, ByteBuffer compressed) throws ZipFormatException {
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(compressed);
            ByteBuffer out = ByteBuffer.allocate((int) e.size()).order(ByteOrder.LITTLE_ENDIAN);
            while (out.hasRemaining() && !inflater.finished()) {
                if (inflater.inflate(out) == 0 && (inflater.needsInput() || inflater.needsDictionary())) break;
            }
            if (out.hasRemaining()) throw new ZipFormatException("entry " + e.name() + " inflates to too few bytes");
            return out.flip().order(ByteOrder.LITTLE_ENDIAN);
        } catch (DataFormatException ex) {
            throw new ZipFormatException("entry " + e.name() + " has corrupt deflate data: " + ex.getMessage());
        } finally {
            inflater.end();
        }
    }

    ByteBuffer readAt(long position, int length, String what) throws IOException {
        if (position < 0 || position + length > fileSize) {
            throw new ZipFormatException(what + " lies past the end of the file (truncated)");
        }
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        long p = position;
        while (b.hasRemaining()) {
            // In slices: the JDK stages a heap-buffer read through a temporary direct buffer of the same size.
            ByteBuffer chunk = b.slice();
            if (chunk.remaining() > TorchZipWriter.IO_CHUNK) chunk.limit(TorchZipWriter.IO_CHUNK);
            int n = channel.read(chunk, p);
            if (n < 0) throw new ZipFormatException(what + " lies past the end of the file (truncated)");
            b.position(b.position() + n);
            p += n;
        }
        return b.flip().order(ByteOrder.LITTLE_ENDIAN);
    }

    private Map<String, Entry> readCentralDirectory() throws IOException {
        if (fileSize < 22) throw new ZipFormatException("file is too short to be a ZIP archive (" + fileSize + " bytes)");
        // The end-of-central-directory record is the last 22 bytes plus an optional comment of up to 64 KiB.
        int tailLength = (int) Math.min(fileSize, 22 + 0xFFFF);
        ByteBuffer tail = readAt(fileSize - tailLength, tailLength, "end of archive");
        int end = -1;
        for (int i = tailLength - 22; i >= 0; i--) {
            if (tail.getInt(i) == END_SIG && i + 22 + Short.toUnsignedInt(tail.getShort(i + 20)) <= tailLength) {
                end = i;
                break;
            }
        }
        if (end < 0) {
            throw new ZipFormatException("no ZIP end-of-central-directory record: the archive is truncated "
                    + "(for example a save that was interrupted) or is not a ZIP file");
        }
        long endOffset = fileSize - tailLength + end;
        long count = Short.toUnsignedInt(tail.getShort(end + 10));
        long cdSize = Integer.toUnsignedLong(tail.getInt(end + 12));
        long cdOffset = Integer.toUnsignedLong(tail.getInt(end + 16));

        // ZIP64: a locator sits right before the end record and points at the ZIP64 end record.
        if (endOffset >= 20) {
            ByteBuffer locator = readAt(endOffset - 20, 20, "ZIP64 locator");
            if (locator.getInt(0) == ZIP64_LOCATOR_SIG) {
                long zip64EndOffset = locator.getLong(8);
                ByteBuffer z = readAt(zip64EndOffset, 56, "ZIP64 end record");
                if (z.getInt(0) != ZIP64_END_SIG) throw new ZipFormatException("bad ZIP64 end-of-central-directory record");
                count = z.getLong(32);
                cdSize = z.getLong(40);
                cdOffset = z.getLong(48);
            }
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset + cdSize > endOffset || cdSize > Integer.MAX_VALUE) {
            throw new ZipFormatException("central directory lies outside the file (truncated or corrupt)");
        }
        ByteBuffer cd = readAt(cdOffset, (int) cdSize, "central directory");
        Map<String, Entry> out = new LinkedHashMap<>();
        int p = 0;
        for (long i = 0; i < count; i++) {
            if (p + 46 > cd.limit() || cd.getInt(p) != CENTRAL_HEADER_SIG) {
                throw new ZipFormatException("central directory entry " + i + " is damaged");
            }
            int flags = Short.toUnsignedInt(cd.getShort(p + 8));
            int method = Short.toUnsignedInt(cd.getShort(p + 10));
            long crc = Integer.toUnsignedLong(cd.getInt(p + 16));
            long compressed = Integer.toUnsignedLong(cd.getInt(p + 20));
            long size = Integer.toUnsignedLong(cd.getInt(p + 24));
            int nameLength = Short.toUnsignedInt(cd.getShort(p + 28));
            int extraLength = Short.toUnsignedInt(cd.getShort(p + 30));
            int commentLength = Short.toUnsignedInt(cd.getShort(p + 32));
            long localOffset = Integer.toUnsignedLong(cd.getInt(p + 42));
            if (p + 46 + nameLength + extraLength + commentLength > cd.limit()) {
                throw new ZipFormatException("central directory entry " + i + " is damaged");
            }
            byte[] nameBytes = new byte[nameLength];
            cd.get(p + 46, nameBytes);
            String name = new String(nameBytes, (flags & 0x800) != 0 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            // ZIP64 extended information (id 1) holds, in this order, the fields whose 32-bit slots are all ones.
            int x = p + 46 + nameLength;
            int xEnd = x + extraLength;
            while (x + 4 <= xEnd) {
                int id = Short.toUnsignedInt(cd.getShort(x));
                int len = Short.toUnsignedInt(cd.getShort(x + 2));
                if (id == 1) {
                    int q = x + 4;
                    if (size == 0xFFFFFFFFL && q + 8 <= x + 4 + len) { size = cd.getLong(q); q += 8; }
                    if (compressed == 0xFFFFFFFFL && q + 8 <= x + 4 + len) { compressed = cd.getLong(q); q += 8; }
                    if (localOffset == 0xFFFFFFFFL && q + 8 <= x + 4 + len) { localOffset = cd.getLong(q); }
                }
                x += 4 + len;
            }
            out.put(name, new Entry(name, method, flags, crc, compressed, size, localOffset));
            p += 46 + nameLength + extraLength + commentLength;
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
