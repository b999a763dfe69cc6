package minimind4j.cli;

import minimind4j.TestPaths;
import minimind4j.checkpoint.Weights;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@code minimind dpo} as a command: its flags, its refusals, resuming exactly, and chatting with the result. */
class DpoCommandTest {
    @TempDir
    static Path dir;
    static Path start, data;
    static final Path TOKENIZER = TestPaths.minimind3().toAbsolutePath();

    @BeforeAll
    static void setUp() throws Exception {
        start = dir.resolve("start.pth");
        try (MiniMindLM m = MiniMindLM.init(ModelConfig.minimind3(64, 2).withVocabSize(6400), 5)) {
            Weights.saveHalf(start, m);
        }
        List<String> lines = new ArrayList<>();
        String[][] qa = {{"What color is a pebbleback?", "Orange.", "Blue."}, {"Which river is Dunmire on?", "The Ash.", "None."},
                {"Name a fruit.", "An apple.", "A chair."}, {"What do people keep in Zelkin?", "Ducks.", "Nothing at all."},
                {"Count to three.", "One, two, three.", "Two."}, {"Say hi.", "Hi!", "No."}};
        for (String[] p : qa)
            lines.add("{\"prompt\": [{\"role\": \"user\", \"content\": \"" + p[0] + "\"}], \"chosen\": [{\"role\": \"assistant\", \"content\": \""
                    + p[1] + "\"}], \"rejected\": [{\"role\": \"assistant\", \"content\": \"" + p[2] + "\"}]}");
        data = Files.write(dir.resolve("pairs.jsonl"), lines);
    }

    static String[] dpo(Path save, String... extra) {
        List<String> a = new ArrayList<>(List.of("dpo", "--data_path", data.toString(), "--tokenizer_path", TOKENIZER.toString(),
                "--from_weight", start.toString(), "--save_dir", save.toString(), "--batch_size", "2", "--epochs", "2",
                "--dtype", "float32", "--num_threads", "1", "--log_interval", "1"));
        if (!List.of(extra).contains("--learning_rate")) a.addAll(List.of("--learning_rate", "1e-3"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void helpNamesMiniMindsFlagsAndDefaults() {
        CliRun r = CliRun.of("dpo", "--help");
        assertEquals(0, r.code());
        for (String flag : List.of("--beta", "--dpo_reduction", "--learning_rate", "--learning-rate", "--from_weight", "--max_seq_len", "--from_resume"))
            assertTrue(r.out().contains(flag), flag + "\n" + r.out());
        assertTrue(r.out().contains("beta 0.1") && r.out().contains("beta 0.15") && r.out().contains("lr 4e-8"), r.out());
    }

    @Test
    void sftDataIsRefusedInOneLine() {
        Path sft = dir.resolve("sft.jsonl");
        try {
            Files.writeString(sft, "{\"conversations\": [{\"role\": \"user\", \"content\": \"Q\"}, {\"role\": \"assistant\", \"content\": \"A\"}]}\n");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        CliRun r = CliRun.of("dpo", "--data_path", sft.toString(), "--tokenizer_path", TOKENIZER.toString(), "--from_weight", start.toString(),
                "--save_dir", dir.resolve("refused").toString(), "--dtype", "float32");
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("SFT conversations, not preference pairs") && r.err().contains("minimind sft"), r.err());
        assertFalse(Files.exists(dir.resolve("refused")), "refused data leaves nothing on disk");
    }

    @Test
    void aResumedRunEndsExactlyWhereAnUninterruptedOneDoesAndChatLoadsIt() throws Exception {
        Path whole = dir.resolve("whole"), parts = dir.resolve("parts");
        CliRun r = CliRun.of(dpo(whole));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("dpo_loss") && r.out().contains("rewards/accuracies"), r.out());
        assertTrue(Files.readAllLines(whole.resolve("dpo_64_metrics.csv")).get(0).endsWith(",rewards/chosen,rewards/rejected,rewards/accuracies,rewards/margins"));
        assertEquals(0, CliRun.of(dpo(parts, "--max_steps", "4")).code());  // stops mid-second-epoch
        CliRun resumed = CliRun.of(dpo(parts, "--from_resume", "1"));
        assertEquals(0, resumed.code(), resumed.out() + resumed.err());
        assertTrue(resumed.out().contains("resuming from"), resumed.out());
        assertArrayEquals(Files.readAllBytes(whole.resolve("dpo_64.pth")), Files.readAllBytes(parts.resolve("dpo_64.pth")),
                "the resumed run's weights equal the uninterrupted run's");
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(start), Files.readAllBytes(whole.resolve("dpo_64.pth"))), "training changed the weights");

        CliRun chat = CliRun.of("chat", "--weight", "dpo", "--hidden_size", "64", "--save_dir", whole.toString(), "--tokenizer_path", TOKENIZER.toString(),
                "--prompt", "Name a fruit.", "--max_new_tokens", "4");
        assertEquals(0, chat.code(), chat.out() + chat.err());
    }

    /** In bf16 autocast (policy and reference forward under it): a stopped and resumed run ends byte-identical too. */
    @Test
    void inBf16AResumedRunEndsExactlyWhereAnUninterruptedOneDoes() throws Exception {
        Path whole = dir.resolve("bf16-whole"), parts = dir.resolve("bf16-parts");
        CliRun r = CliRun.of(bf16(dpo(whole)));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("cpu, bf16 autocast"), r.out());
        assertEquals(0, CliRun.of(bf16(dpo(parts, "--max_steps", "4"))).code());
        CliRun resumed = CliRun.of(bf16(dpo(parts, "--from_resume", "1")));
        assertEquals(0, resumed.code(), resumed.out() + resumed.err());
        assertArrayEquals(Files.readAllBytes(whole.resolve("dpo_64.pth")), Files.readAllBytes(parts.resolve("dpo_64.pth")),
                "the resumed bf16 run's weights equal the uninterrupted run's");
    }

    static String[] bf16(String[] a) {
        String[] out = a.clone();
        for (int i = 0; i + 1 < out.length; i++) if (out[i].equals("--dtype")) out[i + 1] = "bfloat16";
        return out;
    }

    /**
     * LoRA as the trained part: the reference is the frozen model itself (adapters detached), so step 1's loss is
     * exactly ln 2 (B = 0: policy = reference) and later steps move away from it; only the adapter is saved, and a
     * resumed run ends with the same adapter, byte for byte.
     */
    @Test
    void loraTrainsAdaptersAgainstTheFrozenBaseAndResumesExactly() throws Exception {
        Path whole = dir.resolve("lora-whole"), parts = dir.resolve("lora-parts");
        CliRun r = CliRun.of(dpo(whole, "--lora_rank", "4", "--learning_rate", "2e-2"));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("base weights frozen"), r.out());
        assertTrue(Files.exists(whole.resolve("lora_dpo_64.pth")) && !Files.exists(whole.resolve("dpo_64.pth")));
        for (String k : minimind4j.checkpoint.Weights.read(whole.resolve("lora_dpo_64.pth")).keySet()) assertTrue(k.contains(".lora."), k);
        List<String> rows = Files.readAllLines(whole.resolve("lora_dpo_64_metrics.csv"));
        List<String> header = List.of(rows.get(0).split(","));
        String[] first = rows.get(1).split(","), last = rows.get(rows.size() - 1).split(",");
        assertEquals(Math.log(2), Double.parseDouble(first[header.indexOf("loss")]), 1e-6, "B = 0: the policy is the reference");
        assertTrue(Double.parseDouble(last[header.indexOf("loss")]) < Math.log(2) - 1e-3, rows.toString());
        assertTrue(Double.parseDouble(last[header.indexOf("rewards/margins")]) > 0, rows.toString());

        assertEquals(0, CliRun.of(dpo(parts, "--lora_rank", "4", "--learning_rate", "2e-2", "--max_steps", "4")).code());
        CliRun resumed = CliRun.of(dpo(parts, "--lora_rank", "4", "--learning_rate", "2e-2", "--from_resume", "1"));
        assertEquals(0, resumed.code(), resumed.out() + resumed.err());
        assertArrayEquals(Files.readAllBytes(whole.resolve("lora_dpo_64.pth")), Files.readAllBytes(parts.resolve("lora_dpo_64.pth")));
    }

    @Test
    void flagsThatMeanNothingForDpoAreRefusedInOneLine() {
        for (String[] c : new String[][]{{"--eval_data", data.toString(), "--eval_data: dpo has no held-out evaluation"},
                {"--loss_average", "tokens", "--loss_average tokens: dpo averages its loss over pairs"},
                {"--beta", "0", "--beta 0.0: must be a positive number"},
                {"--dpo_reduction", "median", "--dpo_reduction median: expected auto, mean or sum"}}) {
            CliRun r = CliRun.of(dpo(dir.resolve("flags"), c[0], c[1]));
            assertEquals(2, r.code(), r.out() + r.err());
            assertTrue(r.err().strip().startsWith("error: " + c[2]), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
    }

    @Test
    void dataCheckReportsPairsAndNamesOneCutToNothing() throws Exception {
        Path f = dir.resolve("check.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(data));
        lines.add("{\"prompt\": \"" + "word ".repeat(80) + "\", \"chosen\": \"Yes.\", \"rejected\": \"No.\"}");
        Files.write(f, lines);
        CliRun r = CliRun.of("data", "check", "--data", f.toString(), "--tokenizer_path", TOKENIZER.toString(), "--max_seq_len", "48", "--json");
        assertEquals(1, r.code(), r.out() + r.err());
        com.fasterxml.jackson.databind.JsonNode j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertEquals("dpo", j.get("stage").asText());
        assertEquals(7, j.get("records").asInt());
        assertEquals(1, j.get("no_supervised_token").get("count").asInt());
        assertEquals(f + ":7", j.get("no_supervised_token").get("first").get(0).asText());
    }
}
