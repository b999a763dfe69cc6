package minimind4j.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --help} shows each training flag's real default: the command's stage defaults for the model family
 * (train/StageDefaults, the one place they are written), not a generic text.
 */
class StageHelpTest {
    /** The help text of {@code name}'s option: from its name to the next option, whitespace collapsed. */
    private static String option(CliRun help, String name) {
        String out = help.out();
        int at = out.indexOf("      " + name);
        if (at < 0) at = out.indexOf(", " + name);
        assertTrue(at >= 0, name + " not in\n" + out);
        java.util.regex.Matcher next = java.util.regex.Pattern.compile("\n {2,6}-").matcher(out);
        int end = next.find(at + 1) ? next.start() : out.length();
        return out.substring(at, end).replaceAll("\\s+", " ");
    }

    /** The default {@code name}'s help shows: "(default: V)" or "(default: V; by family: ...)". */
    private static String dflt(CliRun help, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\(default: ([^;)]+)[;)]").matcher(option(help, name));
        assertTrue(m.find(), option(help, name));
        return m.group(1);
    }

    private static CliRun help(String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(0, r.code(), r.err());
        return r;
    }

    @Test
    void sftShowsMiniMind2sDefaultsAndMinimind3sWithItsFlag() {
        CliRun sft = help("sft", "--help");
        assertEquals("1e-6", dflt(sft, "--learning_rate"));
        assertEquals("340", dflt(sft, "--max_seq_len"));
        assertEquals("dataset/sft_mini_512.jsonl", dflt(sft, "--data_path"));
        assertEquals("0.05", dflt(sft, "--empty_think_ratio"));
        assertEquals("full_sft", dflt(sft, "--save_weight"));
        assertEquals("pretrain", dflt(sft, "--from_weight"));
        assertEquals("16", dflt(sft, "--batch_size"));
        assertEquals("1000", dflt(sft, "--save_interval"));

        assertTrue(option(sft, "--learning_rate").contains("by family: 1e-6 for minimind2, 1e-5 for minimind3"), option(sft, "--learning_rate"));

        CliRun m3 = help("sft", "--model_family", "minimind3", "--help");
        assertEquals("1e-5", dflt(m3, "--learning_rate"));
        assertEquals("768", dflt(m3, "--max_seq_len"));
    }

    @Test
    void eachStageShowsItsOwn() {
        CliRun dpo = help("dpo", "--help");
        assertEquals("4e-8", dflt(dpo, "--learning_rate"));
        assertEquals("1024", dflt(dpo, "--max_seq_len"));
        assertEquals("100", dflt(dpo, "--save_interval"));
        assertEquals("4", dflt(dpo, "--batch_size"));
        assertTrue(option(dpo, "--beta").contains("(default for the model family: 0.1;"), option(dpo, "--beta"));
        assertEquals("lora_dpo", dflt(help("dpo", "--lora_rank", "8", "--help"), "--save_weight"));
        assertTrue(option(help("dpo", "--model_family", "minimind3", "--help"), "--beta").contains("(default for the model family: 0.15;"));

        CliRun pretrain = help("pretrain", "--help");
        assertEquals("5e-4", dflt(pretrain, "--learning_rate"));
        assertEquals("8", dflt(pretrain, "--accumulation_steps"));
        assertEquals("none", dflt(pretrain, "--from_weight"));

        CliRun lora = help("lora", "--help");
        assertEquals("1e-4", dflt(lora, "--learning_rate"));
        assertEquals("10", dflt(lora, "--epochs"));
        assertEquals("10", dflt(lora, "--log_interval"));
        assertEquals("lora_x", dflt(help("lora", "--lora_name", "lora_x", "--help"), "--save_weight"));
    }

    @Test
    void kebabAliasesStillParse() {
        SftCommand cmd = new SftCommand();
        new picocli.CommandLine(cmd).parseArgs("--learning-rate", "3e-4", "--max-seq-len", "64", "--data-path", "x.jsonl");
        minimind4j.train.TrainConfig o = cmd.options(cmd.defaults(), null);
        assertEquals(3e-4, o.learningRate());
        assertEquals(64, o.maxSeqLen());
        assertEquals(java.nio.file.Path.of("x.jsonl"), o.dataPath());
        assertEquals(16, o.batchSize(), "a flag not given: the stage default");
    }
}
