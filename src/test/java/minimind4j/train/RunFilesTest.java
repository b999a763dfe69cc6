package minimind4j.train;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** What a run leaves in --save_dir across interruptions: each step once in the metrics, no stale temp files. */
class RunFilesTest {
    @TempDir
    static Path dir;
    static Path sft;

    @BeforeAll
    static void data() throws Exception {
        sft = Files.write(dir.resolve("sft.jsonl"), TrainerTest.additions(24, 40, 1));
    }

    static TinyRun run(Path save) {
        return TinyRun.sft(sft, save).epochs(2).batchSize(4).fromScratch().learningRate("2e-3").accumulation(4).logInterval(1);
    }

    /** global_step:loss of every row, as written. */
    static List<String> rows(TinyRun.Result r) throws Exception {
        assertEquals(Metrics.HEADER, Files.readAllLines(r.files().metrics()).get(0));
        return TrainerTest.lossColumn(r);
    }

    /**
     * Stopped after step 5 with accumulation 4, the checkpoint records step 4 (step 5's gradient never reached the
     * weights) while the log already has step 5: the resumed run redoes step 5, and the log must show it once, with
     * the resumed run's value, exactly as the uninterrupted run's log.
     */
    @Test
    void aResumedRunDropsTheRowsLoggedAfterItsCheckpoint() throws Exception {
        Path parts = dir.resolve("parts"), full = dir.resolve("full");
        assertEquals(5, rows(run(parts).maxSteps(5).ok()).size());
        List<String> resumed = rows(run(parts).fromResume().ok()), straight = rows(run(full).ok());
        assertEquals(12, straight.size());
        assertEquals(straight, resumed);
    }

    /**
     * Temp files as a save killed by kill -9 or a power cut leaves them (the names AtomicFiles gives, and those of
     * earlier versions) are removed at the next start and reported; other files, other runs' temps included, stay.
     */
    @Test
    void theRunsOwnStaleTempFilesAreRemovedAtStartAndNothingElse() throws Exception {
        Path save = dir.resolve("stale");
        Files.createDirectories(save);
        List<String> ours = List.of(".full_sft_32.pth.3fa2c1d4e5b6a798.tmp", ".full_sft_32_resume.pth.1b.tmp", "full_sft_32_resume.pth.optim.tmp",
                ".full_sft_32_metrics.csv.abc.tmp", "full_sft_32_loss.png.tmp");
        List<String> others = List.of(".pretrain_32.pth.3fa2c1d4.tmp", ".full_sft_32.pth.notHex.tmp", "notes.tmp", ".full_sft_64.pth.ab.tmp", "keep.txt");
        for (String n : ours) Files.write(save.resolve(n), new byte[1500]);
        for (String n : others) Files.write(save.resolve(n), new byte[10]);
        TinyRun.Result r = run(save).maxSteps(2).run();
        assertEquals(0, r.code(), r.err());
        String line = r.out().lines().filter(l -> l.startsWith("removed ")).findFirst().orElseThrow(() -> new AssertionError(r.out()));
        assertTrue(line.startsWith("removed 5 temp file(s) left in " + save + " by an interrupted save: "), line);
        for (String n : ours) {
            assertTrue(line.contains(n + " (1.5 KiB)"), n + " reported: " + line);
            assertFalse(Files.exists(save.resolve(n)), n);
        }
        for (String n : others) assertTrue(Files.exists(save.resolve(n)), n + " is not this run's and stays");
        try (Stream<Path> s = Files.list(save)) {
            assertEquals(others.size() + 4, s.count(), "the others + weights, resume, metrics, plot");
        }
    }
}
