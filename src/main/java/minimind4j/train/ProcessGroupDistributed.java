package minimind4j.train;

import minimind4j.UserError;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import minimind4j.engine.Precision;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch_cuda;
import org.bytedeco.pytorch.nccl.ProcessGroupNCCL;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Data parallelism over libtorch's c10d, set up from the variables torchrun sets (RANK, LOCAL_RANK, WORLD_SIZE,
 * MASTER_ADDR, MASTER_PORT): the Gloo backend for CPU runs, NCCL for CUDA runs (each rank on cuda:LOCAL_RANK), as
 * MiniMind's {@code dist.init_process_group(backend="nccl")}. Rendezvous is a TCPStore served by rank 0. Gradients are averaged with
 * bucketed allreduces (~25 MB each, DDP's default bucket size) issued together and waited on together; ranks start
 * from rank 0's weights by broadcast. Every collective has a timeout, so a dead rank ends the others with an error
 * instead of a hang.
 */
public final class ProcessGroupDistributed implements Distributed {
    private static final long BUCKET_BYTES = 25L << 20;

    private final int rank;
    private final int worldSize;
    private final TCPStore store;
    private final Backend group;
    private final Precision precision;
    private final long timeoutMs;
    private double commSeconds;
    private long reductions;
    private HostShare hostShare = new HostShare(1, 0);

    private ProcessGroupDistributed(int rank, int worldSize, TCPStore store, Backend group, Precision precision, long timeoutMs) {
        this.rank = rank;
        this.worldSize = worldSize;
        this.store = store;
        this.group = group;
        this.precision = precision;
        this.timeoutMs = timeoutMs;
    }

    /** Joins the group described by torchrun's environment variables; {@code precision} says CPU (Gloo) or CUDA (NCCL). */
    public static ProcessGroupDistributed fromEnvironment(Map<String, String> env, long timeoutMs, Precision precision) {
        int rank = intVar(env, "RANK"), world = intVar(env, "WORLD_SIZE");
        String addr = env.getOrDefault("MASTER_ADDR", "127.0.0.1");
        int port = env.containsKey("MASTER_PORT") ? intVar(env, "MASTER_PORT") : 29500;
        if (rank < 0 || rank >= world) throw new UserError("RANK=" + rank + " is outside 0.." + (world - 1));
        // libtorch reads TORCH_CPP_LOG_LEVEL (the launcher sets ERROR for its workers) only when asked to
        torch.initLogging();
        try {
            TCPStoreOptions so = new TCPStoreOptions();
            so.port((short) port).isServer(rank == 0).waitWorkers(false).timeout(new Milliseconds(timeoutMs));
            TCPStore store = new TCPStore(addr, so);
            Backend pg;
            if (precision.cuda()) {
                torch_cuda.set_device((byte) precision.cudaIndex());
                ProcessGroupNCCL.Options o = ProcessGroupNCCL.Options.create();
                o.timeout(new Milliseconds(timeoutMs));
                pg = new ProcessGroupNCCL(store, rank, world, o);
            } else {
                ProcessGroupGloo.Options o = ProcessGroupGloo.Options.create(new Milliseconds(timeoutMs));
                String host = env.getOrDefault("MINIMIND_GLOO_HOST", isLoopback(addr) ? "127.0.0.1" : addressTowards(addr, port));
                o.devices().push_back(ProcessGroupGloo.createDeviceForHostname(host));
                pg = new ProcessGroupGloo(store, rank, world, o);
            }
            ProcessGroupDistributed d = new ProcessGroupDistributed(rank, world, store, pg, precision, timeoutMs);
            d.hostShare = d.shareHost(machineId());
            return d;
        } catch (RuntimeException | java.io.IOException e) {
            throw new UserError("rank " + rank + ": cannot join the process group at " + addr + ":" + port + " (" + firstLine(e.getMessage()) + ")");
        }
    }

    /**
     * This machine's address on the route to the master (what the kernel would send from), which is the one the
     * other ranks can reach: the hostname's address may be loopback (127.0.1.1 in /etc/hosts) or belong to another
     * interface or network namespace. A UDP connect sends nothing.
     */
    static String addressTowards(String masterAddr, int port) throws java.io.IOException {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket()) {
            s.connect(new java.net.InetSocketAddress(masterAddr, port));
            java.net.InetAddress local = s.getLocalAddress();
            if (local == null || local.isAnyLocalAddress()) throw new java.io.IOException("no route to " + masterAddr);
            return local.getHostAddress();
        }
    }

    /**
     * What identifies the machine (its CPUs): the kernel's boot id, shared by network namespaces and containers on
     * one host and different across hosts; the hostname where there is none.
     */
    static String machineId() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
        } catch (java.io.IOException | RuntimeException e) {
            try {
                return java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e2) {
                return "unknown";
            }
        }
    }

    /** Which ranks share this machine: every rank contributes a hash of its machine id at its own index (one allreduce). */
    private HostShare shareHost(String machine) {
        double[] ids = new double[worldSize];
        ids[rank] = (machine.hashCode() & 0xffffffffL) + 1;  // exact in a double, never 0
        double[] all = sum(ids);
        int ranks = 0, index = 0;
        for (int r = 0; r < worldSize; r++) {
            if (all[r] != ids[rank]) continue;
            ranks++;
            if (r < rank) index++;
        }
        return new HostShare(ranks, index);
    }

    @Override
    public HostShare hostShare() { return hostShare; }

    private static boolean isLoopback(String addr) {
        return addr.startsWith("127.") || addr.equals("localhost") || addr.equals("::1");
    }

    private static int intVar(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null) throw new UserError(name + " is not set (set RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, or use --nproc_per_node)");
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UserError(name + "=" + v + " is not a number");
        }
    }

    /** The first line of a libtorch error, without the "[/path/of/the/build/gloo/.../pair.cc:547] " it starts with. */
    static String firstLine(String s) {
        if (s == null) return "no message";
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.replaceFirst("^\\[[^\\]\\s]*\\.(?:cc|cpp|h|hpp):\\d+] ", "");
    }

    @Override
    public int rank() { return rank; }

    @Override
    public int worldSize() { return worldSize; }

    @Override
    public void broadcastParameters(MiniMindLM model) {
        try (PointerScope s = Torch.scope()) {
            List<Work> works = new ArrayList<>();
            for (Tensor p : model.namedParameters().values()) {
                BroadcastOptions o = new BroadcastOptions();
                o.rootRank(0).timeout(new Milliseconds(timeoutMs));
                works.add(group.broadcast(new TensorVector(p.detach()), o));
            }
            for (Work w : works) await(w, "broadcast of the initial weights");
        }
    }

    @Override
    public void averageGradients(TensorVector trainable) {
        long t0 = System.nanoTime();
        try (PointerScope s = Torch.scope()) {
            List<Tensor> grads = new ArrayList<>();
            for (long i = 0; i < trainable.size(); i++) {
                Tensor p = trainable.get(i);
                Tensor g = p.grad();
                if (!g.defined()) {
                    // a parameter without a gradient this step (an unused MoE expert) still takes part, as zeros
                    g = torch.zeros_like(p);
                    p.mutable_grad().put(g);
                }
                grads.add(g);
            }
            List<List<Tensor>> buckets = new ArrayList<>();
            List<Tensor> current = new ArrayList<>();
            long bytes = 0;
            for (Tensor g : grads) {
                current.add(g);
                bytes += g.nbytes();
                if (bytes >= BUCKET_BYTES) {
                    buckets.add(current);
                    current = new ArrayList<>();
                    bytes = 0;
                }
            }
            if (!current.isEmpty()) buckets.add(current);
            List<Tensor> flats = new ArrayList<>();
            List<Work> works = new ArrayList<>();
            for (List<Tensor> b : buckets) {
                TensorVector parts = new TensorVector();
                for (Tensor g : b) parts.push_back(g.reshape(-1));
                Tensor flat = torch.cat(parts);
                flats.add(flat);
                AllreduceOptions o = new AllreduceOptions();
                o.timeout(new Milliseconds(timeoutMs));
                works.add(group.allreduce(new TensorVector(flat), o));
            }
            for (int i = 0; i < buckets.size(); i++) {
                await(works.get(i), "gradient allreduce");
                Tensor avg = flats.get(i).div(Torch.scalar(worldSize));
                long off = 0;
                for (Tensor g : buckets.get(i)) {
                    long n = g.numel();
                    g.copy_(avg.narrow(0, off, n).view(Torch.shape(g)));
                    off += n;
                }
            }
        }
        commSeconds += (System.nanoTime() - t0) / 1e9;
        reductions++;
    }

    /** Seconds spent averaging gradients (communication plus packing) per optimizer step so far. */
    public double commSecondsPerStep() { return reductions == 0 ? 0 : commSeconds / reductions; }

    private void await(Work w, String what) {
        try {
            w._wait(new Milliseconds(timeoutMs));
        } catch (RuntimeException e) {
            throw new UserError("rank " + rank + ": " + what + " failed, another rank probably stopped (" + firstLine(e.getMessage()) + ")");
        }
    }

    @Override
    public boolean any(boolean flag) {
        try (PointerScope s = Torch.scope()) {
            Tensor t = precision.to(Torch.floats(new float[]{flag ? 1f : 0f}, 1));
            AllreduceOptions o = new AllreduceOptions();
            o.timeout(new Milliseconds(timeoutMs));
            await(group.allreduce(new TensorVector(t), o), "stop agreement");
            return t.item_float() > 0;
        }
    }

    @Override
    public double[] sum(double[] values) {
        try (PointerScope s = Torch.scope(); DoublePointer p = new DoublePointer(values)) {
            Tensor t = precision.to(torch.from_blob(p, new long[]{values.length}, new TensorOptions(ScalarType.Double)).clone());
            AllreduceOptions o = new AllreduceOptions();
            o.timeout(new Milliseconds(timeoutMs));
            await(group.allreduce(new TensorVector(t), o), "allreduce of step statistics");
            Tensor c = t.cpu().contiguous();
            double[] out = new double[values.length];
            new DoublePointer(c.data_ptr_double()).capacity(out.length).get(out);
            return out;
        }
    }

    @Override
    public int max(int value) {
        try (PointerScope s = Torch.scope()) {
            Tensor t = precision.to(Torch.floats(new float[]{value}, 1));
            AllreduceOptions o = new AllreduceOptions();
            o.reduceOp(new org.bytedeco.pytorch.ReduceOp(org.bytedeco.pytorch.ReduceOp.RedOpType.MAX)).timeout(new Milliseconds(timeoutMs));
            await(group.allreduce(new TensorVector(t), o), "stop agreement");
            return Math.round(t.item_float());
        }
    }

    @Override
    public void barrier() {
        try (PointerScope s = Torch.scope()) {
            await(group.barrier(), "barrier");
        }
    }

    @Override
    public void close() {
        try {
            group.shutdown();
        } catch (RuntimeException ignored) {
            // already broken by a dead peer: nothing left to tear down cleanly
        }
        store.close();
    }
}
