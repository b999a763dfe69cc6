package minimind4j.train;

import minimind4j.TestPaths;
import minimind4j.checkpoint.SameWeights;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Pth;
import minimind4j.cli.CliRun;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * minimind-3 MoE end to end through the CLI with MiniMind's minimind-3 tokenizer: a fresh model trains (aux loss
 * logged, the padding note printed), a run stopped and resumed ends on the uninterrupted run's weights, and the resume
 * file's optimizer state is indexed in the PyTorch module's parameter order (the router before the experts).
 */
class Minimind3MoeTrainingTest {
    @TempDir
    Path dir;

    String dtype = "float32";

    String[] args(Path save, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("sft", "--data_path", dir.resolve("sft.jsonl").toString(),
                "--tokenizer_path", TestPaths.minimind3().toString(), "--save_dir", save.toString(), "--model_family", "minimind3",
                "--use_moe", "1", "--hidden_size", "32", "--num_hidden_layers", "2", "--max_seq_len", "48", "--log_interval", "1",
                "--num_threads", "1", "--dtype", dtype, "--epochs", "1", "--batch_size", "4", "--from_weight", "none", "--learning_rate", "2e-3"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    /** In bf16 too (MoE under autocast once crashed in index_add: bf16 expert outputs into the fp32 sum); bit-exact either way. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"float32", "bfloat16"})
    void aStoppedAndResumedMoeRunEndsOnTheUninterruptedRunsWeights(String dtype) throws Exception {
        this.dtype = dtype;
        Files.write(dir.resolve("sft.jsonl"), TrainerTest.additions(16, 40, 3));
        Path full = dir.resolve("full"), parts = dir.resolve("parts");
        CliRun r = CliRun.of(args(full));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("note: MoE aux loss averages over padding too"), r.out());
        assertTrue(r.out().matches("(?s).*aux_loss: 0\\.0[0-9]*[1-9].*"), "a non-zero aux loss is logged: " + r.out());
        assertEquals(0, CliRun.of(args(parts, "--max_steps", "2")).code());
        CliRun resumed = CliRun.of(args(parts, "--from_resume", "1"));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resuming from"), resumed.out());
        Map<String, HostTensor> a = Pth.readStateDict(full.resolve("full_sft_32_moe.pth")), b = Pth.readStateDict(parts.resolve("full_sft_32_moe.pth"));
        SameWeights.assertBitIdentical(a, b);

        @SuppressWarnings("unchecked")
        Map<String, Object> root = (Map<String, Object>) Pth.read(parts.resolve("full_sft_32_moe_resume.pth"));
        Map<?, ?> state = (Map<?, ?>) ((Map<?, ?>) root.get("optimizer")).get("state");
        ModelConfig c = ModelConfig.minimind3(32, 2, true);
        List<String> order = MiniMindLM.pythonParameterOrder(c);
        assertEquals(order.size(), state.size());
        int gate = order.indexOf("model.layers.0.mlp.gate.weight");
        assertEquals(order.indexOf("model.layers.0.post_attention_layernorm.weight") + 1, gate, "the router comes right before the experts");
        HostTensor m = (HostTensor) ((Map<?, ?>) state.get((long) gate)).get("exp_avg");
        assertEquals(List.of(4L, 32L), java.util.Arrays.stream(m.shape()).boxed().toList());
    }
}
