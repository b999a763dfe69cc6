package minimind4j.checkpoint.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import minimind4j.UserError;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the safetensors format (huggingface/safetensors, "Format" in its README): an 8-byte little-endian
 * header length N, N bytes of UTF-8 JSON mapping each tensor name to {@code {"dtype", "shape", "data_offsets":
 * [begin, end]}} (offsets relative to the byte after the header) plus an optional {@code "__metadata__"} map of
 * string to string, then the tensor bytes, little-endian, row-major.
 *
 * <p>Reading checks what the reference implementation's validation checks: the header starts with '{', is at most
 * 100 MB, every tensor's byte range matches its dtype and shape, and the ranges tile the data area without gaps or
 * overlap. Writing produces compact JSON with {@code __metadata__} first and tensors in insertion order, padded with
 * spaces to a multiple of 8 bytes as the reference writer does, and replaces the file atomically.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final String METADATA_KEY = "__metadata__";

    /** A safetensors file's tensors (file order) and its {@code __metadata__} (empty when absent). */
    public record Contents(LinkedHashMap<String, HostTensor> tensors, LinkedHashMap<String, String> metadata) {}

    private Safetensors() {}

    /** The tensors of a safetensors file, in header order. */
    public static LinkedHashMap<String, HostTensor> read(Path file) throws IOException {
        return readWithMetadata(file).tensors();
    }

    /** The tensors and the {@code __metadata__} string map of a safetensors file. */
    public static Contents readWithMetadata(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < 8) throw bad(file, "is only " + fileSize + " bytes, shorter than the 8-byte header length");
            long headerLength = readFully(ch, 0, 8).getLong(0);
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
                throw bad(file, "declares a header of " + Long.toUnsignedString(headerLength)
                        + " bytes; not a safetensors file, or a damaged one");
            }
            if (8 + headerLength > fileSize) {
                throw bad(file, "is truncated: its header needs " + (8 + headerLength) + " bytes, the file has " + fileSize);
            }
            byte[] headerBytes = new byte[(int) headerLength];
            readFully(ch, 8, (int) headerLength).get(headerBytes);
            if (headerBytes[0] != '{') throw bad(file, "header does not start with '{'");
            JsonNode header;
            try {
                header = JSON.readTree(new String(headerBytes, StandardCharsets.UTF_8));
            } catch (JsonProcessingException e) {
                throw bad(file, "header is not valid JSON: " + e.getOriginalMessage());
            }
            if (!header.isObject()) throw bad(file, "header is not a JSON object");

            long dataStart = 8 + headerLength;
            long dataSize = fileSize - dataStart;
            LinkedHashMap<String, String> metadata = new LinkedHashMap<>();
            List<Object[]> specs = new ArrayList<>(); // name, dtype, shape, begin, end
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String name = field.getKey();
                JsonNode v = field.getValue();
                if (name.equals(METADATA_KEY)) {
                    if (!v.isObject()) throw bad(file, "__metadata__ is not an object");
                    for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                        Map.Entry<String, JsonNode> kv = m.next();
                        if (!kv.getValue().isTextual()) throw bad(file, "__metadata__ value of '" + kv.getKey() + "' is not a string");
                        metadata.put(kv.getKey(), kv.getValue().textValue());
                    }
                    continue;
                }
                String dtypeName = v.path("dtype").asText(null);
                DType dtype = dtypeName == null ? null : DType.fromSafetensorsName(dtypeName);
                if (dtype == null) {
                    throw bad(file, "tensor '" + name + "' has dtype " + dtypeName + ", which this reader does not support"
                            + " (supported: " + Arrays.toString(DType.values()) + ")");
                }
                JsonNode shapeNode = v.path("shape");
                JsonNode offsets = v.path("data_offsets");
                if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
                    throw bad(file, "tensor '" + name + "' lacks a shape or a [begin, end] data_offsets pair");
                }
                long[] shape = new long[shapeNode.size()];
                for (int i = 0; i < shape.length; i++) {
                    if (!shapeNode.get(i).canConvertToExactIntegral() || shapeNode.get(i).asLong() < 0) {
                        throw bad(file, "tensor '" + name + "' has a bad shape " + shapeNode);
                    }
                    shape[i] = shapeNode.get(i).asLong();
                }
                long begin = offsets.get(0).asLong(-1);
                long end = offsets.get(1).asLong(-1);
                long expected;
                try {
                    expected = Math.multiplyExact(HostTensor.numel(shape), dtype.byteSize());
                } catch (ArithmeticException e) {
                    throw bad(file, "tensor '" + name + "' has shape " + Arrays.toString(shape) + ", whose size overflows 64 bits: a damaged or hand-edited header");
                }
                if (begin < 0 || end < begin || end - begin != expected) {
                    throw bad(file, "tensor '" + name + "' has data_offsets " + offsets + " but a " + dtype + " tensor of shape "
                            + Arrays.toString(shape) + " takes " + expected + " bytes");
                }
                specs.add(new Object[] {name, dtype, shape, begin, end});
            }
            // The data area must be tiled exactly: sorted by offset, each range starts where the previous ended.
            List<Object[]> byOffset = new ArrayList<>(specs);
            byOffset.sort(Comparator.comparingLong((Object[] s) -> (Long) s[3]).thenComparingLong(s -> (Long) s[4]));
            long cursor = 0;
            for (Object[] s : byOffset) {
                if ((Long) s[3] != cursor) {
                    throw bad(file, "tensor '" + s[0] + "' starts at byte " + s[3] + " of the data, expected " + cursor
                            + " (gap or overlap)");
                }
                cursor = (Long) s[4];
            }
            if (cursor != dataSize) {
                throw bad(file, "tensor data takes " + cursor + " bytes but the file holds " + dataSize
                        + " after the header" + (cursor > dataSize ? " (truncated)" : ""));
            }
            LinkedHashMap<String, HostTensor> tensors = new LinkedHashMap<>();
            for (Object[] s : specs) {
                long begin = (Long) s[3];
                long length = (Long) s[4] - begin;
                if (length > Integer.MAX_VALUE - 8) throw bad(file, "tensor '" + s[0] + "' is larger than 2 GiB");
                tensors.put((String) s[0], new HostTensor((DType) s[1], (long[]) s[2],
                        readFully(ch, dataStart + begin, (int) length)));
            }
            return new Contents(tensors, metadata);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such safetensors file");
        } catch (UserError e) {
            throw e;
        } catch (RuntimeException e) {
            // anything else a damaged header leads to: one line, never a trace
            throw bad(file, "malformed safetensors file (" + e.getMessage() + ")");
        }
    }

    /** Writes tensors (in iteration order) and optional metadata as a safetensors file, atomically. */
    public static void write(Path file, Map<String, HostTensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject(METADATA_KEY);
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) throw new IllegalArgumentException("a tensor cannot be named " + METADATA_KEY);
            HostTensor t = e.getValue();
            ObjectNode spec = header.putObject(e.getKey());
            spec.put("dtype", t.dtype().safetensorsName());
            ArrayNode shape = spec.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            spec.putArray("data_offsets").add(offset).add(offset + t.byteSize());
            offset += t.byteSize();
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padding = (8 - json.length % 8) % 8;
        ByteBuffer head = ByteBuffer.allocate(8 + json.length + padding).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(json.length + padding).put(json);
        for (int i = 0; i < padding; i++) head.put((byte) ' ');
        head.flip();
        AtomicFiles.write(file, ch -> {
            writeFully(ch, head);
            for (HostTensor t : tensors.values()) writeFully(ch, t.data());
        });
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        long p = position;
        while (b.hasRemaining()) {
            ByteBuffer chunk = b.slice();
            if (chunk.remaining() > TorchZipWriter.IO_CHUNK) chunk.limit(TorchZipWriter.IO_CHUNK);
            int n = ch.read(chunk, p);
            if (n < 0) throw new IOException("unexpected end of file");
            b.position(b.position() + n);
            p += n;
        }
        return b.flip().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ByteBuffer chunk = b.slice();
            if (chunk.remaining() > TorchZipWriter.IO_CHUNK) chunk.limit(TorchZipWriter.IO_CHUNK);
            int n = chunk.remaining();
            while (chunk.hasRemaining()) ch.write(chunk);
            b.position(b.position() + n);
        }
    }

    private static UserError bad(Path file, String problem) {
        return new UserError(file + ": " + problem);
    }
}
