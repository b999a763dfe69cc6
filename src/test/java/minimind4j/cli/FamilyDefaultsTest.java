package minimind4j.cli;

import minimind4j.UserError;

import minimind4j.model.ModelConfig;
import minimind4j.train.TrainConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each --model_family trains with the defaults of its own MiniMind version (jingyaogong/minimind):
 * MiniMind2 = trainer/train_full_sft.py and dataset/lm_dataset.py at 101d7df^ (the last commit before "[update]
 * minimind-3"): lr 1e-6, hidden 512, max_seq_len 340, sft_mini_512.jsonl, empty_think_ratio 0.05; minimind-3 = the
 * current files (b8b3d35 "change default seq_len" and later): lr 1e-5, hidden 768, max_seq_len 768,
 * sft_t2t_mini.jsonl, empty_think_ratio 0.2. Both: epochs 2, batch 16, accumulation 1, add_system_ratio 0.2.
 */
class FamilyDefaultsTest {
    static SftCommand parse(String... args) {
        SftCommand cmd = new SftCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd;
    }

    @Test
    void minimind2RunsWithMiniMind2sSftDefaults() {
        SftCommand cmd = parse();
        TrainConfig o = cmd.options(cmd.defaults(), null);
        assertEquals(1e-6, o.learningRate());
        assertEquals(340, o.maxSeqLen());
        assertEquals(Path.of("dataset/sft_mini_512.jsonl"), o.dataPath());
        assertEquals(0.05, o.emptyThinkRatio());
        assertEquals(0.2, o.addSystemRatio());
        assertEquals(2, o.epochs());
        assertEquals(16, o.batchSize());
        assertEquals(1, o.accumulationSteps());
        ModelConfig c = cmd.m.resolve();
        assertEquals(512, c.hiddenSize());
        assertEquals(8, c.numHiddenLayers());
        assertEquals("minimind2", c.family());
    }

    @Test
    void minimind3RunsWithTheCurrentSftDefaults() {
        SftCommand cmd = parse("--model_family", "minimind3");
        TrainConfig o = cmd.options(cmd.defaults(), null);
        assertEquals(1e-5, o.learningRate());
        assertEquals(768, o.maxSeqLen());
        assertEquals(Path.of("dataset/sft_t2t_mini.jsonl"), o.dataPath());
        assertEquals(0.2, o.emptyThinkRatio());
        assertEquals(0.2, o.addSystemRatio());
        assertEquals(2, o.epochs());
        assertEquals(16, o.batchSize());
        ModelConfig c = cmd.m.resolve();
        assertEquals(768, c.hiddenSize());
        assertEquals(8, c.numHiddenLayers());
        assertEquals(4, c.numKeyValueHeads());
        assertEquals(2432, c.intermediateSize());  // ceil(768 * pi / 64) * 64
        assertEquals("minimind3", c.family());
    }

    @Test
    void givenFlagsWinOverTheFamilysDefaults() {
        SftCommand cmd = parse("--model_family", "minimind3", "--learning_rate", "3e-4", "--max_seq_len", "128", "--hidden_size", "256", "--empty_think_ratio", "1");
        TrainConfig o = cmd.options(cmd.defaults(), null);
        assertEquals(3e-4, o.learningRate());
        assertEquals(128, o.maxSeqLen());
        assertEquals(1.0, o.emptyThinkRatio());
        assertEquals(256, cmd.m.resolve().hiddenSize());
    }

    @Test
    void pretrainDefaultsFollowTheFamilyToo() {
        PretrainCommand p2 = new PretrainCommand();
        new CommandLine(p2).parseArgs();
        assertEquals(1, p2.options(p2.defaults(), null).epochs());
        assertEquals(Path.of("dataset/pretrain_hq.jsonl"), p2.options(p2.defaults(), null).dataPath());
        PretrainCommand p3 = new PretrainCommand();
        new CommandLine(p3).parseArgs("--model_family", "minimind3");
        assertEquals(2, p3.options(p3.defaults(), null).epochs());
        assertEquals(Path.of("dataset/pretrain_t2t_mini.jsonl"), p3.options(p3.defaults(), null).dataPath());
    }

    @Test
    void helpListsBothFamiliesDefaults() {
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new SftCommand());
        cl.usage(new PrintWriter(out));
        String help = out.toString().replaceAll("\\s+", " ");
        for (String s : new String[]{"1e-6 for minimind2, 1e-5 for minimind3", "0.05 for minimind2, 0.2 for minimind3",
                "340 for minimind2, 768 for minimind3", "dataset/sft_t2t_mini.jsonl", "512 for minimind2, 768 for minimind3"})
            assertTrue(help.contains(s), s + " not in --help:\n" + help);
    }

    @Test
    void anUnknownFamilyIsOneClearLine() {
        SftCommand cmd = parse("--model_family", "minimind4");
        UserError e = assertThrows(UserError.class, cmd::defaults);
        assertEquals("--model_family minimind4: expected minimind2 or minimind3", e.getMessage());
    }
}
