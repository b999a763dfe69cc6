package minimind4j.train;

import minimind4j.TestPaths;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The builder's command lines and file names, without running anything. */
class TinyRunTest {
    static final Path DATA = Path.of("d.jsonl"), OUT = Path.of("out");

    @Test
    void theDefaultsAreATinyModelInFloat32OnOneCpuThread() {
        assertEquals(List.of("sft", "--data_path", "d.jsonl", "--tokenizer_path", TestPaths.minimind2().toString(), "--save_dir", "out",
                "--hidden_size", "32", "--num_hidden_layers", "2", "--max_seq_len", "48", "--log_interval", "1000", "--num_threads", "1",
                "--device", "cpu", "--dtype", "float32"), List.of(TinyRun.sft(DATA, OUT).args()));
    }

    @Test
    void aSetterReplacesItsFlagAndWithoutDropsOne() {
        TinyRun base = TinyRun.pretrain(DATA, OUT).epochs(1);
        TinyRun changed = base.copy().dtype("bfloat16").flags("--pad_to_max_seq_len", "--max_steps", "3").without("--device").epochs(2);
        assertEquals(List.of("pretrain", "--data_path", "d.jsonl", "--tokenizer_path", TestPaths.minimind2().toString(), "--save_dir", "out",
                "--hidden_size", "32", "--num_hidden_layers", "2", "--max_seq_len", "48", "--log_interval", "1000", "--num_threads", "1",
                "--dtype", "bfloat16", "--epochs", "2", "--pad_to_max_seq_len", "--max_steps", "3"), List.of(changed.args()));
        assertEquals("1", List.of(base.args()).get(List.of(base.args()).indexOf("--epochs") + 1), "copy() leaves the original as it was");
        assertEquals(Path.of("elsewhere"), base.in(Path.of("elsewhere")).files().saveDir());
    }

    @Test
    void theFilesAreNamedByRunFiles() {
        assertEquals(OUT.resolve("full_sft_32.pth"), TinyRun.sft(DATA, OUT).files().weights());
        assertEquals(OUT.resolve("full_sft_32_moe_metrics.csv"), TinyRun.sft(DATA, OUT).moe().files().metrics());
        assertEquals(OUT.resolve("pretrain_64_resume.pth"), TinyRun.pretrain(DATA, OUT).hiddenSize(64).files().resume());
        assertEquals(OUT.resolve("lora_dpo_32.pth"), TinyRun.of("dpo", DATA, OUT).flag("--lora_rank", 4).files().weights());
        assertEquals(OUT.resolve("lora_demo_32.pth"), TinyRun.of("lora", DATA, OUT).flag("--lora_name", "lora_demo").files().weights());
        assertEquals(OUT.resolve("mine_32.pth"), TinyRun.sft(DATA, OUT).flag("--save_weight", "mine").files().weights());
    }
}
