package minimind4j.checkpoint.format;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The torch part of loading a {@code data.pkl}: which Python globals may appear, how storages are fetched from the
 * archive, and how {@code _rebuild_tensor_v2} turns a storage view into a {@link HostTensor}.
 *
 * <p>The whitelist is roughly what {@code torch.load(weights_only=True)} accepts (torch/_weights_only_unpickler.py):
 * collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_tensor / _rebuild_parameter /
 * _rebuild_parameter_with_state, torch._tensor._rebuild_from_type_v2, the torch.*Storage classes, torch dtypes,
 * torch.Size, and the builtins protocol 2 uses for bytes and sets. Anything else is refused by name.
 */
final class TorchUnpickler {

    /** A storage class global such as {@code torch.HalfStorage}: only meaningful inside a persistent id. */
    record StorageClass(DType dtype) {}

    /** A class global used only as a marker argument (torch.Tensor, torch.nn.Parameter). */
    record ClassMarker(String qualifiedName) {}

    /** A storage fetched from {@code data/<key>}: numel elements of dtype. */
    record Storage(DType dtype, String key, long numel, ByteBuffer bytes) {}

    /** Reads {@code data/<key>} records from the archive. */
    interface RecordSource {
        ByteBuffer read(String recordName) throws IOException;
    }

    private final String source;
    private final RecordSource records;
    private final Map<String, Storage> storages = new HashMap<>();

    TorchUnpickler(String source, RecordSource records) {
        this.source = source;
        this.records = records;
    }

    Object unpickle(byte[] dataPkl) {
        return new PickleReader(dataPkl, source, this::resolve, this::loadPersistent, this::setState).load();
    }

    // ---- globals ----

    private Object resolve(String module, String name) {
        switch (module + "." + name) {
            case "collections.OrderedDict":
                return (PickleReader.Callable) args -> {
                    PyOrderedDict d = new PyOrderedDict();
                    if (!args.isEmpty()) {
                        for (Object pair : asList(args.get(0), "OrderedDict items")) {
                            List<Object> kv = asList(pair, "OrderedDict item");
                            d.put(hashableKey(kv.get(0)), kv.get(1));
                        }
                    }
                    return d;
                };
            case "torch._utils._rebuild_tensor_v2":
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                return (PickleReader.Callable) args -> rebuildTensor(args, 6, 7);
            case "torch._utils._rebuild_tensor":
                // (storage, storage_offset, size, stride): the pre-1.x form
                return (PickleReader.Callable) args -> rebuildTensor(args, 4, 4);
            case "torch._utils._rebuild_parameter":
                // (data, requires_grad, backward_hooks): an nn.Parameter is its data here
                return (PickleReader.Callable) args -> tensorArg(args, 0, "_rebuild_parameter");
            case "torch._utils._rebuild_parameter_with_state":
                // (data, requires_grad, backward_hooks, state)
                return (PickleReader.Callable) args -> tensorArg(args, 0, "_rebuild_parameter_with_state");
            case "torch._tensor._rebuild_from_type_v2":
                // (func, new_type, args, state): a Tensor subclass; the plain tensor func(*args) is what we keep
                return (PickleReader.Callable) args -> {
                    checkArity(args, 4, 4, "_rebuild_from_type_v2");
                    Object func = args.get(0);
                    if (!(func instanceof PickleReader.Callable)) {
                        throw new PickleReader.PickleException(source + ": _rebuild_from_type_v2 with an unsupported function");
                    }
                    return ((PickleReader.Callable) func).call(asList(args.get(2), "_rebuild_from_type_v2 args"));
                };
            case "torch.Size":
                return (PickleReader.Callable) args -> PyTuple.copyOf(args.isEmpty() ? List.of() : asList(args.get(0), "torch.Size"));
            case "torch.Tensor":
            case "torch._tensor.Tensor":
            case "torch.nn.parameter.Parameter":
                return new ClassMarker(module + "." + name);
            case "_codecs.encode":
                // protocol 2 writes bytes as _codecs.encode(text, 'latin1')
                return (PickleReader.Callable) args -> {
                    checkArity(args, 1, 2, "_codecs.encode");
                    String encoding = args.size() > 1 ? String.valueOf(args.get(1)) : "utf-8";
                    String text = (String) args.get(0);
                    return text.getBytes(encoding.equalsIgnoreCase("latin1") || encoding.equalsIgnoreCase("latin-1")
                            || encoding.equalsIgnoreCase("iso-8859-1") ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
                };
            case "__builtin__.bytes":
            case "builtins.bytes":
            case "__builtin__.bytearray":
            case "builtins.bytearray":
                return (PickleReader.Callable) args -> args.isEmpty() ? new byte[0] : bytesOf(args.get(0));
            case "__builtin__.set":
            case "builtins.set":
                return (PickleReader.Callable) args -> args.isEmpty() ? new LinkedHashSet<>()
                        : new LinkedHashSet<>(hashableItems(asList(args.get(0), "set items")));
            case "__builtin__.frozenset":
            case "builtins.frozenset":
                return (PickleReader.Callable) args -> Collections.unmodifiableSet(args.isEmpty() ? new LinkedHashSet<>()
                        : new LinkedHashSet<>(hashableItems(asList(args.get(0), "frozenset items"))));
            default:
                break;
        }
        if (module.equals("torch")) {
            DType storageType = DType.fromTorchStorageClass(name);
            if (storageType != null) return new StorageClass(storageType);
            DType dtype = DType.fromTorchName(name);
            if (dtype != null && name.equals(dtype.torchName())) return dtype;
        }
        throw new PickleReader.PickleException(source + ": the checkpoint refers to the Python global '" + module + "."
                + name + "', which this reader does not load (it only rebuilds tensors, dicts, lists, tuples and plain"
                + " values); re-save it from Python with plain types, e.g. torch.save(model.state_dict(), path)");
    }

    private void setState(Object target, Object state) {
        // BUILD on a dict (OrderedDict._metadata from model.state_dict()) sets attributes, not items: drop them.
        // On a tensor it is legacy Tensor.__setstate__ (requires_grad/hooks), which does not touch the data.
        if (target instanceof Map || target instanceof HostTensor) return;
        throw new PickleReader.PickleException(source + ": cannot apply pickled state to a " + PickleReader.typeName(target));
    }

    // ---- storages ----

    private Object loadPersistent(Object pid) {
        // torch/serialization.py _save.persistent_id: ('storage', storage_type, key, location, numel)
        if (!(pid instanceof List) || ((List<?>) pid).size() != 5 || !"storage".equals(((List<?>) pid).get(0))) {
            throw new PickleReader.PickleException(source + ": unsupported persistent id " + PickleReader.brief(pid)
                    + " (expected ('storage', torch.<X>Storage, key, location, numel))");
        }
        List<?> t = (List<?>) pid;
        if (!(t.get(1) instanceof StorageClass)) {
            throw new PickleReader.PickleException(source + ": storage of unsupported type " + PickleReader.brief(t.get(1))
                    + " (supported: " + Arrays.toString(DType.values()) + ")");
        }
        DType dtype = ((StorageClass) t.get(1)).dtype();
        String key = String.valueOf(t.get(2));
        long numel = toLong(t.get(4), "storage numel");
        Storage cached = storages.get(key);
        if (cached != null) {
            if (cached.dtype() != dtype) {
                throw new PickleReader.PickleException(source + ": storage " + key + " is used as both " + cached.dtype()
                        + " and " + dtype);
            }
            return cached;
        }
        ByteBuffer bytes;
        try {
            bytes = records.read("data/" + key);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long need = Math.multiplyExact(numel, dtype.byteSize());
        if (bytes.remaining() < need) {
            throw new PickleReader.PickleException(source + ": storage data/" + key + " has " + bytes.remaining()
                    + " bytes but its " + numel + " " + dtype + " elements need " + need);
        }
        Storage s = new Storage(dtype, key, numel, bytes);
        storages.put(key, s);
        return s;
    }

    // ---- tensors ----

    private HostTensor rebuildTensor(List<Object> args, int minArgs, int maxArgs) {
        checkArity(args, minArgs, maxArgs, "_rebuild_tensor");
        if (!(args.get(0) instanceof Storage)) {
            throw new PickleReader.PickleException(source + ": tensor rebuilt from a " + PickleReader.typeName(args.get(0))
                    + " instead of a storage");
        }
        Storage storage = (Storage) args.get(0);
        long offset = toLong(args.get(1), "storage_offset");
        long[] size = toLongs(args.get(2), "size");
        long[] stride = toLongs(args.get(3), "stride");
        if (size.length != stride.length) {
            throw new PickleReader.PickleException(source + ": tensor size " + Arrays.toString(size) + " and stride "
                    + Arrays.toString(stride) + " differ in rank");
        }
        return materialize(storage, offset, size, stride, source);
    }

    /**
     * The elements a strided view selects, as a contiguous tensor. A contiguous view shares the storage's bytes
     * (as torch's views do); any other view is gathered into new bytes.
     */
    static HostTensor materialize(Storage storage, long offset, long[] size, long[] stride, String source) {
        try {
            return gather(storage, offset, size, stride, source);
        } catch (ArithmeticException e) {
            throw new PickleReader.PickleException(source + ": a tensor of size " + Arrays.toString(size) + " (stride "
                    + Arrays.toString(stride) + ") overflows 64 bits: a damaged or hand-made file");
        }
    }

    private static HostTensor gather(Storage storage, long offset, long[] size, long[] stride, String source) {
        DType dtype = storage.dtype();
        int es = dtype.byteSize();
        long numel = HostTensor.numel(size);
        if (numel == 0) return new HostTensor(dtype, size, ByteBuffer.allocate(0));
        long last = offset;
        for (int i = 0; i < size.length; i++) {
            if (stride[i] < 0) {
                throw new PickleReader.PickleException(source + ": negative stride " + Arrays.toString(stride));
            }
            last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));  // a lying header overflows here, not silently
        }
        if (offset < 0 || last >= storage.numel()) {
            throw new PickleReader.PickleException(source + ": tensor view (offset " + offset + ", size "
                    + Arrays.toString(size) + ", stride " + Arrays.toString(stride) + ") reaches past its storage of "
                    + storage.numel() + " elements");
        }
        ByteBuffer src = storage.bytes();
        if (isContiguous(size, stride)) {
            return new HostTensor(dtype, size, src.slice(Math.toIntExact(offset * es), Math.toIntExact(Math.multiplyExact(numel, es))));
        }
        ByteBuffer dst = HostTensor.allocate(Math.multiplyExact(numel, es));
        int rank = size.length;
        long[] index = new long[rank];
        int innerRun = stride[rank - 1] == 1 ? (int) size[rank - 1] : 1; // copy whole rows when they are dense
        long runs = numel / innerRun;
        byte[] row = new byte[innerRun * es];
        int out = 0;
        for (long r = 0; r < runs; r++) {
            long element = offset;
            for (int d = 0; d < rank; d++) element += index[d] * stride[d];
            src.get(Math.toIntExact(element * es), row);
            dst.put(out, row);
            out += row.length;
            // advance the multi-index, skipping the innermost dimension when whole rows are copied
            for (int d = innerRun > 1 ? rank - 2 : rank - 1; d >= 0; d--) {
                if (++index[d] < size[d]) break;
                index[d] = 0;
            }
        }
        return new HostTensor(dtype, size, dst);
    }

    /** torch's is_contiguous: strides are row-major, ignoring dimensions of size 1. */
    static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1) {
                if (stride[i] != expected) return false;
                expected *= size[i];
            }
        }
        return true;
    }

    // ---- argument helpers ----

    private HostTensor tensorArg(List<Object> args, int index, String what) {
        if (args.size() <= index || !(args.get(index) instanceof HostTensor)) {
            throw new PickleReader.PickleException(source + ": " + what + " without a tensor argument");
        }
        return (HostTensor) args.get(index);
    }

    private void checkArity(List<Object> args, int min, int max, String what) {
        if (args.size() < min || args.size() > max) {
            throw new PickleReader.PickleException(source + ": " + what + " called with " + args.size() + " arguments");
        }
    }

    @SuppressWarnings("unchecked")
    private List<Object> asList(Object o, String what) {
        if (o instanceof List) return (List<Object>) o;
        throw new PickleReader.PickleException(source + ": " + what + " should be a list or tuple, got "
                + PickleReader.typeName(o));
    }

    private long toLong(Object o, String what) {
        if (o instanceof Long) return (Long) o;
        throw new PickleReader.PickleException(source + ": " + what + " should be an int, got " + PickleReader.typeName(o));
    }

    private long[] toLongs(Object o, String what) {
        List<Object> items = asList(o, what);
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) out[i] = toLong(items.get(i), what);
        return out;
    }

    /** Items for a set or dict keys: lists, dicts and sets are unhashable in Python, and may be self-referencing. */
    private List<Object> hashableItems(List<Object> items) {
        for (Object item : items) hashableKey(item);
        return items;
    }

    private Object hashableKey(Object key) {
        if (key instanceof List && !(key instanceof PyTuple) || key instanceof Map || key instanceof java.util.Set) {
            throw new PickleReader.PickleException(source + ": unhashable " + PickleReader.typeName(key)
                    + " used as a set item or dict key");
        }
        if (key instanceof PyTuple) for (Object item : (PyTuple) key) hashableKey(item);
        return key;
    }

    private byte[] bytesOf(Object o) {
        if (o instanceof byte[]) return ((byte[]) o).clone();
        if (o instanceof String) return ((String) o).getBytes(StandardCharsets.UTF_8);
        if (o instanceof List) {
            List<Object> items = asList(o, "bytes");
            byte[] b = new byte[items.size()];
            for (int i = 0; i < b.length; i++) b[i] = (byte) toLong(items.get(i), "byte");
            return b;
        }
        throw new PickleReader.PickleException(source + ": cannot make bytes from a " + PickleReader.typeName(o));
    }
}
