package minimind4j.checkpoint.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Java write → Java read gives back the same values; the archive is what java.util.zip expects; writes are atomic. */
class PthRoundTripTest {
    @TempDir
    Path dir;

    static Map<String, Object> sample() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("f32", HostTensor.ofFloats(new long[] {2, 3}, 1f, -2f, 3.5f, Float.NaN, -0f, Float.MIN_VALUE));
        m.put("f16", HostTensor.ofFloats(new long[] {4}, 1f, 65504f, 6e-8f, -1f).toF16());
        m.put("bf16", HostTensor.ofFloats(new long[] {1, 2}, 3e38f, -1e-38f).toBF16());
        m.put("f64", HostTensor.ofDoubles(new long[] {2}, Math.PI, -Double.MAX_VALUE));
        m.put("i64", HostTensor.ofLongs(new long[] {3}, Long.MIN_VALUE, 0, Long.MAX_VALUE));
        m.put("i32", HostTensor.ofInts(new long[] {2}, Integer.MIN_VALUE, 7));
        for (DType t : List.of(DType.I16, DType.I8, DType.U8, DType.BOOL)) {
            m.put(t.name().toLowerCase(), HostTensor.ofRawBytes(t, new long[] {2}, new byte[t.byteSize() * 2]));
        }
        m.put("scalar", HostTensor.ofFloats(new long[0], 42f));
        m.put("empty", HostTensor.zeros(DType.F16, 0, 5));
        m.put("nested", new LinkedHashMap<>(Map.of("k", new ArrayList<>(List.of(1L, 2.5, "three", true)))));
        m.put("tuple", PyTuple.of(0.9, 0.999, PyTuple.of(), PyTuple.of("x")));
        PyOrderedDict od = new PyOrderedDict();
        od.put("b", 1L);
        od.put("a", null);
        m.put("ordered", od);
        m.put("ints", new ArrayList<>(List.of(0L, 255L, 256L, 65535L, 65536L, -1L, (long) Integer.MIN_VALUE,
                1L << 31, Long.MIN_VALUE, Long.MAX_VALUE, new BigInteger("-1180591620717411303424"))));
        m.put("bytes", new ArrayList<>(List.of(new byte[0], new byte[] {0, (byte) 0xFF, 10})));
        Map<Object, Object> intKeys = new LinkedHashMap<>();
        intKeys.put(0L, "zero");
        intKeys.put(-5L, "minus five");
        m.put("int_keys", intKeys);
        m.put("set", new LinkedHashSet<>(List.of(3L, 1L, 2L)));
        m.put("dtype", DType.BF16);
        m.put("unicode ключ 模型", "ünïcödé 🙂");
        List<Object> many = new ArrayList<>();
        for (int i = 0; i < 2500; i++) many.add(i % 3 == 0 ? "s" + i : (Object) (long) i); // > 1000: batched, > 255 memo
        m.put("many", many);
        return m;
    }

    @Test
    void writeThenReadGivesTheSameValues() throws IOException {
        Map<String, Object> original = sample();
        Path file = dir.resolve("sample.pth");
        Pth.write(file, original);
        Object back = Pth.read(file);
        assertEquals(PythonReference.summarize(original), PythonReference.summarize(back));
        @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) back;
        assertEquals(original.get("f16"), m.get("f16"));
        assertTrue(m.get("ordered") instanceof PyOrderedDict);
        assertTrue(m.get("tuple") instanceof PyTuple);
        assertEquals(DType.BF16, m.get("dtype"));
        assertArrayEquals(new byte[] {0, (byte) 0xFF, 10}, (byte[]) ((List<?>) m.get("bytes")).get(1));
    }

    @Test
    void stateDictRoundTripAndTiedTensorsShareOneStorage() throws IOException {
        HostTensor embed = HostTensor.ofFloats(new long[] {3, 2}, 1, 2, 3, 4, 5, 6).toF16();
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>();
        sd.put("model.embed_tokens.weight", embed);
        sd.put("lm_head.weight", embed);
        sd.put("model.norm.weight", HostTensor.ofFloats(new long[] {2}, 1, 1).toF16());
        Path file = dir.resolve("full_sft_512.pth");
        Pth.write(file, sd);
        assertEquals(sd, Pth.readStateDict(file));

        try (ZipFile zip = new ZipFile(file.toFile())) {
            List<String> names = new ArrayList<>();
            for (ZipEntry e : Collections.list(zip.entries())) names.add(e.getName());
            assertEquals(List.of("full_sft_512/data.pkl", "full_sft_512/.format_version", "full_sft_512/.storage_alignment",
                    "full_sft_512/byteorder", "full_sft_512/data/0", "full_sft_512/data/1", "full_sft_512/version",
                    "full_sft_512/.data/serialization_id"), names, "tied tensor stored once");
            assertEquals("3\n", new String(zip.getInputStream(zip.getEntry("full_sft_512/version")).readAllBytes()));
            assertEquals("little", new String(zip.getInputStream(zip.getEntry("full_sft_512/byteorder")).readAllBytes()));
            assertArrayEquals(embed.toByteArray(), zip.getInputStream(zip.getEntry("full_sft_512/data/0")).readAllBytes());
            for (ZipEntry e : Collections.list(zip.entries())) assertEquals(ZipEntry.STORED, e.getMethod(), e.getName());
        }
        try (ZipArchiveReader zip = ZipArchiveReader.open(file)) {
            for (ZipArchiveReader.Entry e : zip.entries()) {
                assertEquals(0, zip.dataOffset(e) % 64, e.name() + " is 64-byte aligned for mmap");
            }
        }
    }

    @Test
    void sameInputSameBytes() throws IOException {
        Path a = dir.resolve("a.pth");
        Path b = dir.resolve("sub");
        Files.createDirectory(b);
        Pth.write(a, sample());
        Pth.write(b.resolve("a.pth"), sample());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b.resolve("a.pth")));
    }

    @Test
    void failedWriteLeavesTheTargetUntouchedAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("ckpt.pth");
        Pth.write(file, Map.of("w", HostTensor.ofFloats(new long[] {1}, 1f)));
        byte[] before = Files.readAllBytes(file);

        Map<String, Object> bad = new LinkedHashMap<>(sample());
        bad.put("not picklable", new Object()); // fails half-way through pickling, after the temp file exists
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pth.write(file, bad));
        assertTrue(e.getMessage().contains("'not picklable'"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary files left behind");
        }
        Path fresh = dir.resolve("never.pth");
        assertThrows(IllegalArgumentException.class, () -> Pth.write(fresh, bad));
        assertTrue(Files.notExists(fresh));
    }

    @Test
    void overwritesAnExistingCheckpoint() throws IOException {
        Path file = dir.resolve("ckpt.pth");
        Pth.write(file, Map.of("w", HostTensor.ofFloats(new long[] {1}, 1f)));
        Pth.write(file, Map.of("w", HostTensor.ofFloats(new long[] {1}, 2f)));
        assertEquals(HostTensor.ofFloats(new long[] {1}, 2f), Pth.readStateDict(file).get("w"));
    }

    @Test
    void archiveNameFollowsTorch() {
        assertEquals("full_sft_512", Pth.archiveName(Path.of("out/full_sft_512.pth")));
        assertEquals("full_sft_512.pth", Pth.archiveName(Path.of("full_sft_512.pth.tmp")));
        assertEquals("weights", Pth.archiveName(Path.of("weights")));
        assertEquals("archive", Pth.archiveName(Path.of(".pth")));
    }
}
