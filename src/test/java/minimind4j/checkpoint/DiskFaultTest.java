package minimind4j.checkpoint;

import minimind4j.checkpoint.format.Pth;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.ChildJvm;
import minimind4j.TestPaths;
import minimind4j.TestTmpfs;
import minimind4j.cli.CliRun;
import minimind4j.cli.Minimind;
import minimind4j.UserError;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.train.Metrics;
import minimind4j.train.TinyRun;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Full disks, file-size limits and read-only volumes, for real: a small tmpfs (ENOSPC, EROFS; needs root, as CI has) or
 * {@code ulimit -f} (EFBIG; any user). Every write path must end with one line naming the file, exit status 2, no
 * temporary file, the previous file intact, and never a native abort of the JVM (status 134): training runs in a
 * child JVM for that reason.
 */
class DiskFaultTest {
    @TempDir
    static Path dir;
    static Path data;

    @BeforeAll
    static void data() throws Exception {
        Random r = new Random(1);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            int a = r.nextInt(40), b = r.nextInt(40);
            lines.add("{\"conversations\":[{\"role\":\"user\",\"content\":\"What is " + a + " plus " + b + "?\"},"
                    + "{\"role\":\"assistant\",\"content\":\"" + a + " plus " + b + " is " + (a + b) + ".\"}]}");
        }
        data = Files.write(dir.resolve("sft.jsonl"), lines);
    }

    /**
     * Hidden 32, 2 layers: ~0.9 MB of weights, ~3.7 MB of resume checkpoint (fp32 model + AdamW state). Precision and
     * threads are named: the straight run is compared bit for bit with the resumed one, and {@code --dtype auto} may
     * choose differently at two starts (CI once chose bf16 for one and fp32 for the other).
     */
    static String[] args(Path save, String... extra) {
        return TinyRun.sft(data, save).fromScratch().epochs(2).batchSize(4).learningRate("2e-3").without("--device").flags(extra).args();
    }

    static List<String> temps(Path d) throws Exception {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp") || n.contains(".tmp")).toList();
        }
    }

    /** The error output of a failed run: exactly one line, "error: <file>: cannot write ...", no trace, no native abort. */
    static String oneLineError(ChildJvm run, int status) throws Exception {
        int code = run.exitCode(180);
        String out = run.output();
        assertEquals(status, code, out);
        List<String> errors = out.lines().filter(l -> l.startsWith("error:")).toList();
        assertEquals(1, errors.size(), out);
        assertFalse(out.contains("Exception") || out.contains("terminate called") || out.contains("c10::Error") || out.contains("\tat "), out);
        return errors.get(0);
    }

    /**
     * The disk fills while the resume checkpoint (model + optimizer archive) is written: one line naming it, exit 2,
     * no temp file, the previous checkpoint intact; once space is back, --from_resume 1 ends exactly where an
     * uninterrupted run ends.
     */
    @Test
    void aDiskThatFillsDuringTheResumeSaveKeepsTheLastCheckpointAndResumesExactly() throws Exception {
        Path save = dir.resolve("full");
        try (TestTmpfs fs = TestTmpfs.mount(save, "16m")) {
            assertEquals(0, Minimind.run(args(save, "--max_steps", "3")));
            byte[] before = Files.readAllBytes(save.resolve("full_sft_32_resume.pth"));
            Path filler = fs.fillLeaving(1_500_000);  // the weights (0.9 MB) still fit, the resume file (3.7 MB) does not
            ChildJvm run = ChildJvm.start(dir.resolve("full.log"), args(save, "--from_resume", "1", "--max_steps", "3"));
            String error = oneLineError(run, 2);
            assertTrue(error.startsWith("error: " + save.resolve("full_sft_32_resume.pth") + ": cannot write the resume checkpoint (No space left on device)"), error);
            assertEquals(List.of(), temps(save));
            assertArrayEquals(before, Files.readAllBytes(save.resolve("full_sft_32_resume.pth")), "the last good checkpoint is untouched");

            Files.delete(filler);
            assertEquals(0, Minimind.run(args(save, "--from_resume", "1")));
            Path straight = dir.resolve("straight");
            assertEquals(0, Minimind.run(args(straight)));
            Map<String, HostTensor> a = Pth.readStateDict(straight.resolve("full_sft_32.pth")), b = Pth.readStateDict(save.resolve("full_sft_32.pth"));
            SameWeights.assertBitIdentical(a, b);
        }
    }

    /** No room even for the weights: the first save fails on them, nothing else is attempted after, nothing is left. */
    @Test
    void aFullDiskAtTheWeightsIsOneLine() throws Exception {
        Path save = dir.resolve("tiny");
        try (TestTmpfs fs = TestTmpfs.mount(save, "256k")) {
            ChildJvm run = ChildJvm.start(dir.resolve("tiny.log"), args(save, "--max_steps", "2"));
            String error = oneLineError(run, 2);
            assertTrue(error.startsWith("error: " + save.resolve("full_sft_32.pth") + ": cannot write weights (No space left on device); free some disk space"), error);
            assertEquals(List.of(), temps(save));
            assertFalse(Files.exists(save.resolve("full_sft_32.pth")));
        }
    }

    /** ulimit -f (EFBIG), which needs no root: the same one line, no temp file. */
    @Test
    void aFileSizeLimitIsOneLine() throws Exception {
        Path save = dir.resolve("ulimit");
        ChildJvm run = ChildJvm.start(dir.resolve("ulimit.log"), "ulimit -f 1200", args(save, "--max_steps", "2"));
        String error = oneLineError(run, 2);
        assertTrue(error.startsWith("error: " + save.resolve("full_sft_32_resume.pth") + ": cannot write the resume checkpoint (File too large)"), error);
        assertEquals(List.of(), temps(save));
        assertTrue(Files.exists(save.resolve("full_sft_32.pth")), "the weights fit under the limit");
        assertFalse(Files.exists(save.resolve("full_sft_32_resume.pth")));
    }

    /** A read-only save directory (EROFS): the first write, the metrics log, is the one line. */
    @Test
    void aReadOnlySaveDirectoryIsOneLine() throws Exception {
        Path save = dir.resolve("ro");
        try (TestTmpfs fs = TestTmpfs.mount(save, "1m")) {
            fs.readOnly();
            ChildJvm run = ChildJvm.start(dir.resolve("ro.log"), args(save, "--max_steps", "1"));
            String error = oneLineError(run, 2);
            assertTrue(error.startsWith("error: " + save.resolve("full_sft_32_metrics.csv") + ": cannot write the metrics log (Read-only file system)"), error);
        }
    }

    /** The metrics log and the loss plot, each onto a disk that is full. */
    @Test
    void theMetricsLogAndThePlotOnAFullDiskAreOneLine() throws Exception {
        Path d = dir.resolve("metrics");
        try (TestTmpfs fs = TestTmpfs.mount(d, "64k")) {
            Metrics m = new Metrics(d.resolve("run_metrics.csv"), false);
            for (int i = 1; i <= 3; i++) m.log(1, i, i, 3.0 - i * 0.1, 3.0, 0, 1e-3, 100, 50, i, null);
            fs.fillLeaving(0);
            UserError plot = assertThrows(UserError.class, () -> m.plot(d.resolve("run_loss.png"), "loss"));
            assertEquals(d.resolve("run_loss.png") + ": cannot write the loss plot (No space left on device); free some disk space", plot.getMessage());
            UserError log = assertThrows(UserError.class, () -> {
                for (int i = 4; i < 100_000; i++) m.log(1, i, i, 2.0, 2.0, 0, 1e-3, 100, 50, i, null);
            });
            assertTrue(log.getMessage().startsWith(d.resolve("run_metrics.csv") + ": cannot write the metrics log (No space left on device)"), log.getMessage());
            assertEquals(List.of(), temps(d));
        }
    }

    /** minimind export onto a full disk: one line naming the file inside the export, and no half-made directory. */
    @Test
    void anExportOntoAFullDiskLeavesNothing() throws Exception {
        Path weights = dir.resolve("export-src");
        Files.createDirectories(weights);
        ModelConfig c = ModelConfig.minimind2(32, 2, false);
        try (MiniMindLM m = MiniMindLM.init(c, 1)) {
            Weights.saveHalf(weights.resolve("full_sft_32.pth"), m);
        }
        Path target = dir.resolve("export-disk");
        try (TestTmpfs fs = TestTmpfs.mount(target, "128k")) {
            CliRun r = CliRun.of("export", "--weight", weights.resolve("full_sft_32.pth").toString(), "--tokenizer_path",
                    TestPaths.minimind2().toString(), "--out_dir", target.resolve("hf").toString());
            assertEquals(2, r.code(), r.err());
            String msg = r.err().strip();
            assertEquals(1, msg.lines().count(), msg);
            assertTrue(msg.startsWith("error: " + target.resolve("hf").resolve("model.safetensors") + ": cannot write the export (No space left on device)"), msg);
            try (Stream<Path> s = Files.list(target)) {
                assertEquals(List.of(), s.toList(), "no half-made export directory");
            }
        }
    }
}
