package minimind4j.train;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A run that diverges for real (a learning rate of 1e5 or 1e30 on a tiny model): no checkpoint with an inf/NaN value
 * reaches the disk, a non-finite gradient norm counts as a bad step, and the exit status says the run failed.
 */
class DivergenceTest {
    @TempDir
    static Path dir;
    static Path sft;

    @BeforeAll
    static void data() throws Exception {
        sft = Files.write(dir.resolve("sft.jsonl"), TrainerTest.additions(24, 40, 1));
    }

    static TinyRun run(Path save) {
        return TinyRun.sft(sft, save).epochs(1).batchSize(4).fromScratch();
    }

    static List<String> temps(Path d) throws Exception {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
        }
    }

    /**
     * At --learning_rate 1e5 the weights reach ~1e7: finite in float32, inf in the float16 file. The save is refused
     * with one line (tensor, max |value|, what to do) and the checkpoint of the earlier, sane run stays as it was.
     */
    @Test
    void weightsBeyondFloat16AreNotSavedAndThePreviousFilesStay() throws Exception {
        Path save = dir.resolve("overflow");
        run(save).maxSteps(2).ok();
        byte[] weights = Files.readAllBytes(save.resolve("full_sft_32.pth")), resume = Files.readAllBytes(save.resolve("full_sft_32_resume.pth"));

        TinyRun.Result r = run(save).flags("--learning_rate", "1e5", "--save_interval", "1", "--max_nan_steps", "100").run();
        assertEquals(2, r.code(), r.out());
        String msg = r.err().strip();
        assertEquals(1, msg.lines().count(), msg);
        assertTrue(msg.startsWith("error: " + save.resolve("full_sft_32.pth") + ": not saved: model.embed_tokens.weight would hold "), msg);
        java.util.regex.Matcher max = java.util.regex.Pattern.compile("as float16 \\(max \\|value\\| ([0-9.e+]+), float16's largest is 65504\\)").matcher(msg);
        assertTrue(max.find(), msg);
        double largest = Double.parseDouble(max.group(1));
        assertTrue(largest > 65504 && largest < 1e30, "finite in float32, beyond float16: the cast is what overflows: " + largest);
        assertTrue(msg.contains("lower --learning_rate"), msg);
        assertArrayEquals(weights, Files.readAllBytes(save.resolve("full_sft_32.pth")));
        assertArrayEquals(resume, Files.readAllBytes(save.resolve("full_sft_32_resume.pth")));
        assertEquals(List.of(), temps(save));
    }

    /**
     * At 1e30 the loss stays finite (ln 6400) while every gradient norm is NaN: those skipped updates are bad steps, so
     * --max_nan_steps ends the run instead of letting it "finish" having learned nothing.
     */
    @Test
    void nonFiniteGradientNormsCountTowardMaxNanSteps() {
        Path save = dir.resolve("gradnan");
        TinyRun.Result r = run(save).flags("--learning_rate", "1e30", "--max_nan_steps", "3", "--save_interval", "100000").run();
        assertEquals(2, r.code(), r.out());
        assertTrue(r.out().contains("gradient norm is NaN; skipped this update"), r.out());
        assertFalse(r.out().contains("loss is NaN"), "the losses were finite: the gradient norms are what was counted\n" + r.out());
        String msg = r.err().strip();
        assertEquals(1, msg.lines().count(), msg);
        assertTrue(msg.contains("3 steps in a row had a NaN/inf loss or gradient (up to epoch 1, step 4; 3 skipped in all)"), msg);
        assertFalse(Files.exists(save.resolve("full_sft_32.pth")));
    }

    @Test
    void aRunThatSkippedStepsSaysHowManyInItsLastLine() {
        Path save = dir.resolve("some");
        TinyRun.Result r = run(save).lossFault(step -> step == 3 || step == 5).run();
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().strip().lines().toList();
        String last = lines.get(lines.size() - 1);
        assertTrue(last.startsWith("done: 6 steps in ") && last.contains(", 2 of 6 steps skipped (NaN/inf loss or gradient)"), last);
    }

    @Test
    void aRunWhoseEveryStepWasSkippedDoesNotExitZero() {
        Path save = dir.resolve("all");
        TinyRun.Result r = run(save).lossFault(step -> true).flag("--max_nan_steps", 1000).run();
        assertEquals(2, r.code(), r.out());
        assertEquals("error: all 6 steps were skipped (NaN/inf loss or gradient): nothing was learned; lower --learning_rate or check the data", r.err().strip());
    }
}
