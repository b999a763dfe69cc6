package minimind4j.checkpoint.format;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pickles plain Java values with protocol 2, emitting the opcodes CPython's C pickler (Modules/_pickle.c, which
 * is what torch.save's {@code pickle.Pickler} is) emits for the corresponding Python values: save_long, save_float,
 * save_unicode, save_tuple, save_list/batch_list_exact, save_dict/batch_dict(_exact) with batches of 1000,
 * save_reduce, save_global. Protocol 2 writes bytes as {@code _codecs.encode(latin1_text, 'latin1')} and sets as
 * {@code __builtin__.set(list)}.
 *
 * <p>Tensors are written the way {@code torch.Tensor.__reduce_ex__} makes them: a call to
 * {@code torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks)}
 * whose storage is a persistent id {@code ('storage', torch.<X>Storage, key, 'cpu', numel)} (torch/serialization.py
 * {@code _save.persistent_id}) and whose hooks are an empty {@code collections.OrderedDict()}.
 *
 * <p>Equal strings and repeated globals are written once and then fetched from the memo, as in CPython (where the
 * literal strings torch reuses are one object). Maps and lists are memoized by identity before their items, so a
 * container that appears twice is pickled once, as Python does.
 */
final class PickleWriter {

    /** Gives the storage key under which a tensor's bytes are saved (same tensor object, same key). */
    interface StorageKeys {
        String keyFor(HostTensor tensor);
    }

    private static final int BATCH = 1000;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final StorageKeys storageKeys;
    private final Map<String, Integer> memoByValue = new HashMap<>();
    private final Map<Object, Integer> memoByIdentity = new IdentityHashMap<>();
    private final Map<Object, Boolean> tuplesInProgress = new IdentityHashMap<>();
    private int memoSize;

    PickleWriter(StorageKeys storageKeys) {
        this.storageKeys = storageKeys;
    }

    byte[] dump(Object obj) {
        out.write(0x80); // PROTO 2
        out.write(2);
        save(obj, "object");
        out.write('.'); // STOP
        return out.toByteArray();
    }

    private void save(Object obj, String path) {
        if (obj == null) {
            out.write('N');
        } else if (obj instanceof Boolean) {
            out.write((Boolean) obj ? 0x88 : 0x89);
        } else if (obj instanceof Long || obj instanceof Integer || obj instanceof Short || obj instanceof Byte) {
            saveInt(((Number) obj).longValue());
        } else if (obj instanceof BigInteger) {
            saveBigInt((BigInteger) obj);
        } else if (obj instanceof Double || obj instanceof Float) {
            long bits = Double.doubleToRawLongBits(((Number) obj).doubleValue());
            out.write('G');
            for (int shift = 56; shift >= 0; shift -= 8) out.write((int) (bits >>> shift));
        } else if (obj instanceof String) {
            saveString((String) obj);
        } else if (obj instanceof HostTensor) {
            saveTensor((HostTensor) obj);
        } else if (obj instanceof DType) {
            saveGlobal("torch", ((DType) obj).torchName()); // torch.dtype pickles by reference, e.g. torch.float16
        } else if (obj instanceof byte[]) {
            saveBytes((byte[]) obj);
        } else if (memoByIdentity.containsKey(obj)) {
            get(memoByIdentity.get(obj));
        } else if (obj instanceof PyTuple) {
            saveTuple((PyTuple) obj, path);
        } else if (obj instanceof List) {
            saveList((List<?>) obj, path);
        } else if (obj instanceof Map) {
            saveMap((Map<?, ?>) obj, path);
        } else if (obj instanceof Set) {
            saveGlobal("__builtin__", "set");
            out.write(']'); // one list argument, as save_reduce(set, (list(obj),)) writes it
            memoizeIdentity(new Object());
            List<Object> items = new ArrayList<>((Set<?>) obj);
            appendItems(items, path);
            out.write(0x85); // TUPLE1
            memoizeIdentity(new Object());
            out.write('R');
            memoizeIdentity(obj);
        } else {
            throw new IllegalArgumentException("cannot save " + path + ": " + obj.getClass().getName()
                    + " has no torch.save equivalent (use HostTensor, Map, List, PyTuple, String, numbers, Boolean,"
                    + " byte[] or null)");
        }
    }

    private void saveInt(long v) {
        if (v >= 0 && v <= 0xFF) {
            out.write('K');
            out.write((int) v);
        } else if (v >= 0 && v <= 0xFFFF) {
            out.write('M');
            out.write((int) v);
            out.write((int) (v >>> 8));
        } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            out.write('J');
            for (int shift = 0; shift < 32; shift += 8) out.write((int) (v >>> shift));
        } else {
            saveBigInt(BigInteger.valueOf(v));
        }
    }

    /** LONG1/LONG4: minimal little-endian two's complement (pickle.encode_long). */
    private void saveBigInt(BigInteger v) {
        if (v.bitLength() < 32) {
            saveInt(v.longValue());
            return;
        }
        byte[] bigEndian = v.toByteArray();
        int n = bigEndian.length;
        if (n < 256) {
            out.write(0x8a);
            out.write(n);
        } else {
            out.write(0x8b);
            for (int shift = 0; shift < 32; shift += 8) out.write(n >>> shift);
        }
        for (int i = n - 1; i >= 0; i--) out.write(bigEndian[i]);
    }

    private void saveString(String s) {
        Integer memoIndex = memoByValue.get("s" + s);
        if (memoIndex != null) {
            get(memoIndex);
            return;
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        out.write('X'); // BINUNICODE
        writeU32(utf8.length);
        out.write(utf8, 0, utf8.length);
        memoByValue.put("s" + s, put());
    }

    private void saveBytes(byte[] b) {
        if (b.length == 0) {
            saveGlobal("__builtin__", "bytes");
            out.write(')');
        } else {
            saveGlobal("_codecs", "encode");
            saveString(new String(b, StandardCharsets.ISO_8859_1));
            saveString("latin1");
            out.write(0x86); // TUPLE2
            put();
        }
        out.write('R');
        put();
    }

    private void saveGlobal(String module, String name) {
        String key = "g" + module + "\n" + name;
        Integer memoIndex = memoByValue.get(key);
        if (memoIndex != null) {
            get(memoIndex);
            return;
        }
        byte[] text = ("c" + module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8);
        out.write(text, 0, text.length);
        memoByValue.put(key, put());
    }

    private void saveTuple(PyTuple t, String path) {
        if (t.isEmpty()) {
            out.write(')'); // CPython does not memoize the empty tuple
            return;
        }
        if (tuplesInProgress.put(t, Boolean.TRUE) != null) {
            throw new IllegalArgumentException("cannot save " + path + ": a tuple contains itself");
        }
        int n = t.size();
        if (n > 3) out.write('(');
        for (int i = 0; i < n; i++) save(t.get(i), path + "[" + i + "]");
        out.write(n == 1 ? 0x85 : n == 2 ? 0x86 : n == 3 ? 0x87 : 't');
        tuplesInProgress.remove(t);
        memoizeIdentity(t);
    }

    private void saveList(List<?> list, String path) {
        out.write(']');
        memoizeIdentity(list);
        appendItems(list, path);
    }

    /** _pickle.c batch_list_exact: a one-item list uses APPEND, anything longer MARK ... APPENDS per 1000. */
    private void appendItems(List<?> list, String path) {
        int n = list.size();
        if (n == 1) {
            save(list.get(0), path + "[0]");
            out.write('a'); // APPEND
            return;
        }
        for (int startIndex = 0; startIndex < n; startIndex += BATCH) {
            int end = Math.min(n, startIndex + BATCH);
            out.write('(');
            for (int i = startIndex; i < end; i++) save(list.get(i), path + "[" + i + "]");
            out.write('e'); // APPENDS
        }
    }

    private void saveMap(Map<?, ?> map, String path) {
        if (map instanceof PyOrderedDict) {
            // OrderedDict.__reduce__ is (OrderedDict, (), None, None, iter(items)): call, memoize, then set items.
            saveGlobal("collections", "OrderedDict");
            out.write(')');
            out.write('R');
        } else {
            out.write('}');
        }
        memoizeIdentity(map);
        // _pickle.c: a plain dict goes through batch_dict_exact (only a one-item dict uses SETITEM); a dict
        // subclass such as OrderedDict through batch_dict, where any batch of one item uses SETITEM.
        boolean exactDict = !(map instanceof PyOrderedDict);
        List<Map.Entry<?, ?>> items = new ArrayList<>(map.entrySet());
        int n = items.size();
        for (int startIndex = 0; startIndex < n; startIndex += BATCH) {
            int end = Math.min(n, startIndex + BATCH);
            boolean single = exactDict ? n == 1 : end - startIndex == 1;
            if (!single) out.write('(');
            for (int i = startIndex; i < end; i++) {
                Map.Entry<?, ?> e = items.get(i);
                String where = path + "[" + keyText(e.getKey()) + "]";
                checkKey(e.getKey(), where);
                save(e.getKey(), where);
                save(e.getValue(), where);
            }
            out.write(single ? 's' : 'u'); // SETITEM / SETITEMS
        }
    }

    private void saveTensor(HostTensor t) {
        String key = storageKeys.keyFor(t);
        long[] shape = t.shape();
        saveGlobal("torch._utils", "_rebuild_tensor_v2");
        out.write('(');
        // The storage, as torch's persistent_id returns it.
        out.write('(');
        saveString("storage");
        saveGlobal("torch", t.dtype().torchStorageClass());
        saveString(key);
        saveString("cpu");
        saveInt(t.numel());
        out.write('t');
        put();
        out.write('Q'); // BINPERSID
        saveInt(0); // storage_offset
        saveLongTuple(shape);
        saveLongTuple(contiguousStrides(shape));
        out.write(0x89); // requires_grad=False
        saveGlobal("collections", "OrderedDict"); // backward_hooks = OrderedDict()
        out.write(')');
        out.write('R');
        put();
        out.write('t');
        put();
        out.write('R');
        put();
    }

    private void saveLongTuple(long[] values) {
        if (values.length == 0) {
            out.write(')');
            return;
        }
        if (values.length > 3) out.write('(');
        for (long v : values) saveInt(v);
        int n = values.length;
        out.write(n == 1 ? 0x85 : n == 2 ? 0x86 : n == 3 ? 0x87 : 't');
        put();
    }

    /** Row-major strides as torch computes them for a contiguous tensor (a size-0 dimension counts as 1). */
    static long[] contiguousStrides(long[] shape) {
        long[] strides = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return strides;
    }

    private static void checkKey(Object key, String where) {
        if (key == null || key instanceof String || key instanceof Number || key instanceof Boolean
                || key instanceof PyTuple) {
            return;
        }
        throw new IllegalArgumentException("cannot save " + where + ": a " + key.getClass().getName()
                + " cannot be a Python dict key");
    }

    private static String keyText(Object key) {
        return key instanceof String ? "'" + key + "'" : String.valueOf(key);
    }

    private void memoizeIdentity(Object obj) {
        memoByIdentity.put(obj, put());
    }

    /** BINPUT / LONG_BINPUT the top of the stack at the next memo index, returning that index. */
    private int put() {
        int index = memoSize++;
        if (index < 256) {
            out.write('q');
            out.write(index);
        } else {
            out.write('r');
            writeU32(index);
        }
        return index;
    }

    private void get(int index) {
        if (index < 256) {
            out.write('h');
            out.write(index);
        } else {
            out.write('j');
            writeU32(index);
        }
    }

    private void writeU32(int v) {
        for (int shift = 0; shift < 32; shift += 8) out.write(v >>> shift);
    }
}
