package minimind4j.train;

import minimind4j.TestPaths;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.format.Pth;
import minimind4j.cli.Minimind;
import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import minimind4j.generate.Generator;
import minimind4j.generate.Sampling;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.model.RandomBatch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CUDA path against the CPU path. Runs only where libtorch sees a GPU (a build with -Pgpu on a machine with an
 * NVIDIA driver: see scripts/gpu_check.sh); elsewhere every test here is reported as skipped, not passed.
 */
class CudaTest {
    @TempDir
    Path dir;

    @BeforeEach
    void needsCuda() {
        assumeTrue(Torch.cudaAvailable(), "no CUDA device visible to libtorch");
    }

    @Test
    void fp32LossAndGradientsOnCudaMatchCpu() {
        ModelConfig c = ModelConfig.minimind2(64, 2, true).withVocabSize(256).withHeads(4, 2);
        RandomBatch rb = RandomBatch.of(256, 3, 20, 6, 1);
        long[][] b = {rb.ids(), rb.labels()};
        Precision cuda = Precision.resolve("cuda:0", "float32", -1);
        try (PointerScope s = Torch.scope(); MiniMindLM cpu = MiniMindLM.init(c, 5); MiniMindLM gpu = MiniMindLM.init(c, 5).to(cuda)) {
            MiniMindLM.Loss lc = cpu.loss(Torch.longs(b[0], 3, 20), Torch.longs(b[1], 3, 20));
            MiniMindLM.Loss lg = gpu.loss(cuda.to(Torch.longs(b[0], 3, 20)), cuda.to(Torch.longs(b[1], 3, 20)));
            assertTrue(gpu.anyParameter().is_cuda());
            assertEquals(lc.total().item_double(), lg.total().item_double(), 1e-4);
            lc.total().backward();
            lg.total().backward();
            for (Map.Entry<String, Tensor> e : cpu.namedParameters().entrySet()) {
                float[] x = Torch.toFloats(e.getValue().grad()), y = Torch.toFloats(gpu.namedParameters().get(e.getKey()).grad());
                for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], 1e-4 + 1e-3 * Math.abs(x[i]), e.getKey() + "[" + i + "]");
            }
        }
    }

    @Test
    void bf16AutocastLossIsCloseToFp32AndGreedyDecodingRunsOnCuda() {
        ModelConfig c = ModelConfig.minimind2(64, 2, false).withVocabSize(256).withHeads(4, 2);
        RandomBatch rb = RandomBatch.of(256, 2, 24, 8, 2);
        long[][] b = {rb.ids(), rb.labels()};
        Precision bf16 = Precision.resolve("cuda", "bfloat16", -1);
        try (PointerScope s = Torch.scope(); MiniMindLM m = MiniMindLM.init(c, 6).to(bf16)) {
            Tensor ids = bf16.to(Torch.longs(b[0], 2, 24)), labels = bf16.to(Torch.longs(b[1], 2, 24));
            double fp32 = m.loss(ids, labels).total().item_double();
            double low;
            try (Precision.Region r = bf16.autocastRegion()) {
                low = m.loss(ids, labels).total().item_double();
            }
            assertEquals(fp32, low, 0.02 * fp32);
            Generator.Result g = new Generator(m).generate(new int[]{1, 5, 9}, 8, Sampling.GREEDY, -1, 0, null);
            assertEquals(8, g.tokens().length);
        }
    }

    @Test
    void sftOnCudaInBf16AndFp16LearnsAndSavesCpuLoadableFiles() throws Exception {
        Path data = Files.write(dir.resolve("sft.jsonl"), TrainerTest.additions(24, 40, 1));
        for (String dtype : new String[]{"bfloat16", "float16"}) {
            Path save = dir.resolve(dtype);
            String[] args = {"sft", "--data_path", data.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                    "--save_dir", save.toString(), "--hidden_size", "32", "--num_hidden_layers", "2", "--max_seq_len", "48",
                    "--epochs", "4", "--batch_size", "4", "--from_weight", "none", "--learning_rate", "3e-3",
                    "--device", "cuda:0", "--dtype", dtype, "--eval_data", data.toString(), "--eval_interval", "6"};
            assertEquals(0, Minimind.run(args), dtype);
            for (HostTensor t : Pth.readStateDict(save.resolve("full_sft_32.pth")).values())
                for (float v : t.toFloatArray()) assertTrue(Float.isFinite(v), dtype);
            List<Double> eval = MetricsCsv.values(MetricsCsv.read(save.resolve("full_sft_32_metrics.csv")), "eval_loss");
            assertTrue(eval.get(eval.size() - 1) < eval.get(0) - 0.5, dtype + " eval loss should fall: " + eval);
            // a CUDA run's resume file continues on the CPU
            // (picocli refuses a repeated option: --epochs and --device are replaced in place, not appended)
            String[] more = java.util.Arrays.copyOf(args, args.length + 2);
            more[args.length] = "--from_resume";
            more[args.length + 1] = "1";
            for (int i = 0; i + 1 < args.length; i++) {
                if (more[i].equals("--epochs")) more[i + 1] = "5";
                if (more[i].equals("--device")) more[i + 1] = "cpu";
            }
            assertEquals(0, Minimind.run(more), dtype + " resume on cpu");
            @SuppressWarnings("unchecked") Map<String, Object> root = (Map<String, Object>) Pth.read(save.resolve("full_sft_32_resume.pth"));
            assertEquals(4L, ((Number) root.get("epoch")).longValue(), dtype + ": the CPU run trained the fifth epoch");
        }
    }
}
