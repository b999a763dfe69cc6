package minimind4j.checkpoint.format;

import com.fasterxml.jackson.databind.JsonNode;
import minimind4j.UserError;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks the .pth reader and writer against torch_pickle_ref.py, an independent Python implementation that pickles
 * with CPython's own pickle.Pickler the way torch.save does and reads with a restricted pickle.Unpickler plus numpy.
 * Needs python3 with numpy (minimind4j.TestPython: a failure under CI, a skip elsewhere).
 */
class PthPythonInteropTest {
    @TempDir
    static Path dir;
    static JsonNode expected;

    @BeforeAll
    static void writeFixtures() throws Exception {
        PythonReference.assumeAvailable();
        PythonReference.run("write-pth", dir.toString());
        expected = PythonReference.JSON.readTree(dir.resolve("expected.json").toFile());
    }

    @Test
    void readsEveryFixturePythonWroteLikeTorchSave() throws IOException {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = expected.fieldNames(); it.hasNext(); ) names.add(it.next());
        assertTrue(names.containsAll(List.of("half_dict", "dtypes", "state_dict", "views", "resume", "resume_proto4",
                "resume_proto5", "zipfile_layout", "dotted_folder")), names.toString());
        for (String name : names) {
            Object value = Pth.read(dir.resolve(name + ".pth"));
            assertEquals(expected.get(name), PythonReference.summarize(value), name);
        }
    }

    @Test
    void readsMiniMindHalfStateDictWithEdgeValues() throws IOException {
        LinkedHashMap<String, HostTensor> sd = Pth.readStateDict(dir.resolve("half_dict.pth"));
        assertEquals(List.of("model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.norm.weight"),
                new ArrayList<>(sd.keySet()));
        HostTensor norm = sd.get("model.norm.weight");
        assertEquals(DType.F16, norm.dtype());
        assertArrayEquals(new long[] {8}, norm.shape());
        float[] v = norm.toFloatArray();
        assertEquals(1.0f, v[0]);
        assertEquals(65504.0f, v[1]);
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(v[2]));
        assertEquals(0x1p-14f, v[3]); // 6.1035156e-05, smallest normal half
        assertEquals(0x1p-24f, v[4]); // 5.9604645e-08, smallest subnormal half
        assertEquals(Float.POSITIVE_INFINITY, v[5]);
        assertEquals(Float.NEGATIVE_INFINITY, v[6]);
        assertTrue(Float.isNaN(v[7]));
    }

    @Test
    void stateDictOrderedDictAndTiedViews() throws IOException {
        Object sd = Pth.read(dir.resolve("state_dict.pth"));
        assertTrue(sd instanceof PyOrderedDict, "model.state_dict() is an OrderedDict");

        Map<String, HostTensor> views = Pth.readStateDict(dir.resolve("views.pth"));
        assertEquals(views.get("embed.weight"), views.get("lm_head.weight"));
        float[] t = views.get("transposed").toFloatArray();
        float[] e = views.get("embed.weight").toFloatArray();
        for (int i = 0; i < 4; i++) for (int j = 0; j < 6; j++) assertEquals(e[j * 4 + i], t[i * 6 + j]);
    }

    @Test
    void resumeFileNeedsItsKey() throws IOException {
        Path resume = dir.resolve("resume.pth");
        UserError err = assertThrows(UserError.class, () -> Pth.readStateDict(resume));
        assertTrue(err.getMessage().contains("'model'") && err.getMessage().contains(resume.toString()), err.getMessage());
        assertFalse(err.getMessage().contains("\n"));
        Map<String, HostTensor> model = Pth.readStateDict(resume, "model");
        assertEquals(List.of("model.embed_tokens.weight", "lm_head.weight", "model.norm.weight"), new ArrayList<>(model.keySet()));
        assertEquals(model.get("model.embed_tokens.weight"), model.get("lm_head.weight"));

        @SuppressWarnings("unchecked") Map<String, Object> top = (Map<String, Object>) Pth.read(resume);
        assertEquals(1L, top.get("epoch"));
        assertEquals(1234L, top.get("step"));
        @SuppressWarnings("unchecked") List<Object> twice = (List<Object>) top.get("same_list_twice");
        assertSame(twice.get(0), twice.get(1), "a memoized object is one object, as in Python");
        @SuppressWarnings("unchecked")
        Map<String, Object> group = ((List<Map<String, Object>>) ((Map<String, Object>) top.get("optimizer")).get("param_groups")).get(0);
        assertEquals(PyTuple.of(0.9, 0.999), group.get("betas"));
        assertTrue(group.get("betas") instanceof PyTuple);
    }

    @Test
    void refusesUnknownGlobalsAndLegacyFiles() {
        Path unknown = dir.resolve("unknown_global.pth");
        UserError err = assertThrows(UserError.class, () -> Pth.read(unknown));
        assertTrue(err.getMessage().contains("argparse.Namespace") && err.getMessage().contains(unknown.toString()),
                err.getMessage());
        assertFalse(err.getMessage().contains("\n"));

        Path legacy = dir.resolve("legacy.pth");
        err = assertThrows(UserError.class, () -> Pth.read(legacy));
        assertTrue(err.getMessage().startsWith(legacy.toString()) && err.getMessage().contains("legacy")
                && err.getMessage().contains("torch >= 1.6"), err.getMessage());
    }

    /** Python -> Java -> Python: re-saving every fixture keeps every value, and Python reads Java's files. */
    @Test
    void javaRewritesWhatPythonReadsBack() throws Exception {
        List<String> args = new ArrayList<>(List.of("summarize-pth"));
        for (Iterator<String> it = expected.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            @SuppressWarnings("unchecked") Map<String, ?> value = (Map<String, ?>) Pth.read(dir.resolve(name + ".pth"));
            Path rewritten = dir.resolve("java_" + name + ".pth");
            Pth.write(rewritten, value);
            args.add(rewritten.toString());
        }
        JsonNode python = PythonReference.runJson(args.toArray(new String[0]));
        for (Iterator<String> it = expected.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            JsonNode result = python.get(dir.resolve("java_" + name + ".pth").toString());
            assertEquals(expected.get(name), result.get("summary"), name);
            assertTorchLayout(result.get("layout"), "java_" + name);
        }
    }

    /** For a plain dict of contiguous tensors the pickle Java writes is byte for byte what torch.save's pickler writes. */
    @Test
    void dataPklIsByteIdenticalToCPythonsForPlainTensorDicts() throws IOException {
        for (String name : List.of("half_dict", "dtypes", "dotted_folder")) {
            @SuppressWarnings("unchecked") Map<String, ?> value = (Map<String, ?>) Pth.read(dir.resolve(name + ".pth"));
            Path rewritten = dir.resolve("bytes_" + name + ".pth");
            Pth.write(rewritten, value);
            assertArrayEquals(entry(dir.resolve(name + ".pth"), "data.pkl"), entry(rewritten, "data.pkl"), name);
        }
    }

    @Test
    void javaWrittenMiniMindFilesReadInPython() throws Exception {
        // What MiniMind's lm_checkpoint writes: {k: v.half()} and a resume dict with model, optimizer, counters.
        PyOrderedDict model = new PyOrderedDict();
        HostTensor embed = HostTensor.ofFloats(new long[] {4, 2}, 0.1f, -0.2f, 0.3f, 65504f, 1e-8f, -1e-5f, 3f, 4f);
        model.put("model.embed_tokens.weight", embed);
        model.put("lm_head.weight", embed); // tied: one storage
        model.put("model.norm.weight", HostTensor.ofFloats(new long[] {2}, 1f, 1f));
        Map<String, Object> half = new LinkedHashMap<>();
        model.forEach((k, v) -> half.put((String) k, ((HostTensor) v).toF16()));

        Map<String, Object> state = new LinkedHashMap<>();
        state.put("step", HostTensor.ofFloats(new long[0], 10f));
        state.put("exp_avg", HostTensor.ofFloats(new long[] {2}, 1e-3f, -1e-3f));
        Map<Object, Object> states = new LinkedHashMap<>();
        states.put(0L, state);
        Map<String, Object> group = new LinkedHashMap<>();
        group.put("lr", 5e-4);
        group.put("betas", PyTuple.of(0.9, 0.999));
        group.put("foreach", null);
        group.put("amsgrad", false);
        group.put("params", new ArrayList<>(List.of(0L, 1L)));
        Map<String, Object> optimizer = new LinkedHashMap<>();
        optimizer.put("state", states);
        optimizer.put("param_groups", new ArrayList<>(List.of(group)));
        Map<String, Object> resume = new LinkedHashMap<>();
        resume.put("model", model);
        resume.put("optimizer", optimizer);
        resume.put("epoch", 0L);
        resume.put("step", 99L);
        resume.put("world_size", 1L);
        resume.put("wandb_id", null);
        resume.put("bf16", HostTensor.ofFloats(new long[] {3}, 1f, 1.00390625f, -3e38f).toBF16());
        resume.put("ints", HostTensor.ofLongs(new long[] {2, 2}, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE));

        Path halfFile = dir.resolve("full_sft_512.pth");
        Path resumeFile = dir.resolve("full_sft_512_resume.pth");
        Pth.write(halfFile, half);
        Pth.write(resumeFile, resume);
        JsonNode python = PythonReference.runJson("summarize-pth", halfFile.toString(), resumeFile.toString());
        assertEquals(PythonReference.summarize(half), python.get(halfFile.toString()).get("summary"));
        assertTorchLayout(python.get(halfFile.toString()).get("layout"), "full_sft_512");
        assertEquals(PythonReference.summarize(resume), python.get(resumeFile.toString()).get("summary"));
        JsonNode layout = python.get(resumeFile.toString()).get("layout");
        assertTorchLayout(layout, "full_sft_512_resume");
        // embed+lm_head (tied, one storage), norm, step, exp_avg, bf16, ints: 6, not 7
        assertEquals(6, layout.get("storages_read").asInt(), "tied embed/lm_head share one storage");
    }

    private static void assertTorchLayout(JsonNode layout, String archiveName) {
        assertEquals(archiveName, layout.get("archive_name").asText());
        List<String> records = new ArrayList<>();
        layout.get("records").forEach(r -> records.add(r.asText()));
        int storages = layout.get("storage_records").asInt();
        List<String> expectedRecords = new ArrayList<>(List.of("data.pkl", ".format_version", ".storage_alignment", "byteorder"));
        for (int i = 0; i < storages; i++) expectedRecords.add("data/" + i);
        expectedRecords.addAll(List.of("version", ".data/serialization_id"));
        assertEquals(expectedRecords, records);
        assertEquals(storages, layout.get("storages_read").asInt(), "every storage record is used");
        assertEquals("3\n", layout.get("version").asText());
        assertEquals("little", layout.get("byteorder").asText());
        assertEquals("1", layout.get("format_version").asText());
        assertEquals("64", layout.get("storage_alignment").asText());
        assertEquals(2, layout.get("pickle_protocol").asInt());
        for (String check : List.of("all_in_folder", "crc_ok", "serialization_id_ok", "data_aligned_64", "fb_padding_ok",
                "data_descriptors_ok", "zip64_end_records")) {
            assertTrue(layout.get(check).asBoolean(), archiveName + ": " + check + " in " + layout);
        }
    }

    private static byte[] entry(Path file, String record) throws IOException {
        try (ZipFile z = new ZipFile(file.toFile())) {
            String prefix = z.entries().nextElement().getName().split("/")[0];
            return z.getInputStream(z.getEntry(prefix + "/" + record)).readAllBytes();
        }
    }
}
