package minimind4j.launch;

import minimind4j.UserError;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * torchrun's launcher for one node: starts {@code nprocPerNode} copies of a command as the ranks of this node (RANK,
 * LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT set as torchrun sets them) and watches them: when
 * one fails, the others are stopped and the run ends with a one-line error. SIGINT, SIGTERM and SIGHUP sent to the
 * launcher are passed on to every worker, which save and exit 128 + the signal's number; the launcher then returns that
 * status.
 *
 * @param command the worker's whole command line; workers see RANK and so do not launch again
 */
public record WorkerLauncher(List<String> command, int nprocPerNode, int nnodes, int nodeRank, String masterAddr, int masterPort) {
    /** Starts the workers of this node and waits for them; the exit code is the first failure's, else 0. */
    public int run(Map<String, String> extraEnv) {
        int world = nprocPerNode * nnodes;
        List<Process> procs = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicInteger forwarded = new java.util.concurrent.atomic.AtomicInteger();
        Map<sun.misc.Signal, sun.misc.SignalHandler> previous = new java.util.LinkedHashMap<>();
        for (String name : new String[]{"INT", "TERM", "HUP"}) {
            try {
                sun.misc.Signal sig = new sun.misc.Signal(name);
                previous.put(sig, sun.misc.Signal.handle(sig, s -> {
                    forwarded.compareAndSet(0, s.getNumber());
                    for (Process q : procs) if (q.isAlive()) forward(q, s.getName());
                }));
            } catch (IllegalArgumentException unavailable) {
                // that signal keeps its default action
            }
        }
        List<Thread> pumps = new ArrayList<>();
        try {
            for (int local = 0; local < nprocPerNode; local++) {
                // stdout through a filter (Gloo's connection report), stdin and stderr as they are
                ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.INHERIT)
                        .redirectError(ProcessBuilder.Redirect.INHERIT);
                Map<String, String> env = pb.environment();
                int rank = nodeRank * nprocPerNode + local;
                env.put("RANK", String.valueOf(rank));
                env.put("LOCAL_RANK", String.valueOf(local));
                env.put("WORLD_SIZE", String.valueOf(world));
                env.put("LOCAL_WORLD_SIZE", String.valueOf(nprocPerNode));
                env.put("MASTER_ADDR", masterAddr);
                env.put("MASTER_PORT", String.valueOf(masterPort));
                if (System.console() != null) env.put("MINIMIND_TTY", "1");  // its stdout is a pipe now, ours a terminal
                // c10d's warnings (a peer address without a reverse-DNS name, ...) are not the user's business; errors stay
                env.putIfAbsent("TORCH_CPP_LOG_LEVEL", "ERROR");
                env.putAll(extraEnv);
                Process p = pb.start();
                pumps.add(WorkerOutput.pump(p.getInputStream(), System.out));
                procs.add(p);
            }
            while (true) {
                int alive = 0;
                for (int i = 0; i < procs.size(); i++) {
                    Process p = procs.get(i);
                    if (p.isAlive()) {
                        alive++;
                        continue;
                    }
                    if (p.exitValue() != 0 && forwarded.get() == 0) {
                        for (Process q : procs) if (q.isAlive()) q.destroy();
                        for (Process q : procs) if (!q.waitFor(10, TimeUnit.SECONDS)) q.destroyForcibly();
                        for (Thread t : pumps) t.join(2000);
                        // exit code 2 is a UserError the rank has already explained in its one "error:" line
                        if (p.exitValue() != 2 || procs.size() > 1)
                            System.err.println("error: rank " + (nodeRank * nprocPerNode + i) + " exited with code " + p.exitValue()
                                    + (procs.size() > 1 ? "; stopped the other ranks on this node" : "") + " (see the rank's output above)");
                        return isStopStatus(p.exitValue()) ? p.exitValue() : 1;
                    }
                }
                if (alive == 0) {
                    for (Thread t : pumps) t.join(2000);
                    // after a forwarded signal every worker saved and stopped: report the signal, or the first failure
                    int status = 0;
                    for (Process p : procs) {
                        int v = p.exitValue();
                        if (v != 0 && (status == 0 || isStopStatus(status) && !isStopStatus(v))) status = v;
                    }
                    return status == 0 || isStopStatus(status) ? status : 1;
                }
                Thread.sleep(200);
            }
        } catch (Exception e) {
            for (Process q : procs) q.destroyForcibly();
            throw new UserError("cannot start the worker processes (" + e.getMessage() + ")");
        } finally {
            previous.forEach(sun.misc.Signal::handle);
        }
    }

    /** 128 + SIGHUP/SIGINT/SIGTERM: a worker that was asked to stop, saved and stopped. */
    private static boolean isStopStatus(int status) {
        return status == 129 || status == 130 || status == 143;
    }

    /** Sends the signal the launcher received on to a worker (SIGTERM through the JDK if kill(1) is missing). */
    private static void forward(Process worker, String signalName) {
        try {
            new ProcessBuilder("kill", "-" + signalName, String.valueOf(worker.pid())).inheritIO().start();
        } catch (java.io.IOException e) {
            worker.destroy();
        }
    }
}
