package minimind4j.train;

import minimind4j.ChildJvm;
import minimind4j.TestPaths;
import minimind4j.checkpoint.SameWeights;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Pth;
import minimind4j.cli.Minimind;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Real stop signals sent with kill(1) to a training JVM: Ctrl-C (SIGINT), what docker/systemd/Kubernetes/SLURM send
 * before killing (SIGTERM) and a lost terminal (SIGHUP) each save a resume checkpoint at the last finished step, print
 * the continue hint and exit 128 + the signal's number; --from_resume 1 then continues exactly as an uninterrupted run.
 */
class StopSignalTest {
    @TempDir
    static Path dir;
    static Path data;

    @BeforeAll
    static void data() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 64; i++) lines.add("{\"text\":\"Sample number " + i + " is here.\"}");
        data = Files.write(dir.resolve("d.jsonl"), lines);
    }

    /** 64 samples, batch 2: 32 steps an epoch, 1000 epochs (the run never ends by itself). */
    static TinyRun run(Path save) {
        return TinyRun.pretrain(data, save).layers(1).maxSeqLen(32).batchSize(2).accumulation(1).epochs(1000).logInterval(1)
                .learningRate("1e-3").without("--device");
    }

    static String[] args(Path save, String... extra) {
        return run(save).flags(extra).args();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> resume(Path save) throws Exception {
        return resume(save, 32);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> resume(Path save, int hidden) throws Exception {
        return (Map<String, Object>) Pth.read(save.resolve("pretrain_" + hidden + "_resume.pth"));
    }

    static long number(Object o) { return ((Number) o).longValue(); }

    static List<String> temps(Path save) throws Exception {
        try (Stream<Path> s = Files.list(save)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
        }
    }

    @ParameterizedTest
    @CsvSource({"TERM, 143", "HUP, 129", "INT, 130"})
    void aStopSignalSavesAResumeCheckpointThatContinuesExactly(String signal, int status) throws Exception {
        Path save = dir.resolve("sig-" + signal);
        ChildJvm run = ChildJvm.start(dir.resolve(signal + ".log"), args(save));
        assertTrue(run.awaitOutput("Epoch:[1/1000](3/32)", 120), run.output());
        run.signal(signal);
        assertEquals(status, run.exitCode(60), run.output());
        String out = run.output();
        assertTrue(out.contains("interrupted (SIG" + signal + "): saved " + save.resolve("pretrain_32_resume.pth") + "; continue with --from_resume 1"), out);
        assertFalse(out.contains("Exception"), out);
        assertEquals(List.of(), temps(save));
        Map<String, Object> root = resume(save);
        long done = number(root.get("epoch")) * 32 + number(root.get("step"));
        assertTrue(done >= 3, "the checkpoint holds the last finished step: " + done);

        // two more steps from the checkpoint == an uninterrupted run of done + 2 steps, bit for bit
        Path reference = dir.resolve("ref-" + signal);
        assertEquals(0, Minimind.run(args(save, "--from_resume", "1", "--max_steps", "2")));
        assertEquals(0, Minimind.run(args(reference, "--max_steps", String.valueOf(done + 2))));
        @SuppressWarnings("unchecked") Map<String, HostTensor> resumed = (Map<String, HostTensor>) resume(save).get("model");
        @SuppressWarnings("unchecked") Map<String, HostTensor> straight = (Map<String, HostTensor>) resume(reference).get("model");
        SameWeights.assertBitIdentical(straight, resumed);
    }

    /**
     * A second SIGTERM while the resume checkpoint is being written (a ~60 MB save here, so the signal lands inside it):
     * the save completes, the second signal is only reported, and the file is whole.
     */
    @Test
    void aSecondSignalDuringTheSaveWaitsForIt() throws Exception {
        Path save = dir.resolve("twice");
        ChildJvm run = ChildJvm.start(dir.resolve("twice.log"), run(save).hiddenSize(256).layers(4).args());
        assertTrue(run.awaitOutput("Epoch:[1/1000](2/32)", 180), run.output());
        run.signal("TERM");
        assertTrue(run.awaitOutput("SIGTERM: saving a resume checkpoint", 120), run.output());
        run.signal("TERM");
        assertEquals(143, run.exitCode(120), run.output());
        String out = run.output();
        assertTrue(out.contains("SIGTERM: still saving the resume checkpoint, waiting for it"), out);
        assertTrue(out.contains("interrupted (SIGTERM): saved"), out);
        assertEquals(List.of(), temps(save));
        Map<String, Object> root = resume(save, 256);
        assertTrue(number(root.get("step")) >= 2, "step " + root.get("step"));
        assertEquals(0, Minimind.run(run(save).fromResume().maxSteps(1).hiddenSize(256).layers(4).args()));
    }

    /**
     * SIGTERM to the launcher of a two-process run (what a container runtime does to its main process): it passes the
     * signal to both ranks, which agree on a step, save once (rank 0) and exit 143; so does the launcher.
     */
    @Test
    void sigtermToTheLauncherOfADistributedRunStopsEveryRankAtOneStep() throws Exception {
        Path save = dir.resolve("dist");
        ChildJvm run = ChildJvm.start(dir.resolve("dist.log"), args(save, "--nproc_per_node", "2", "--master_port", "29787"));
        // 64 samples over 2 ranks of batch 2: 16 steps an epoch
        assertTrue(run.awaitOutput("Epoch:[1/1000](3/16)", 180), run.output());
        run.signal("TERM");
        assertEquals(143, run.exitCode(120), run.output());
        String out = run.output();
        assertTrue(out.contains("interrupted (SIGTERM): saved"), out);
        assertFalse(out.contains("error:"), out);
        Map<String, Object> root = resume(save);
        assertEquals(2L, number(root.get("world_size")));
        assertTrue(number(root.get("step")) >= 3, root.toString());
    }

    /**
     * kill -9 (no handler can run) at random moments of a run that saves every step, six times, each run resuming
     * the last: the files under their final names always read back whole, and the next start removes the temps left.
     */
    @Test
    void killMinus9DuringSavesNeverLeavesACorruptFile() throws Exception {
        Path save = dir.resolve("kill9");
        TinyRun kill9 = run(save).flag("--save_interval", 1).fromResume().hiddenSize(128).layers(2);
        String[] a = kill9.args();
        java.util.Random r = new java.util.Random(9);
        int leftovers = 0;
        for (int i = 0; i < 6; i++) {
            ChildJvm run = ChildJvm.start(dir.resolve("kill9-" + i + ".log"), a);
            assertTrue(run.awaitOutput("Epoch:[1/1000]", 120), run.output());
            Thread.sleep(r.nextInt(400));
            run.signal("KILL");
            assertEquals(137, run.exitCode(60));
            leftovers += temps(save).size();
            for (String name : List.of("pretrain_128.pth", "pretrain_128_resume.pth"))
                if (Files.exists(save.resolve(name))) Pth.read(save.resolve(name));  // whole, or this throws
        }
        // each start removes the stale temps of the kill before it, so only those of the last kill are left here
        boolean staleBeforeLast = !temps(save).isEmpty();
        ChildJvm last = ChildJvm.start(dir.resolve("kill9-last.log"), kill9.copy().maxSteps(1).args());
        assertEquals(0, last.exitCode(120), last.output());
        assertEquals(staleBeforeLast, last.output().contains("by an interrupted save: "), last.output());
        assertEquals(List.of(), temps(save));
        System.out.println("kill -9 x6 during per-step saves: " + leftovers + " temp file(s) left behind, all removed at the next start, no corrupt file");
    }
}
