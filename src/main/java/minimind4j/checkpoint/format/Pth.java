package minimind4j.checkpoint.format;

import minimind4j.UserError;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes PyTorch {@code .pth} checkpoints in the format {@code torch.save} has used since torch 1.6: a ZIP
 * archive holding {@code <name>/data.pkl} (the pickled object, with tensors as persistent references to storages)
 * and {@code <name>/data/<key>} (each storage's raw little-endian bytes), in pure Java.
 *
 * <p>Reading returns plain Java values (see {@link PickleReader}); tensors become {@link HostTensor}s, dicts
 * {@link LinkedHashMap}s ({@link PyOrderedDict} for OrderedDicts), tuples {@link PyTuple}s. Only a whitelist of
 * torch and collections callables is honoured, so loading never runs code from the file.
 *
 * <p>Problems with the file itself (legacy format, truncation, unsupported content) are reported as
 * {@link UserError}s whose one-line message names the file and what to do; I/O failures stay {@link IOException}s.
 */
public final class Pth {
    /** caffe2/serialize/versions.h: kProducedFileFormatVersion, written to the {@code version} record. */
    static final long FILE_FORMAT_VERSION = 3;

    /** The pickled torch.save magic number 0x1950a86a20f9469cfc6c as LONG1 (opcode, length, bytes). */
    private static final byte[] LEGACY_MAGIC = {(byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9,
            0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};

    private Pth() {}

    /** The whole unpickled object of a {@code .pth} file. */
    public static Object read(Path file) throws IOException {
        String source = file.toString();
        checkIsZipCheckpoint(file);
        try (ZipArchiveReader zip = ZipArchiveReader.open(file)) {
            String prefix = archivePrefix(zip, source);
            ZipArchiveReader.Entry pkl = zip.find(prefix + "data.pkl");
            ByteBuffer pickleBytes = zip.read(pkl);
            byte[] pickle = new byte[pickleBytes.remaining()];
            pickleBytes.get(pickle);
            TorchUnpickler unpickler = new TorchUnpickler(source, record -> {
                ZipArchiveReader.Entry e = zip.find(prefix + record);
                if (e == null) {
                    throw new ZipArchiveReader.ZipFormatException("the archive has no record " + prefix + record
                            + " although data.pkl refers to it");
                }
                return zip.read(e);
            });
            return unpickler.unpickle(pickle);
        } catch (ZipArchiveReader.ZipFormatException e) {
            throw damaged(source, e);
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof ZipArchiveReader.ZipFormatException) {
                throw damaged(source, (ZipArchiveReader.ZipFormatException) e.getCause());
            }
            throw e.getCause();
        } catch (PickleReader.PickleException e) {
            throw new UserError(e.getMessage());
        } catch (UserError e) {
            throw e;
        } catch (ArithmeticException e) {
            throw new UserError(source + ": a tensor's shape or stride in data.pkl overflows 64 bits (a damaged or hand-made file); save or copy it again");
        } catch (RuntimeException e) {
            // whatever else a damaged data.pkl leads to (a wrong type where a tuple belongs, a size beyond 2 GiB): one line, never a trace
            throw new UserError(source + ": malformed checkpoint (" + e.getMessage() + "); save or copy it again");
        }
    }

    /**
     * The tensors of a {@code .pth} whose top level is a state dict ({@code {name: tensor}}), in file order. A
     * training/resume checkpoint that nests the weights (under {@code model} or {@code state_dict}) is refused
     * with a message naming the key to use with {@link #readStateDict(Path, String)}.
     */
    public static LinkedHashMap<String, HostTensor> readStateDict(Path file) throws IOException {
        return readStateDict(file, null);
    }

    /**
     * The tensors of the state dict stored under {@code key} of the top-level dict (for example {@code "model"} in
     * MiniMind's {@code *_resume.pth}), or of the top level itself when {@code key} is null.
     */
    public static LinkedHashMap<String, HostTensor> readStateDict(Path file, String key) throws IOException {
        return stateDict(read(file), file, key);
    }

    /** {@link #readStateDict(Path, String)} over a {@code top} object already {@link #read} from {@code file}. */
    public static LinkedHashMap<String, HostTensor> stateDict(Object top, Path file, String key) {
        Object dict = top;
        if (key != null) {
            if (!(top instanceof Map) || !((Map<?, ?>) top).containsKey(key)) {
                throw new UserError(file + ": has no top-level entry '" + key + "'"
                        + (top instanceof Map ? " (it has " + keysOf((Map<?, ?>) top) + ")" : ""));
            }
            dict = ((Map<?, ?>) top).get(key);
        }
        String where = key == null ? "the top level" : "'" + key + "'";
        if (!(dict instanceof Map)) {
            throw new UserError(file + ": " + where + " is a " + pythonType(dict) + ", not a state dict of tensors");
        }
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) dict).entrySet()) {
            if (e.getKey() instanceof String && e.getValue() instanceof HostTensor) {
                out.put((String) e.getKey(), (HostTensor) e.getValue());
                continue;
            }
            if (key == null) {
                for (String nested : List.of("model", "state_dict", "model_state_dict")) {
                    Object inner = ((Map<?, ?>) dict).get(nested);
                    if (inner instanceof Map && !((Map<?, ?>) inner).isEmpty()
                            && ((Map<?, ?>) inner).values().iterator().next() instanceof HostTensor) {
                        throw new UserError(file + ": is a training checkpoint (top-level keys " + keysOf((Map<?, ?>) dict)
                                + "), not a plain state dict; its weights are under '" + nested
                                + "' (read them with readStateDict(path, \"" + nested + "\"))");
                    }
                }
            }
            throw new UserError(file + ": entry '" + e.getKey() + "' of " + where + " is a " + pythonType(e.getValue())
                    + ", not a tensor; this is not a plain state dict");
        }
        return out;
    }

    /**
     * Writes {@code obj} as {@code torch.save(obj, file)} would (zip serialization, pickle protocol 2), atomically:
     * a temporary file in the same directory is synced and renamed over {@code file}.
     *
     * <p>Values may be {@link HostTensor}, {@link Map} (a {@link PyOrderedDict} stays an OrderedDict), {@link List},
     * {@link PyTuple}, {@link String}, integers, floating-point numbers, {@link Boolean}, {@code byte[]}, {@link DType}
     * or null, nested freely. Each distinct HostTensor object gets its own storage; the same object stored under two
     * keys (tied weights) is written once and shared, as torch does.
     *
     * <p>The pickle uses only globals that {@code torch.load(weights_only=True)} allows (torch/_weights_only_unpickler.py
     * {@code _get_allowed_globals}), except for an empty {@code byte[]}, which CPython (and so torch.save) pickles
     * as {@code __builtin__.bytes()}.
     */
    public static void write(Path file, Map<?, ?> obj) throws IOException {
        String archiveName = archiveName(file);
        AtomicFiles.write(file, channel -> {
            IdentityHashMap<HostTensor, String> keys = new IdentityHashMap<>();
            List<HostTensor> storages = new ArrayList<>();
            byte[] pickle = new PickleWriter(t -> keys.computeIfAbsent(t, x -> {
                storages.add(x);
                return Integer.toString(storages.size() - 1);
            })).dump(obj);
            TorchZipWriter zip = new TorchZipWriter(channel, archiveName);
            // Record order of torch/serialization.py _save (torch >= 2.5): data.pkl, .format_version,
            // .storage_alignment, byteorder, data/0..n-1 in order of first use; writeEndOfFile adds version and
            // .data/serialization_id. Older torch versions ignore the two dot-records.
            zip.writeRecord("data.pkl", ByteBuffer.wrap(pickle));
            zip.writeRecord(".format_version", "1");
            zip.writeRecord(".storage_alignment", Integer.toString(TorchZipWriter.FIELD_ALIGNMENT));
            zip.writeRecord("byteorder", "little");
            for (int i = 0; i < storages.size(); i++) zip.writeRecord("data/" + i, storages.get(i).data());
            zip.finish(FILE_FORMAT_VERSION);
        });
    }

    /** PyTorchStreamWriter's archive name: the file name without its last extension ("archive" if that is empty). */
    static String archiveName(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot >= 0 ? name.substring(0, dot) : name;
        return stem.isEmpty() ? "archive" : stem;
    }

    // ---- format detection ----

    private static void checkIsZipCheckpoint(Path file) throws IOException {
        byte[] head = new byte[512];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such checkpoint file");
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return;
        String problem;
        if (n == 0) {
            problem = "is empty; it was probably cut off while being written; save it again";
        } else if (n >= 14 && head[0] == (byte) 0x80 && startsWith(head, 2, LEGACY_MAGIC)) {
            problem = "uses torch's legacy (pre-1.6, non-zip) checkpoint format, which this reader does not support;"
                    + " re-save it with torch >= 1.6: torch.save(torch.load(path, map_location='cpu'), new_path)";
        } else if (n >= 262 && new String(head, 257, 5, java.nio.charset.StandardCharsets.ISO_8859_1).equals("ustar")) {
            problem = "is a tar archive (torch's oldest legacy checkpoint format); re-save it with torch >= 1.6:"
                    + " torch.save(torch.load(path, map_location='cpu'), new_path)";
        } else if (n >= 8 && new String(head, 0, 8, java.nio.charset.StandardCharsets.ISO_8859_1).equals("PYTORCH1")) {
            problem = "uses the preview-release PyTorch archive format; re-save it with a current torch";
        } else if (n >= 9 && head[8] == '{') {
            problem = "looks like a safetensors file, not a torch.save checkpoint; read it with Safetensors.read";
        } else if (head[0] == (byte) 0x80) {
            problem = "is a bare pickle, not a torch.save zip archive; re-save it with torch.save (torch >= 1.6)";
        } else {
            problem = "is not a PyTorch checkpoint (no ZIP header); check the path";
        }
        throw new UserError(file + ": " + problem);
    }

    private static String archivePrefix(ZipArchiveReader zip, String source) {
        List<ZipArchiveReader.Entry> entries = zip.entries();
        if (entries.isEmpty()) throw new UserError(source + ": the checkpoint archive is empty; save it again");
        // PyTorchStreamReader takes the folder of the first entry; the folder is the saved file's stem and varies
        // ("archive", "pretrain_512", "full_sft_512.pth" for a file saved as full_sft_512.pth.tmp).
        String first = entries.get(0).name();
        int slash = first.indexOf('/');
        String prefix = slash > 0 ? first.substring(0, slash + 1) : null;
        if (prefix == null || zip.find(prefix + "data.pkl") == null) {
            prefix = null;
            for (ZipArchiveReader.Entry e : entries) {
                String name = e.name();
                if (name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - "/data.pkl".length()) {
                    prefix = name.substring(0, name.length() - "data.pkl".length());
                    break;
                }
            }
        }
        if (prefix == null) {
            throw new UserError(source + ": ZIP archive without a <name>/data.pkl record, so not a torch.save checkpoint");
        }
        if (zip.find(prefix + "constants.pkl") != null) {
            throw new UserError(source + ": is a TorchScript archive (torch.jit.save), not a torch.save checkpoint;"
                    + " in Python, save its weights with torch.save(model.state_dict(), path)");
        }
        return prefix;
    }

    private static UserError damaged(String source, ZipArchiveReader.ZipFormatException e) {
        return new UserError(source + ": damaged or truncated checkpoint (" + e.getMessage()
                + "); save or copy it again");
    }

    private static boolean startsWith(byte[] a, int offset, byte[] prefix) {
        if (a.length < offset + prefix.length) return false;
        for (int i = 0; i < prefix.length; i++) if (a[offset + i] != prefix[i]) return false;
        return true;
    }

    private static String keysOf(Map<?, ?> map) {
        List<String> keys = new ArrayList<>();
        for (Object k : map.keySet()) {
            if (keys.size() == 8) {
                keys.add("...");
                break;
            }
            keys.add(String.valueOf(k));
        }
        return keys.toString();
    }

    static String pythonType(Object o) {
        if (o == null) return "None";
        if (o instanceof PyOrderedDict) return "OrderedDict";
        if (o instanceof Map) return "dict";
        if (o instanceof PyTuple) return "tuple";
        if (o instanceof List) return "list";
        if (o instanceof String) return "str";
        if (o instanceof Long || o instanceof java.math.BigInteger) return "int";
        if (o instanceof Double) return "float";
        if (o instanceof Boolean) return "bool";
        if (o instanceof byte[]) return "bytes";
        if (o instanceof HostTensor) return "tensor";
        return o.getClass().getSimpleName();
    }
}
