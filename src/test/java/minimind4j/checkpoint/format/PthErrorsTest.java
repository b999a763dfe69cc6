package minimind4j.checkpoint.format;

import minimind4j.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Files the reader must refuse, each with a one-line message that names the file and says what to do. */
class PthErrorsTest {
    @TempDir
    Path dir;

    private UserError refused(Path file, String... mustContain) {
        UserError e = assertThrows(UserError.class, () -> Pth.read(file));
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        assertTrue(m.contains(file.toString()), "names the file: " + m);
        for (String s : mustContain) assertTrue(m.contains(s), "mentions '" + s + "': " + m);
        return e;
    }

    private Path valid() throws IOException {
        Path file = dir.resolve("valid.pth");
        Pth.write(file, Map.of("w", HostTensor.ofFloats(new long[] {64}, new float[64])));
        return file;
    }

    @Test
    void legacyNonZipFormat() throws IOException {
        // torch < 1.6 (or _use_new_zipfile_serialization=False) starts with the pickled magic number
        // 0x1950a86a20f9469cfc6c: PROTO 2, LONG1 of 10 little-endian bytes, STOP.
        byte[] legacy = {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a,
                (byte) 0xa8, 0x50, 0x19, '.', (byte) 0x80, 2, 'M', (byte) 0xe9, 3, '.'};
        Path file = dir.resolve("old.pth");
        Files.write(file, legacy);
        refused(file, "legacy", "re-save", "torch >= 1.6");
    }

    @Test
    void truncatedFiles() throws IOException {
        byte[] bytes = Files.readAllBytes(valid());
        for (int keep : new int[] {bytes.length / 2, bytes.length - 1, 100, 3}) {
            Path cut = dir.resolve("cut_" + keep + ".pth");
            Files.write(cut, Arrays.copyOf(bytes, keep));
            refused(cut, keep < 4 ? "not a PyTorch checkpoint" : "truncated");
        }
        Path empty = dir.resolve("empty.pth");
        Files.write(empty, new byte[0]);
        refused(empty, "empty");
    }

    @Test
    void corruptedStorageFailsItsCrc() throws IOException {
        Path file = valid();
        byte[] bytes = Files.readAllBytes(file);
        int at = indexOf(bytes, "valid/data/0".getBytes(StandardCharsets.UTF_8));
        at = (at + 64) / 64 * 64 + 64 + 8; // inside the 256 bytes of data/0, past its 64-byte aligned start
        bytes[at] ^= 0x40;
        Files.write(file, bytes);
        refused(file, "CRC");
    }

    @Test
    void otherFileKinds() throws IOException {
        Path text = dir.resolve("notes.pth");
        Files.writeString(text, "hello, not a checkpoint\n");
        refused(text, "not a PyTorch checkpoint");

        Path st = dir.resolve("model.safetensors");
        Safetensors.write(st, Map.of("w", HostTensor.ofFloats(new long[] {1}, 1f)), Map.of());
        refused(st, "safetensors");

        Path missing = dir.resolve("missing.pth");
        refused(missing, "no such");

        Path script = dir.resolve("scripted.pt");
        zip(script, "scripted/data.pkl", pickle("}."), "scripted/constants.pkl", pickle(")."));
        refused(script, "TorchScript");

        Path noPickle = dir.resolve("nodata.pth");
        zip(noPickle, "nodata/version", "3\n".getBytes(StandardCharsets.UTF_8));
        refused(noPickle, "data.pkl");
    }

    @Test
    void picklesThatWouldRunCodeOrPointNowhere() throws IOException {
        Path evil = dir.resolve("evil.pth");
        // GLOBAL os.system, then REDUCE with ('echo hi',): what a malicious checkpoint does.
        zip(evil, "evil/data.pkl", pickle("\u0080\u0002cos\nsystem\nX\u0007\u0000\u0000\u0000echo hi\u0085R."));
        UserError e = refused(evil, "'os.system'");
        assertTrue(e.getMessage().contains("torch.save(model.state_dict()"), e.getMessage());

        Path dangling = dir.resolve("dangling.pth");
        // {'w': _rebuild_tensor_v2(persid ('storage', torch.FloatStorage, '0', 'cpu', 4), 0, (4,), (1,), False, OrderedDict())}
        // with no data/0 record in the archive.
        zip(dangling, "dangling/data.pkl", pickle("\u0080\u0002}X\u0001\u0000\u0000\u0000wctorch._utils\n_rebuild_tensor_v2\n"
                + "((X\u0007\u0000\u0000\u0000storagectorch\nFloatStorage\nX\u0001\u0000\u0000\u00000X\u0003\u0000\u0000\u0000cpuK\u0004tQ"
                + "K\u0000K\u0004\u0085K\u0001\u0085\u0089ccollections\nOrderedDict\n)RtRs."));
        refused(dangling, "data/0");

        Path small = dir.resolve("small.pth");
        zip(small, "small/data.pkl", pickleOf(dangling), "small/data/0", new byte[8]); // 8 bytes for 4 floats
        refused(small, "need 16");
    }

    @Test
    void javaUtilZipLayoutIsReadToo() throws IOException {
        // A ZIP from java.util.zip (sizes in local headers, no padding, deflated data.pkl) holding a plain dict.
        Path file = dir.resolve("plain.pth");
        zip(file, "plain/data.pkl", pickle("\u0080\u0002}(X\u0001\u0000\u0000\u0000aK\u0001X\u0001\u0000\u0000\u0000bG?\u00f8\u0000\u0000\u0000\u0000\u0000\u0000u."));
        assertEquals(Map.of("a", 1L, "b", 1.5), Pth.read(file));
    }

    /** Latin-1 text to bytes: lets a pickle be spelled with \\uXXXX escapes for each byte. */
    private static byte[] pickle(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    private byte[] pickleOf(Path zipFile) throws IOException {
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(zipFile.toFile())) {
            return z.getInputStream(z.getEntry("dangling/data.pkl")).readAllBytes();
        }
    }

    private static void zip(Path file, Object... nameThenBytes) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(buffer)) {
            for (int i = 0; i < nameThenBytes.length; i += 2) {
                z.putNextEntry(new ZipEntry((String) nameThenBytes[i]));
                z.write((byte[]) nameThenBytes[i + 1]);
                z.closeEntry();
            }
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            buffer.writeTo(out);
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }
}
