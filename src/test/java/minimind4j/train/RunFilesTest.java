package minimind4j.train;

import minimind4j.cli.CliRun;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

    static String[] args(Path save, String... extra) {
        return TrainerTest.concat(TrainerTest.with(TrainerTest.args(save, "sft", sft, "--epochs", "2", "--batch_size", "4", "--from_weight", "none",
                "--learning_rate", "2e-3", "--accumulation_steps", "4"), "--log_interval", "1"), extra);
    }

    /** global_step:loss of every row. */
    static List<String> rows(Path csv) throws Exception {
        List<String> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(csv);
        assertEquals(Metrics.HEADER, lines.get(0));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            out.add(f[2] + ":" + f[3]);
        }
        return out;
    }

    /**
     * Stopped after step 5 with accumulation 4, the checkpoint records step 4 (step 5's gradient never reached the
     * weights) while the log already has step 5: the resumed run redoes step 5, and the log must show it once, with
     * the resumed run's value, exactly as the uninterrupted run's log.
     */
    @Test
    void aResumedRunDropsTheRowsLoggedAfterItsCheckpoint() throws Exception {
        Path parts = dir.resolve("parts"), full = dir.resolve("full");
        assertEquals(0, CliRun.of(args(parts, "--max_steps", "5")).code());
        assertEquals(5, rows(parts.resolve("full_sft_32_metrics.csv")).size());
        assertEquals(0, CliRun.of(args(parts, "--from_resume", "1")).code());
        assertEquals(0, CliRun.of(args(full)).code());
        List<String> resumed = rows(parts.resolve("full_sft_32_metrics.csv")), straight = rows(full.resolve("full_sft_32_metrics.csv"));
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
        CliRun r = CliRun.of(args(save, "--max_steps", "2"));
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
