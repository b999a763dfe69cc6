package minimind4j.checkpoint.format;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.CRC32;

/**
 * Writes a ZIP archive laid out the way torch's PyTorchStreamWriter (caffe2/serialize/inline_container.cc) drives
 * miniz 3.0.2 (third_party/miniz-3.0.2/miniz.c, {@code mz_zip_writer_add_mem_ex_v2} and
 * {@code mz_zip_writer_finalize_archive}):
 *
 * <ul>
 *   <li>every record is stored (method 0) under {@code <archive name>/}, in the order written;</li>
 *   <li>each local header carries, as its extra field, torch's alignment padding: id {@code "FB"}, a 16-bit length,
 *       then that many {@code 'Z'} bytes, sized so the record's data starts at a multiple of 64 bytes in the file
 *       ({@code kFieldAlignment = 64}, {@code detail::getPadding}); this is what lets {@code torch.load(mmap=True)}
 *       map storages in place;</li>
 *   <li>as miniz does for in-memory data: general-purpose flags 0x0800 (UTF-8 names) plus 0x0008 when the record
 *       is non-empty, CRC and sizes zero in the local header, and a data descriptor ({@code PK\7\8}, CRC, sizes)
 *       after the data; version-needed 0 and version-made-by 0;</li>
 *   <li>the writer is opened with MZ_ZIP_FLAG_WRITE_ZIP64, so the archive always ends with a ZIP64
 *       end-of-central-directory record and locator before the classic end record; a record at or beyond 4 GiB
 *       (offset or size) gets ZIP64 extra fields exactly where miniz puts them.</li>
 * </ul>
 *
 * Timestamps are fixed (1980-01-01 00:00, the DOS epoch) so that the same checkpoint always gives the same bytes.
 */
final class TorchZipWriter {
    /** caffe2/serialize/inline_container.h: kFieldAlignment. */
    static final int FIELD_ALIGNMENT = 64;
    private static final long U32_MAX = 0xFFFFFFFFL;
    static final int IO_CHUNK = 8 << 20;
    private static final int DOS_TIME = 0;
    private static final int DOS_DATE = (1 << 5) | 1; // 1980-01-01

    private final FileChannel out;
    private final String archiveName;
    private final ByteArrayOutputStream centralDirectory = new ByteArrayOutputStream();
    private final Set<String> written = new HashSet<>();
    private long position;
    private long entryCount;
    private long combinedCrc; // c10::hash_combine over the records' CRCs, as the serialization id does

    TorchZipWriter(FileChannel out, String archiveName) throws IOException {
        if (archiveName.isEmpty()) throw new IllegalArgumentException("empty archive name");
        this.out = out;
        this.archiveName = archiveName;
        this.position = out.position();
    }

    void writeRecord(String name, String text) throws IOException {
        writeRecord(name, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** Adds {@code <archive>/<name>} holding the remaining bytes of {@code data} (the buffer is not moved). */
    void writeRecord(String name, ByteBuffer data) throws IOException {
        if (!written.add(name)) throw new IllegalStateException("record written twice: " + name);
        ByteBuffer bytes = data.duplicate();
        long size = bytes.remaining();
        byte[] fullName = (archiveName + "/" + name).getBytes(StandardCharsets.UTF_8);
        CRC32 crc32 = new CRC32();
        crc32.update(bytes.duplicate());
        long crc = crc32.getValue();
        long headerOffset = position;

        boolean zip64Extra = size >= U32_MAX || headerOffset >= U32_MAX;
        int flags = 0x0800 | (size > 0 ? 0x0008 : 0);

        // getPadding(): data must start at a multiple of 64 after header (30) + name + "FB"+len (4) [+ zip64 extra].
        long start = headerOffset + 30 + fullName.length + 4;
        if (zip64Extra) {
            start += 4;
            if (size >= U32_MAX) start += 16;
            if (headerOffset >= U32_MAX) start += 8;
        }
        int padding = (int) ((FIELD_ALIGNMENT - start % FIELD_ALIGNMENT) % FIELD_ALIGNMENT);

        ByteBuffer local = le(30 + fullName.length + 28 + 4 + padding);
        local.putInt(ZipArchiveReader.LOCAL_HEADER_SIG)
                .putShort((short) 0) // version needed: miniz writes 20 only for deflate
                .putShort((short) flags)
                .putShort((short) 0) // stored
                .putShort((short) DOS_TIME).putShort((short) DOS_DATE)
                .putInt(0).putInt(0).putInt(0); // CRC and sizes follow in the data descriptor
        local.putShort((short) fullName.length);
        int zip64Length = zip64Extra ? 4 + (size >= U32_MAX ? 16 : 0) + (headerOffset >= U32_MAX ? 8 : 0) : 0;
        local.putShort((short) (zip64Length + 4 + padding));
        local.put(fullName);
        if (zip64Extra) {
            // miniz writes the local ZIP64 field before the data is known: uncompressed size, then compressed
            // size still 0, then the header offset.
            local.putShort((short) 1).putShort((short) (zip64Length - 4));
            if (size >= U32_MAX) local.putLong(size).putLong(0);
            if (headerOffset >= U32_MAX) local.putLong(headerOffset);
        }
        local.put((byte) 'F').put((byte) 'B').putShort((short) padding);
        for (int i = 0; i < padding; i++) local.put((byte) 'Z');
        write(local.flip());
        if (position % FIELD_ALIGNMENT != 0) throw new AssertionError("record data not aligned: " + position);
        write(bytes);

        if (size > 0) {
            ByteBuffer descriptor = le(24);
            descriptor.putInt(0x08074b50).putInt((int) crc);
            if (zip64Extra) descriptor.putLong(size).putLong(size);
            else descriptor.putInt((int) size).putInt((int) size);
            write(descriptor.flip());
        }

        ByteBuffer central = le(46 + fullName.length + 28);
        central.putInt(ZipArchiveReader.CENTRAL_HEADER_SIG)
                .putShort((short) 0) // version made by (miniz leaves it 0)
                .putShort((short) 0) // version needed
                .putShort((short) flags)
                .putShort((short) 0)
                .putShort((short) DOS_TIME).putShort((short) DOS_DATE)
                .putInt((int) crc)
                .putInt((int) Math.min(size, U32_MAX))
                .putInt((int) Math.min(size, U32_MAX))
                .putShort((short) fullName.length)
                .putShort((short) zip64Length)
                .putShort((short) 0) // comment
                .putShort((short) 0) // disk
                .putShort((short) 0) // internal attributes
                .putInt(0) // external attributes
                .putInt((int) Math.min(headerOffset, U32_MAX))
                .put(fullName);
        if (zip64Extra) {
            central.putShort((short) 1).putShort((short) (zip64Length - 4));
            if (size >= U32_MAX) central.putLong(size).putLong(size);
            if (headerOffset >= U32_MAX) central.putLong(headerOffset);
        }
        central.flip();
        centralDirectory.write(central.array(), 0, central.limit());
        entryCount++;
        combinedCrc = hashCombine(combinedCrc, crc);
    }

    /**
     * Writes what PyTorchStreamWriter::writeEndOfFile adds (a {@code version} record "3\n" and the 40-digit
     * {@code .data/serialization_id}), then the central directory and the ZIP64 and classic end records.
     */
    void finish(long formatVersion) throws IOException {
        if (!written.contains("version") && !written.contains(".data/version")) {
            writeRecord("version", formatVersion + "\n");
        }
        if (!written.contains("byteorder")) writeRecord("byteorder", "little");
        if (!written.contains(".data/serialization_id")) writeRecord(".data/serialization_id", serializationId());

        long cdOffset = position;
        long cdSize = centralDirectory.size();
        write(ByteBuffer.wrap(centralDirectory.toByteArray()));

        long zip64EndOffset = position;
        ByteBuffer end = le(56 + 20 + 22);
        end.putInt(ZipArchiveReader.ZIP64_END_SIG)
                .putLong(56 - 12) // size of the rest of this record
                .putShort((short) 0x031E) // made by: miniz's fixed "Unix, 3.0"
                .putShort((short) 0x002D) // needed: 4.5 (ZIP64)
                .putInt(0).putInt(0)
                .putLong(entryCount).putLong(entryCount)
                .putLong(cdSize).putLong(cdOffset);
        end.putInt(ZipArchiveReader.ZIP64_LOCATOR_SIG).putInt(0).putLong(zip64EndOffset).putInt(1);
        end.putInt(ZipArchiveReader.END_SIG)
                .putShort((short) 0).putShort((short) 0)
                .putShort((short) Math.min(entryCount, 0xFFFF))
                .putShort((short) Math.min(entryCount, 0xFFFF))
                .putInt((int) Math.min(cdSize, U32_MAX))
                .putInt((int) Math.min(cdOffset, U32_MAX))
                .putShort((short) 0);
        write(end.flip());
    }

    /**
     * torch writes zero-padded decimal "hash of record names" + "combined CRC". Its name hash is std::hash, which
     * is implementation-specific; this uses FNV-1a over the names instead. Readers only log the value.
     */
    private String serializationId() {
        long nameHash = 0;
        for (String name : new TreeSet<>(written)) {
            long h = 0xcbf29ce484222325L;
            for (byte b : name.getBytes(StandardCharsets.UTF_8)) h = (h ^ (b & 0xFF)) * 0x100000001b3L;
            nameHash = hashCombine(nameHash, h);
        }
        return String.format("%020d%020d", new BigInteger(Long.toUnsignedString(nameHash)),
                new BigInteger(Long.toUnsignedString(combinedCrc)));
    }

    /** c10/util/hash.h hash_combine: seed ^ (value + 0x9e3779b9 + (seed << 6) + (seed >> 2)). */
    private static long hashCombine(long seed, long value) {
        return seed ^ (value + 0x9e3779b9L + (seed << 6) + (seed >>> 2));
    }

    /** Writes in slices: the JDK copies a heap buffer into a temporary direct buffer as large as the write. */
    private void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ByteBuffer chunk = b.slice();
            if (chunk.remaining() > IO_CHUNK) chunk.limit(IO_CHUNK);
            int n = chunk.remaining();
            while (chunk.hasRemaining()) out.write(chunk);
            b.position(b.position() + n);
            position += n;
        }
    }

    private static ByteBuffer le(int capacity) {
        return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }
}
