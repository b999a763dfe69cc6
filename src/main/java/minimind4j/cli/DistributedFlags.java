package minimind4j.cli;

import minimind4j.UserError;

import minimind4j.engine.Precision;
import minimind4j.launch.WorkerLauncher;
import minimind4j.train.Distributed;
import minimind4j.train.ProcessGroupDistributed;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * torchrun's flags. With {@code --nproc_per_node N} the command re-launches itself as N worker processes (RANK,
 * LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set as torchrun sets them) and watches them: when one fails, the
 * others are stopped and the run ends with a one-line error. SIGINT, SIGTERM and SIGHUP sent to the launcher (what
 * docker, systemd and schedulers send to the process they started) are passed on to every worker, which agree on a step,
 * save a resume checkpoint and exit 128 + the signal's number; the launcher then exits with that status. A process started with those variables already set
 * (by torchrun-like tooling, or on another node) joins the group directly.
 */
public final class DistributedFlags {
    @Option(names = {"--nproc_per_node", "--nproc-per-node"}, description = "Worker processes on this machine, like torchrun (default: 1)")
    int nprocPerNode = 1;
    @Option(names = "--nnodes", description = "Machines in the run (default: 1)")
    int nnodes = 1;
    @Option(names = {"--node_rank", "--node-rank"}, description = "This machine's index among --nnodes (default: 0)")
    int nodeRank = 0;
    @Option(names = {"--master_addr", "--master-addr"}, description = "Address of rank 0's store (default: 127.0.0.1)")
    String masterAddr = "127.0.0.1";
    @Option(names = {"--master_port", "--master-port"}, description = "Port of rank 0's store (default: 29500)")
    int masterPort = 29500;
    @Option(names = {"--dist_timeout", "--dist-timeout"}, description = "Seconds a collective may wait for the other ranks (default: 120)")
    int distTimeout = 120;

    /** True when this process should spawn workers rather than do the work itself. */
    boolean launches() {
        return System.getenv("RANK") == null && (nprocPerNode > 1 || nnodes > 1);
    }

    /** Joins the process group when launched as a worker; otherwise the single-process trivial group. */
    Distributed join(Precision precision) {
        if (localRank() < 0) return Distributed.single();
        return ProcessGroupDistributed.fromEnvironment(System.getenv(), distTimeout * 1000L, precision);
    }

    /** LOCAL_RANK of a worker of a multi-process run (its CUDA device index), or -1 in a single-process run. */
    static int localRank() {
        String ws = System.getenv("WORLD_SIZE");
        if (System.getenv("RANK") == null || ws == null || ws.trim().equals("1")) return -1;
        try {
            return Integer.parseInt(System.getenv().getOrDefault("LOCAL_RANK", "0").trim());
        } catch (NumberFormatException e) {
            throw new UserError("LOCAL_RANK=" + System.getenv("LOCAL_RANK") + " is not a number");
        }
    }

    /**
     * The threads of this rank: the cores of its machine split between the run's ranks on that machine, however they
     * were started (--nproc_per_node, several --nnodes launchers on one host, torchrun-like tooling); ranks learn who
     * shares their machine when they join. An explicit --num_threads wins, then the count a resumed run recorded. The
     * first rank on each machine prints the split.
     *
     * @param given    the threads fixed for this rank (null: split the cores)
     * @param whyGiven where {@code given} came from, as the line names it ("--num_threads 2", "as recorded in ...")
     */
    static int threadsPerRank(Distributed dist, Integer given, String whyGiven, java.io.PrintStream out) {
        Distributed.HostShare share = dist.hostShare();
        int cores = Runtime.getRuntime().availableProcessors();
        int split = share.ranks() == 1 ? minimind4j.engine.Torch.defaultThreads() : Math.max(1, cores / share.ranks());
        int threads = given != null ? given : split;
        if (share.index() == 0) {
            String note = given == null ? ""
                    : threads * share.ranks() > cores ? " (" + whyGiven + ": " + threads * share.ranks() + " threads on " + cores + " cores, oversubscribed)"
                    : " (" + whyGiven + ")";
            out.printf(java.util.Locale.ROOT, "threads: rank %d: %d rank%s of %d on this machine share its %d cores, %d thread%s each%s%n",
                    dist.rank(), share.ranks(), share.ranks() == 1 ? "" : "s", dist.worldSize(), cores, threads, threads == 1 ? "" : "s", note);
        }
        return threads;
    }

    /** Starts the workers of this node and waits for them; the exit code is the first failure's, else 0. */
    int launch(CommandSpec spec, int threadsPerWorker) {
        return launch(spec, threadsPerWorker, Map.of());
    }

    int launch(CommandSpec spec, int threadsPerWorker, Map<String, String> extraEnv) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Minimind.class.getName());
        // the whole command line as typed (subcommand names included); workers see RANK and so do not launch again
        List<String> original = spec.root().commandLine().getParseResult().originalArgs();
        cmd.addAll(original);
        boolean threadsGiven = original.stream().anyMatch(a -> a.startsWith("--num_threads") || a.startsWith("--num-threads"));
        if (!threadsGiven && threadsPerWorker > 0) {
            cmd.add("--num_threads");
            cmd.add(String.valueOf(threadsPerWorker));
        }
        return new WorkerLauncher(cmd, nprocPerNode, nnodes, nodeRank, masterAddr, masterPort).run(extraEnv);
    }
}
