package minimind4j.checkpoint;

import minimind4j.checkpoint.format.PyTuple;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.DType;
import minimind4j.UserError;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.ArchiveWriter;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * libtorch's AdamW state as PyTorch's {@code torch.optim.AdamW.state_dict()}: {@code {'state': {index: {'step':
 * tensor(n.), 'exp_avg': ..., 'exp_avg_sq': ...}}, 'param_groups': [{'lr': ..., 'betas': (b1, b2), ..., 'params':
 * [0, 1, ...]}]}}, where index i is the i-th tensor of the Python module's {@code model.parameters()}. That is what
 * MiniMind's lm_checkpoint stores under {@code 'optimizer'}, so a resume file moves between MiniMind and this
 * project with its moments.
 *
 * <p>The Java mapping of libtorch has no accessor for an optimizer's per-parameter state, only {@code save}/{@code
 * load} through a serialize archive. Both directions therefore go through an in-memory archive in libtorch's own
 * layout (torch/csrc/api/include/torch/optim/serialize.h: {@code state/<TensorImpl address>/{step, exp_avg,
 * exp_avg_sq}}, {@code param_groups/param_groups/0/{params/i, options}}), never through a file.
 */
public final class AdamWStateDict {
    private AdamWStateDict() {}

    /** One parameter's moments as libtorch holds them (CPU copies). */
    private record Moments(long step, Tensor expAvg, Tensor expAvgSq) {}

    /**
     * The optimizer's state as PyTorch's state dict. {@code names} are the names of the optimizer's parameters in its
     * own order; {@code torchOrder} is every parameter name of the model in the order Python's
     * {@code model.parameters()} yields them (the index space of the file).
     */
    public static LinkedHashMap<String, Object> of(AdamW opt, List<String> names, List<String> torchOrder) {
        LinkedHashMap<Long, Object> state = new LinkedHashMap<>();
        List<Object> indices = new ArrayList<>();
        Map<String, Object> group = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            InputArchive in = roundTrip(opt);
            InputArchive groups = new InputArchive(), g = new InputArchive(), options = new InputArchive(), st = new InputArchive();
            in.read("param_groups", groups);
            groups.read("param_groups/0", g);
            g.read("options", options);
            in.read("state", st);
            List<String> stateKeys = Arrays.asList(keys(st));
            long n = readLong(g, "params/size");
            if (n != names.size())
                throw new IllegalStateException("optimizer has " + n + " parameters, " + names.size() + " names given");
            // file index -> position in the optimizer, ascending by index as PyTorch writes them
            Map<Integer, Integer> byIndex = new java.util.TreeMap<>();
            for (int i = 0; i < n; i++) {
                int idx = torchOrder.indexOf(names.get(i));
                if (idx < 0) throw new IllegalStateException("parameter " + names.get(i) + " is not in the model's order");
                byIndex.put(idx, i);
            }
            // the file's indices run 0..n-1 over the optimizer's parameters, in the model's order
            int fileIndex = 0;
            for (Map.Entry<Integer, Integer> e : byIndex.entrySet()) {
                int pos = e.getValue();
                indices.add((long) fileIndex);
                String key = stringValue(g, "params/" + pos);
                if (stateKeys.contains(key)) {
                    InputArchive ps = new InputArchive();
                    st.read(key, ps);
                    LinkedHashMap<String, Object> s = new LinkedHashMap<>();
                    // PyTorch keeps step as a float32 0-dim tensor (torch >= 1.12)
                    s.put("step", HostTensor.ofFloats(new long[0], (float) readLong(ps, "step")));
                    s.put("exp_avg", Weights.toHost(readTensor(ps, "exp_avg"), DType.F32));
                    s.put("exp_avg_sq", Weights.toHost(readTensor(ps, "exp_avg_sq"), DType.F32));
                    state.put((long) fileIndex, s);
                }
                fileIndex++;
            }
            group.put("lr", readDouble(options, "lr"));
            IValue betas = new IValue();
            options.read("betas", betas);
            var tuple = betas.toTupleRef().elements();
            group.put("betas", PyTuple.of(tuple.get(0).toDouble(), tuple.get(1).toDouble()));
            group.put("eps", readDouble(options, "eps"));
            group.put("weight_decay", readDouble(options, "weight_decay"));
            IValue ams = new IValue();
            options.read("amsgrad", ams);
            group.put("amsgrad", ams.toBool());
            // the rest of PyTorch's AdamW group keys (1.13 to 2.x) at its defaults: older versions ignore the newer
            // ones, and torch >= 2.6's AdamW sets decoupled_weight_decay itself
            group.put("foreach", null);
            group.put("maximize", false);
            group.put("capturable", false);
            group.put("differentiable", false);
            group.put("fused", null);
            group.put("decoupled_weight_decay", true);
            group.put("params", indices);
        }
        LinkedHashMap<String, Object> sd = new LinkedHashMap<>();
        sd.put("state", state);
        sd.put("param_groups", new ArrayList<>(List.of(group)));
        return sd;
    }

    /**
     * Loads PyTorch's AdamW state dict into {@code opt}. {@code names} and {@code shapes}: the optimizer's parameters in
     * its order and their shapes; {@code torchOrder}: the model's parameter names in Python's order. A state whose
     * parameter count, or any moment's shape, does not match is refused with the parameter's name; so is a state of
     * another optimizer (no exp_avg_sq) or one with features libtorch's AdamW lacks (maximize, amsgrad moments).
     */
    public static void load(AdamW opt, List<String> names, Map<String, long[]> shapes, List<String> torchOrder,
                            Map<?, ?> sd, Path file, org.bytedeco.pytorch.Device device) {
        String where = file + ": the optimizer state";
        if (!(sd.get("param_groups") instanceof List<?> groups) || !(sd.get("state") instanceof Map<?, ?> state))
            throw new UserError(where + " is not a PyTorch optimizer state dict (no state/param_groups); delete the file or pass --from_resume 0");
        if (groups.size() != 1 || !(groups.get(0) instanceof Map<?, ?> group) || !(group.get("params") instanceof List<?> params))
            throw new UserError(where + " has " + groups.size() + " parameter groups; this trainer uses one (MiniMind's optim.AdamW(model.parameters()))");
        // the optimizer's parameters, in the model's (Python) order: file index i is the i-th of these
        List<String> ordered = new ArrayList<>();
        for (String name : torchOrder) if (names.contains(name)) ordered.add(name);
        if (params.size() != ordered.size())
            throw new UserError(where + " covers " + params.size() + " parameters, this model has " + ordered.size()
                    + (params.size() < ordered.size() ? " (first without a slot: " + ordered.get(params.size()) + ")" : "")
                    + "; it was written for another model: pass the same model flags, or --from_resume 0");
        if (Boolean.TRUE.equals(group.get("maximize")))
            throw new UserError(where + " was written with maximize=True, which this trainer does not do");
        if (Boolean.TRUE.equals(group.get("amsgrad")))
            throw new UserError(where + " was written with amsgrad=True, which this trainer does not do");
        Map<String, Moments> moments = new HashMap<>();
        for (int slot = 0; slot < params.size(); slot++) {
            Object index = params.get(slot);
            String name = ordered.get(slot);
            Object entry = state.get(index instanceof Number num ? Long.valueOf(num.longValue()) : index);
            if (entry == null) continue;  // a parameter that never had a gradient: PyTorch keeps no state for it either
            if (!(entry instanceof Map<?, ?> s) || !(s.get("exp_avg") instanceof HostTensor m) || !(s.get("exp_avg_sq") instanceof HostTensor v))
                throw new UserError(where + " for " + name + " (index " + index + ") has no exp_avg/exp_avg_sq: not AdamW's");
            long[] want = shapes.get(name);
            for (HostTensor t : List.of(m, v))
                if (!Arrays.equals(t.shape(), want))
                    throw new UserError(where + " for " + name + " (index " + index + ") has shape " + Arrays.toString(t.shape())
                            + ", the parameter is " + Arrays.toString(want) + "; it was written for another model: pass the same model flags, or --from_resume 0");
            moments.put(name, new Moments(stepOf(s.get("step"), where, name), Weights.toTensor(m, ScalarType.Float), Weights.toTensor(v, ScalarType.Float)));
        }
        try (PointerScope scope = new PointerScope()) {
            OutputArchive out = new OutputArchive();
            out.write("pytorch_version", new IValue("1.5.0"));
            OutputArchive st = new OutputArchive(out.compilation_unit());
            OutputArchive groupsOut = new OutputArchive(out.compilation_unit());
            groupsOut.write("param_groups/size", torch.scalar_tensor(new org.bytedeco.pytorch.Scalar(1L), new org.bytedeco.pytorch.TensorOptions(ScalarType.Long)));
            OutputArchive g = new OutputArchive(out.compilation_unit());
            g.write("params/size", torch.scalar_tensor(new org.bytedeco.pytorch.Scalar((long) names.size()), new org.bytedeco.pytorch.TensorOptions(ScalarType.Long)));
            for (int i = 0; i < names.size(); i++) {
                // any distinct keys do: libtorch pairs state entries with parameters through params/i
                String key = String.valueOf(i + 1);
                g.write("params/" + i, new IValue(key));
                Moments mo = moments.get(names.get(i));
                if (mo == null) continue;
                OutputArchive ps = new OutputArchive(out.compilation_unit());
                ps.write("step", new IValue(mo.step()));
                ps.write("exp_avg", mo.expAvg());
                ps.write("exp_avg_sq", mo.expAvgSq());
                st.write(key, ps);
            }
            OutputArchive options = new OutputArchive(out.compilation_unit());
            options.write("lr", new IValue(number(group.get("lr"), 1e-3)));
            List<?> betas = group.get("betas") instanceof List<?> b ? b : List.of(0.9, 0.999);
            options.write("betas", new IValue(org.bytedeco.pytorch.Tuple.create(
                    new IValue(number(betas.get(0), 0.9)), new IValue(number(betas.get(1), 0.999)))));
            options.write("eps", new IValue(number(group.get("eps"), 1e-8)));
            options.write("weight_decay", new IValue(number(group.get("weight_decay"), 1e-2)));
            options.write("amsgrad", new IValue(false));
            g.write("options", options);
            groupsOut.write("param_groups/0", g);
            out.write("state", st);
            out.write("param_groups", groupsOut);
            byte[] bytes = bytesOf(out);
            InputArchive in = new InputArchive();
            BytePointer p = new BytePointer(bytes.length);
            p.put(bytes);
            in.load_from(p, bytes.length, new DeviceOptional(device));
            opt.load(in);
        } finally {
            for (Moments m : moments.values()) {
                m.expAvg().close();
                m.expAvgSq().close();
            }
        }
    }

    /** Loads one of this project's older resume files: libtorch's own AdamW archive, kept as bytes. */
    public static void loadLibtorchArchive(AdamW opt, byte[] archive, org.bytedeco.pytorch.Device device) {
        try (PointerScope scope = new PointerScope()) {
            InputArchive in = new InputArchive();
            BytePointer p = new BytePointer(archive.length);
            p.put(archive);
            in.load_from(p, archive.length, new DeviceOptional(device));
            opt.load(in);
        }
    }

    private static long stepOf(Object step, String where, String name) {
        // torch >= 1.12 stores a 0-dim float tensor; older versions a Python int
        if (step instanceof Number n) return n.longValue();
        if (step instanceof HostTensor h && h.shape().length == 0) {
            Tensor t = Weights.toTensor(h, ScalarType.Double);
            double d = t.item_double();
            t.close();
            if (d >= 0 && d == Math.rint(d)) return (long) d;
        }
        throw new UserError(where + " for " + name + " has step " + step + ": expected a count");
    }

    private static double number(Object o, double fallback) {
        return o instanceof Number n ? n.doubleValue() : fallback;
    }

    /** Saves the optimizer into an archive in memory and opens it for reading. */
    private static InputArchive roundTrip(AdamW opt) {
        OutputArchive out = new OutputArchive();
        opt.save(out);
        byte[] bytes = bytesOf(out);
        InputArchive in = new InputArchive();
        BytePointer p = new BytePointer(bytes.length);
        p.put(bytes);
        // CPU copies of the moments, wherever the run trains
        in.load_from(p, bytes.length, new DeviceOptional(new org.bytedeco.pytorch.Device(torch.DeviceType.CPU)));
        return in;
    }

    private static byte[] bytesOf(OutputArchive out) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ArchiveWriter writer = new ArchiveWriter() {
            @Override
            public long call(Pointer data, long size) {
                byte[] chunk = new byte[(int) size];
                new BytePointer(data).capacity(size).get(chunk);
                buf.write(chunk, 0, chunk.length);
                return size;
            }
        };
        out.save_to(writer);
        writer.close();
        return buf.toByteArray();
    }

    private static String[] keys(InputArchive a) {
        var v = a.keys();
        String[] k = new String[(int) v.size()];
        for (int i = 0; i < k.length; i++) k[i] = v.get(i).getString();
        return k;
    }

    private static long readLong(InputArchive a, String key) {
        IValue v = new IValue();
        a.read(key, v);
        if (v.isTensor()) return v.toTensor().item_long();
        return v.toInt();
    }

    private static double readDouble(InputArchive a, String key) {
        IValue v = new IValue();
        a.read(key, v);
        return v.toDouble();
    }

    private static String stringValue(InputArchive a, String key) {
        IValue v = new IValue();
        a.read(key, v);
        return v.toStringRef().getString();
    }

    private static Tensor readTensor(InputArchive a, String key) {
        Tensor t = new Tensor();
        a.read(key, t);
        return t;
    }

    /** The names of {@code opt}'s parameters, found by storage among the model's named parameters. */
    public static List<String> namesOf(AdamW opt, Map<String, Tensor> named) {
        TensorVector ps = opt.param_groups().get(0).params();
        Map<Long, String> byPtr = new HashMap<>();
        for (Map.Entry<String, Tensor> e : named.entrySet()) byPtr.put(e.getValue().data_ptr().address(), e.getKey());
        List<String> out = new ArrayList<>();
        for (long i = 0; i < ps.size(); i++) {
            String n = byPtr.get(ps.get(i).data_ptr().address());
            if (n == null) throw new IllegalStateException("optimizer parameter " + i + " is not one of the model's");
            out.add(n);
        }
        return out;
    }
}
