package minimind4j.train;

import minimind4j.CliProcess;
import minimind4j.TestPaths;
import minimind4j.checkpoint.ResumeCheckpoint;
import minimind4j.checkpoint.Weights;
import minimind4j.cli.CliRun;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code minimind dpo --nproc_per_node 2} (two worker processes over Gloo, as a user launches it): each rank's loss is
 * the mean over its pairs, DDP averages the gradients, so two ranks of 2 pairs take the update one process takes with
 * the same 4 pairs; the logged loss and rewards are the global batch's.
 */
class DpoDistributedTest {
    @TempDir
    static Path dir;

    @Test
    void twoRanksOfTwoPairsTakeTheUpdateOfOneProcessOfFour() throws Exception {
        ModelConfig c = ModelConfig.minimind2(64, 2, false).withVocabSize(6400);
        Path start = dir.resolve("start.pth");
        try (MiniMindLM m = MiniMindLM.init(c, 9)) {
            Weights.saveHalf(start, m);
        }
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 8; i++)
            lines.add("{\"prompt\": \"What is " + i + " plus " + i + "?\", \"chosen\": \"" + i + " plus " + i + " is " + (2 * i) + ".\", \"rejected\": \""
                    + "It is " + (2 * i + 1) + (i % 2 == 0 ? ", I think." : ".") + "\"}");
        Path data = Files.write(dir.resolve("pairs.jsonl"), lines);
        Path two = dir.resolve("two"), one = dir.resolve("one");
        List<String> common = List.of("dpo", "--data_path", data.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                "--from_weight", start.toString(), "--learning_rate", "1e-3", "--dtype", "float32", "--log_interval", "1", "--epochs", "1");
        List<String> a = new ArrayList<>(common);
        a.addAll(List.of("--save_dir", two.toString(), "--batch_size", "2", "--nproc_per_node", "2", "--master_port", String.valueOf(StepGradients.freePort())));
        Process p = CliProcess.start(two, List.of(), a);
        List<String> b = new ArrayList<>(common);
        b.addAll(List.of("--save_dir", one.toString(), "--batch_size", "4", "--num_threads", "1"));
        CliRun r = CliRun.of(b.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), CliProcess.log(two));
        assertEquals(0, p.exitValue(), CliProcess.log(two));

        List<String> csvTwo = Files.readAllLines(two.resolve("dpo_64_metrics.csv")), csvOne = Files.readAllLines(one.resolve("dpo_64_metrics.csv"));
        assertEquals(3, csvTwo.size(), String.join("\n", csvTwo));
        List<String> header = List.of(csvOne.get(0).split(","));
        for (int row = 1; row < 3; row++) {
            String[] x = csvTwo.get(row).split(","), y = csvOne.get(row).split(",");
            for (String col : List.of("loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins"))
                assertEquals(Double.parseDouble(y[header.indexOf(col)]), Double.parseDouble(x[header.indexOf(col)]), 1e-5, "step " + row + " " + col);
        }
        Map<String, float[]> before = DpoTorchParityTest.weights(Weights.load(start, c, true, null));
        Map<String, float[]> ddp = DpoTorchParityTest.weights(ResumeCheckpoint.load(two.resolve("dpo_64_resume.pth"), c, 2).model());
        Map<String, float[]> single = DpoTorchParityTest.weights(ResumeCheckpoint.load(one.resolve("dpo_64_resume.pth"), c, 1).model());
        double d = DpoTorchParityTest.updateDifference(before, ddp, single);
        System.out.printf("dpo 2 ranks x 2 pairs vs 1 x 4: relative L2 of the update %.2e%n", d);
        assertTrue(d < 1e-4, "2 ranks' update differs from one process's by " + d);
    }
}
