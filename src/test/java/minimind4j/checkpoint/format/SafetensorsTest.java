package minimind4j.checkpoint.format;

import com.fasterxml.jackson.databind.JsonNode;
import minimind4j.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** safetensors: Java round trips, the exact bytes the spec prescribes, refusals, and both directions with Python. */
class SafetensorsTest {
    @TempDir
    Path dir;

    static LinkedHashMap<String, HostTensor> sample() {
        LinkedHashMap<String, HostTensor> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", HostTensor.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6).toBF16());
        m.put("f16", HostTensor.ofFloats(new long[] {3}, 0.1f, -65504f, 1e-7f).toF16());
        m.put("f32", HostTensor.ofFloats(new long[] {1, 2}, Float.NaN, -0f));
        m.put("f64", HostTensor.ofDoubles(new long[] {1}, Math.E));
        m.put("i64", HostTensor.ofLongs(new long[] {2}, Long.MIN_VALUE, 3));
        m.put("i32", HostTensor.ofInts(new long[] {1}, -9));
        m.put("scalar", HostTensor.ofFloats(new long[0], 7.5f));
        m.put("empty", HostTensor.zeros(DType.F16, 0, 4));
        for (DType t : List.of(DType.I16, DType.I8, DType.U8, DType.BOOL)) {
            m.put(t.name().toLowerCase(), HostTensor.ofRawBytes(t, new long[] {2}, Arrays.copyOf(new byte[] {1, 0, 1}, 2 * t.byteSize())));
        }
        return m;
    }

    @Test
    void roundTripWithMetadata() throws IOException {
        Path file = dir.resolve("model.safetensors");
        Map<String, String> meta = Map.of("format", "pt");
        Safetensors.write(file, sample(), meta);
        Safetensors.Contents back = Safetensors.readWithMetadata(file);
        assertEquals(sample(), back.tensors());
        assertEquals(new ArrayList<>(sample().keySet()), new ArrayList<>(back.tensors().keySet()));
        assertEquals(meta, back.metadata());
        assertEquals(sample(), Safetensors.read(file));
    }

    @Test
    void bytesAreExactlyWhatTheSpecSays() throws IOException {
        Path file = dir.resolve("tiny.safetensors");
        LinkedHashMap<String, HostTensor> m = new LinkedHashMap<>();
        m.put("a", HostTensor.ofFloats(new long[] {2}, 1f, -2f));
        Safetensors.write(file, m, Map.of("k", "v"));
        byte[] bytes = Files.readAllBytes(file);
        String json = "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        int padded = (json.length() + 7) / 8 * 8; // header padded with spaces to a multiple of 8
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(padded, b.getLong(0));
        assertEquals(json + " ".repeat(padded - json.length()), new String(bytes, 8, padded, StandardCharsets.UTF_8));
        assertEquals(8 + padded + 8, bytes.length);
        assertEquals(1f, b.getFloat(8 + padded));
        assertEquals(-2f, b.getFloat(8 + padded + 4));
    }

    @Test
    void refusesDamagedFiles() throws IOException {
        Path good = dir.resolve("good.safetensors");
        Safetensors.write(good, sample(), Map.of());
        byte[] bytes = Files.readAllBytes(good);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);

        assertRefused(write("cut.safetensors", Arrays.copyOf(bytes, bytes.length - 3)), "truncated");
        assertRefused(write("cut_header.safetensors", Arrays.copyOf(bytes, 20)), "truncated");
        assertRefused(write("short.safetensors", new byte[] {1, 2}), "shorter than");
        byte[] huge = bytes.clone();
        huge[7] = 0x7f;
        assertRefused(write("huge.safetensors", huge), "header");
        byte[] notJson = bytes.clone();
        notJson[8] = '[';
        assertRefused(write("bracket.safetensors", notJson), "'{'");
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertRefused(write("dtype.safetensors", withHeader(bytes, headerLength, header.replaceFirst("\"BF16\"", "\"U16\""))),
                "dtype U16");
        assertRefused(write("shape.safetensors", withHeader(bytes, headerLength, header.replaceFirst("\\[2,3]", "[3,3]"))),
                "data_offsets");
        assertRefused(write("pth.safetensors", Files.readAllBytes(pth())), "header");
    }

    @Test
    void writeIsAtomic() throws IOException {
        Path file = dir.resolve("w.safetensors");
        Safetensors.write(file, sample(), null);
        byte[] before = Files.readAllBytes(file);
        LinkedHashMap<String, HostTensor> bad = sample();
        bad.put("__metadata__", HostTensor.ofFloats(new long[] {1}, 1f));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(file, bad, null));
        assertArrayEquals(before, Files.readAllBytes(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void readsWhatPythonWrites() throws Exception {
        PythonReference.assumeAvailable();
        PythonReference.run("write-st", dir.toString());
        JsonNode expected = PythonReference.JSON.readTree(dir.resolve("expected.json").toFile());
        for (String name : List.of("all_dtypes", "no_metadata")) {
            Safetensors.Contents c = Safetensors.readWithMetadata(dir.resolve(name + ".safetensors"));
            assertEquals(expected.get(name).get("tensors"), PythonReference.summarize(new LinkedHashMap<>(c.tensors())), name);
            assertEquals(expected.get(name).get("metadata"), PythonReference.JSON.valueToTree(c.metadata()), name);
        }
    }

    @Test
    void pythonReadsWhatJavaWrites() throws Exception {
        PythonReference.assumeAvailable();
        Path file = dir.resolve("java.safetensors");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("source", "minimind4j ünï");
        Safetensors.write(file, sample(), meta);
        JsonNode python = PythonReference.runJson("summarize-st", file.toString());
        assertEquals(PythonReference.summarize(new LinkedHashMap<>(sample())), python.get("summary").get("tensors"));
        assertEquals(PythonReference.JSON.valueToTree(meta), python.get("summary").get("metadata"));
        JsonNode layout = python.get("layout");
        for (String check : List.of("header_starts_with_brace", "header_len_multiple_of_8", "padding_is_spaces",
                "data_tiled_exactly")) {
            assertTrue(layout.get(check).asBoolean(), check + " in " + layout);
        }
        assertEquals("__metadata__", layout.get("keys").get(0).asText());
    }

    private Path pth() throws IOException {
        Path p = dir.resolve("x.pth");
        Pth.write(p, Map.of("w", HostTensor.ofFloats(new long[] {1}, 1f)));
        return p;
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** The same file with a replacement header (re-padded with spaces to the old length, which must suffice). */
    private static byte[] withHeader(byte[] bytes, long headerLength, String header) {
        byte[] out = bytes.clone();
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        assertTrue(h.length <= headerLength);
        Arrays.fill(out, 8, 8 + (int) headerLength, (byte) ' ');
        System.arraycopy(h, 0, out, 8, h.length);
        return out;
    }

    private static void assertRefused(Path file, String mustContain) {
        UserError e = assertThrows(UserError.class, () -> Safetensors.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains(mustContain), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
