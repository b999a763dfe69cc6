package minimind4j.cli;

import minimind4j.train.Distributed;
import minimind4j.train.TrainOptions;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** torchrun's flags: how many worker processes, and where rank 0 listens. */
public final class DistributedFlags {
    @Option(names = {"--nproc_per_node", "--nproc-per-node"}, description = "Worker processes on this machine, like torchrun (default: 1)")
    int nprocPerNode = 1;
    @Option(names = "--nnodes", description = "Machines in the run (default: 1)")
    int nnodes = 1;
    @Option(names = {"--node_rank", "--node-rank"}, description = "This machine's index among --nnodes (default: 0)")
    int nodeRank = 0;
    @Option(names = {"--master_addr", "--master-addr"}, description = "Address of rank 0 (default: 127.0.0.1)")
    String masterAddr = "127.0.0.1";
    @Option(names = {"--master_port", "--master-port"}, description = "Port of rank 0's store (default: 29500)")
    int masterPort = 29500;

    /** True when this process should spawn workers rather than train itself. */
    boolean launches() {
        return System.getenv("RANK") == null && (nprocPerNode > 1 || nnodes > 1);
    }

    int launch(CommandSpec spec, TrainOptions o) {
        throw new UserError("--nproc_per_node > 1 is not available in this build yet");
    }

    Distributed join(TrainOptions o) {
        String ws = System.getenv("WORLD_SIZE");
        if (ws == null || Integer.parseInt(ws) <= 1) return Distributed.single();
        throw new UserError("WORLD_SIZE=" + ws + ": multi-process training is not available in this build yet");
    }
}
