package minimind4j.train;

import minimind4j.checkpoint.SameWeights;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Pth;
import minimind4j.cli.Minimind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Training under bf16 autocast (fp32 master weights and AdamW state) tracks fp32: the bundled demo model fine-tuned for
 * 50 steps on the demo data, once in each precision, from the same pretrained weights and the same batches. bf16 runs
 * on a CPU as on CUDA (--dtype bfloat16 against --dtype float32, both named: the default would be either, by machine);
 * on a CPU without native bf16 libtorch emulates it (slower, the same numbers), so this test runs on every machine. A gradient-accumulation run and a resumed run in bf16 are checked too.
 */
class Bf16TrainingTest {
    @TempDir
    static Path dir;

    static final Path DEMO = Path.of("demo");

    static String[] demoSft(Path save, int steps, String... extra) {
        List<String> a = new ArrayList<>(List.of("sft", "--data_path", DEMO.resolve("sft.jsonl").toString(),
                "--tokenizer_path", DEMO.resolve("tokenizer").toString(), "--from_weight", DEMO.resolve("weights/pretrain_128.pth").toString(),
                "--save_dir", save.toString(), "--max_seq_len", "128", "--learning_rate", "1e-3", "--epochs", "1",
                "--max_steps", String.valueOf(steps), "--log_interval", "1", "--num_threads", "1", "--device", "cpu", "--dtype", "float32"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    /** The logged training loss of every step, from the metrics CSV. */
    static List<Double> losses(Path save) {
        return MetricsCsv.read(save.resolve("full_sft_128_metrics.csv")).stream().map(MetricsCsv.Row::loss).toList();
    }

    /**
     * Tolerances: each step's loss within 2.5% of fp32's, the mean of the last 10 steps within 0.5% (measured on an AMD
     * EPYC, bf16 emulated: worst step 0.77%, last-10 mean 0.06%). Both curves fall.
     */
    @Test
    void fiftyDemoStepsInBf16TrackTheFp32LossCurve() throws Exception {
        Path fp32 = dir.resolve("fp32"), bf16 = dir.resolve("bf16");
        assertEquals(0, Minimind.run(demoSft(fp32, 50, "--batch_size", "16")));
        assertEquals(0, Minimind.run(TrainerTest.bf16(demoSft(bf16, 50, "--batch_size", "16"))));
        List<Double> a = losses(fp32), b = losses(bf16);
        assertEquals(50, a.size());
        assertEquals(50, b.size());
        double worst = 0, lastA = 0, lastB = 0;
        for (int i = 0; i < 50; i++) {
            worst = Math.max(worst, Math.abs(b.get(i) - a.get(i)) / a.get(i));
            if (i >= 40) {
                lastA += a.get(i) / 10;
                lastB += b.get(i) / 10;
            }
        }
        System.out.printf("bf16 vs fp32 over 50 demo steps: worst step %.4f, last-10 mean %.4f vs %.4f (%.4f)%n",
                worst, lastB, lastA, Math.abs(lastB - lastA) / lastA);
        assertTrue(worst < 0.025, "a bf16 step's loss is " + worst + " off fp32's: " + a + " vs " + b);
        assertTrue(Math.abs(lastB - lastA) / lastA < 0.005, "last-10 means " + lastA + " (fp32) vs " + lastB + " (bf16)");
        // the fine-tuning actually moves the loss, so tracking means something
        assertTrue(lastA < a.get(0) * 0.9 && lastB < b.get(0) * 0.9, "both curves fall: " + a.get(0) + " -> " + lastA + ", " + b.get(0) + " -> " + lastB);
        // the fp32 master weights: bf16 runs the forward and backward, the update itself lands in fp32, so the weights
        // end near fp32's, measured against how far training moved them
        double rel = updateDistance(resumeModel(fp32), resumeModel(bf16));
        System.out.printf("bf16 vs fp32 final weights: |difference| / |update| = %.4f%n", rel);
        assertTrue(rel < WEIGHT_TOLERANCE, "bf16's final weights are " + rel + " of the update away from fp32's");
        // bf16 is not silently fp32: the curves are close but not the same numbers
        assertNotEquals(a, b, "the bf16 run computed exactly what fp32 did: autocast was not on");
    }

    /**
     * In bf16, 2 micro-batches of 4 accumulated give (close to) the update of one batch of 8: the same samples
     * (MiniMind's order, no length grouping), token-weighted averaging, the same schedule. Measured against the size
     * of the update itself, since bf16 rounds the two batch shapes differently.
     */
    @Test
    void bf16GradientAccumulationGivesTheUpdateOfTheLargerBatch() throws Exception {
        Path one = dir.resolve("acc1"), two = dir.resolve("acc2");
        String[] common = {"--group_by_length", "0", "--loss_average", "tokens"};
        assertEquals(0, Minimind.run(concat(TrainerTest.bf16(demoSft(one, 4, "--batch_size", "8", "--accumulation_steps", "1")), common)));
        assertEquals(0, Minimind.run(concat(TrainerTest.bf16(demoSft(two, 8, "--batch_size", "4", "--accumulation_steps", "2")), common)));
        double rel = updateDistance(resumeModel(one), resumeModel(two));
        System.out.printf("bf16 accumulation 2x4 vs 1x8 after 4 updates: |difference| / |update| = %.4f%n", rel);
        assertTrue(rel < 0.05, "accumulated bf16 update differs from the larger batch's by " + rel + " of the update");
    }

    /**
     * A bf16 run with accumulation 2 stopped after step 3 (mid-window: the resume file holds step 2, step 3 is redone)
     * and resumed ends bit-identical to the uninterrupted run.
     */
    @Test
    void bf16RunResumesExactly() throws Exception {
        Path full = dir.resolve("resfull"), parts = dir.resolve("resparts");
        String[] common = {"--batch_size", "8", "--accumulation_steps", "2"};
        assertEquals(0, Minimind.run(concat(TrainerTest.bf16(demoSft(full, 8)), common)));
        assertEquals(0, Minimind.run(concat(TrainerTest.bf16(demoSft(parts, 3)), common)));
        // no --dtype on resume: the checkpoint's recorded bfloat16 is reused
        assertEquals(0, Minimind.run(concat(TrainerTest.without(demoSft(parts, 6, "--from_resume", "1"), "--dtype"), common)));  // --max_steps counts this run's steps
        Map<String, HostTensor> wf = resumeModel(full), wp = resumeModel(parts);
        SameWeights.assertBitIdentical(wf, wp, "the resumed bf16 run against the uninterrupted one");
        assertEquals(8, losses(parts).size(), "the resumed run's metrics continue the stopped run's: " + losses(parts));
        assertEquals(losses(full), losses(parts), "the resumed steps log the same losses");
    }

    /**
     * Measured here: 0.036 after the 50 demo steps; with the update rounded to bf16 master weights (a planted bug) 0.154,
     * while that bug's loss curve still stayed inside the loss tolerances (worst step 1.6%).
     */
    static final double WEIGHT_TOLERANCE = 0.07;

    /** |a - b| / |a - start| over every weight: how far apart two runs ended, as a share of how far training moved. */
    static double updateDistance(Map<String, HostTensor> a, Map<String, HostTensor> b) throws Exception {
        Map<String, HostTensor> start = Pth.readStateDict(DEMO.resolve("weights/pretrain_128.pth"));
        double diff = 0, update = 0;
        for (String k : a.keySet()) {
            float[] x = a.get(k).toFloatArray(), y = b.get(k).toFloatArray(), s = start.get(k).toFloatArray();
            for (int i = 0; i < x.length; i++) {
                diff += (double) (x[i] - y[i]) * (x[i] - y[i]);
                update += (double) (x[i] - s[i]) * (x[i] - s[i]);
            }
        }
        assertTrue(update > 0, "the weights moved");
        return Math.sqrt(diff / update);
    }

    /** The fp32 master weights a run ends with (its resume file's 'model'). */
    @SuppressWarnings("unchecked")
    static Map<String, HostTensor> resumeModel(Path save) throws Exception {
        Map<String, Object> root = (Map<String, Object>) Pth.read(save.resolve("full_sft_128_resume.pth"));
        return (Map<String, HostTensor>) root.get("model");
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
