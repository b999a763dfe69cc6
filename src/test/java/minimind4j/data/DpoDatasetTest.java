package minimind4j.data;

import minimind4j.TestPaths;
import minimind4j.UserError;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static minimind4j.data.Jsonl.json;
import static minimind4j.data.Jsonl.msg;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Preference records in every supported shape make the same pair as MiniMind's own format; MiniMind's format keeps
 * MiniMind's rule (every reply of the conversation counts); other kinds of data are refused in one line.
 */
class DpoDatasetTest {
    private static MiniMindTokenizer tok;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() { tok = MiniMindTokenizer.load(TestPaths.minimind3()); }

    @AfterAll
    static void close() { tok.close(); }

    /** The pairs of {@code lines}; empty think blocks dropped (minimind-3's template writes one into every reply). */
    private List<Sample> pairs(int maxSeqLen, String... lines) {
        Path f = Jsonl.write(dir.resolve("dpo.jsonl"), List.of(lines));
        SftDataset.Options o = SftDataset.Options.of(maxSeqLen).withAugmentation(0, 0, 42);
        try (DpoDataset ds = new DpoDataset(DpoDataset.index(List.of(f), false), tok, o)) {
            assertEquals(lines.length, ds.size(), "every line is a pair");
            List<Sample> out = new ArrayList<>();
            for (int i = 0; i < ds.size(); i++) out.add(ds.get(i, 0));
            return out;
        }
    }

    private static void assertSamePair(Sample expected, Sample actual, String what) {
        assertEquals(expected.text(), actual.text(), what + " chosen text");
        assertArrayEquals(expected.ids(), actual.ids(), what + " chosen ids");
        assertArrayEquals(expected.labels(), actual.labels(), what + " chosen labels");
        assertEquals(expected.rejected().text(), actual.rejected().text(), what + " rejected text");
        assertArrayEquals(expected.rejected().labels(), actual.rejected().labels(), what + " rejected labels");
    }

    @Test
    void everyPreferenceShapeMakesMiniMindsPair() {
        String q = "What color is a pebbleback?", good = "A pebbleback is orange.", bad = "Blue.";
        String minimind = json(Map.of("chosen", List.of(msg("user", q), msg("assistant", good)), "rejected", List.of(msg("user", q), msg("assistant", bad))));
        List<String> others = List.of(
                json(Map.of("prompt", q, "chosen", good, "rejected", bad)),                                       // TRL standard
                json(Map.of("prompt", List.of(msg("user", q)), "chosen", List.of(msg("assistant", good)),
                        "rejected", List.of(msg("assistant", bad)))),                                             // TRL conversational
                json(Map.of("conversations", List.of(Map.of("from", "human", "value", q)),
                        "chosen", Map.of("from", "gpt", "value", good), "rejected", Map.of("from", "gpt", "value", bad))),  // LLaMA-Factory ShareGPT
                json(Map.of("messages", List.of(msg("user", q)), "chosen", msg("assistant", good), "rejected", msg("assistant", bad))),
                json(Map.of("instruction", q, "input", "", "chosen", good, "rejected", bad)),                    // LLaMA-Factory Alpaca
                json(Map.of("chosen_messages", List.of(msg("user", q, "loss_weight", 0.0), msg("assistant", good)),
                        "rejected_messages", List.of(msg("user", q, "loss_weight", 0.0), msg("assistant", bad)))));  // LLaMA-Factory v1
        List<String> all = new ArrayList<>(List.of(minimind));
        all.addAll(others);
        List<Sample> p = pairs(1024, all.toArray(String[]::new));
        assertTrue(p.get(0).text().contains(good) && p.get(0).rejected().text().contains(bad), p.get(0).text());
        assertTrue(p.get(0).supervised() > 0 && p.get(0).rejected().supervised() > 0);
        for (int i = 1; i < p.size(); i++) assertSamePair(p.get(0), p.get(i), others.get(i - 1));
    }

    @Test
    void aSeparatePromptIsNotSupervisedButMiniMindsWholeConversationIs() {
        List<Map<String, Object>> prompt = List.of(msg("user", "Hi"), msg("assistant", "Hello there."), msg("user", "Name a fruit."));
        List<Map<String, Object>> c = new ArrayList<>(prompt), r = new ArrayList<>(prompt);
        c.add(msg("assistant", "An apple."));
        r.add(msg("assistant", "No."));
        List<Sample> p = pairs(1024, json(Map.of("chosen", c, "rejected", r)),
                json(Map.of("prompt", prompt, "chosen", List.of(msg("assistant", "An apple.")), "rejected", List.of(msg("assistant", "No.")))));
        Sample whole = p.get(0), separate = p.get(1);
        assertEquals(whole.text(), separate.text());
        int helloTokens = tok.encode("Hello there." + tok.eosToken() + "\n").length;
        // MiniMind's DPODataset masks every assistant span, the earlier reply included; TRL's prompt is context only
        assertEquals(separate.supervised() + helloTokens, whole.supervised());
        assertEquals(separate.rejected().supervised() + helloTokens, whole.rejected().supervised());
    }

    @Test
    void noRandomSystemPromptAndEpochsOnlyChangeTheThinkBlock() {
        String line = json(Map.of("chosen", List.of(msg("user", "Q"), msg("assistant", "A")), "rejected", List.of(msg("user", "Q"), msg("assistant", "B"))));
        Path f = Jsonl.write(dir.resolve("one.jsonl"), List.of(line));
        // add_system_ratio 1 would add one to every SFT sample: DPO never does
        try (DpoDataset ds = new DpoDataset(DpoDataset.index(List.of(f), false), tok, SftDataset.Options.of(64).withAugmentation(1, 1, 42))) {
            for (int e = 0; e < 5; e++) assertFalse(ds.get(0, e).text().contains("system"), ds.get(0, e).text());
        }
    }

    @Test
    void otherKindsOfDataAreRefusedInOneLine() {
        for (String[] c : new String[][]{
                {json(Map.of("conversations", List.of(msg("user", "Q"), msg("assistant", "A")))), "SFT conversations, not preference pairs"},
                {json(Map.of("prompt", "Q", "completion", "A", "label", true)), "KTO data"},
                {json(Map.of("text", "plain text")), "pretrain text, not preference pairs"},
                {json(Map.of("messages", List.of(msg("user", "<image>What is it?")), "chosen", msg("assistant", "A cat."),
                        "rejected", msg("assistant", "A dog."), "images", List.of("cat.png"))), "multimodal preference data: the \"images\" field"}}) {
            Path f = Jsonl.write(dir.resolve("x.jsonl"), List.of(c[0]));
            UserError e = assertThrows(UserError.class, () -> DpoDataset.index(List.of(f), false).close());
            assertTrue(e.getMessage().contains(c[1]) && !e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void aPairWhoseReplyIsCutToNothingIsDroppedAndNamed() {
        String q = "word ".repeat(60);
        String cut = json(Map.of("chosen", List.of(msg("user", q), msg("assistant", "A")), "rejected", List.of(msg("user", "Q"), msg("assistant", "B"))));
        String fine = json(Map.of("chosen", List.of(msg("user", "Q"), msg("assistant", "A")), "rejected", List.of(msg("user", "Q"), msg("assistant", "B"))));
        Path f = Jsonl.write(dir.resolve("cut.jsonl"), List.of(fine, cut, fine));
        List<String> log = new ArrayList<>();
        try (DpoDataset ds = DpoDataset.open(List.of(f), false, tok, SftDataset.Options.of(32).withAugmentation(0, 1, 42), log::add)) {
            assertEquals(2, ds.size());
            assertEquals(2, ds.record(1));
        }
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).contains("1 dropped because the chosen or rejected reply is cut to nothing (first: " + f + ":2)"), log.get(0));
    }

    /** LLaMA-Factory's own demo preference files train as they come: the prompt as context, only the reply scored. */
    @Test
    void llamaFactoryDemoFilesMakePairsWhoseRepliesAloneAreScored() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper om = new com.fasterxml.jackson.databind.ObjectMapper();
        Path sharegpt = TestPaths.resources().resolve("datasets/dpo_en_demo.json"), v1 = TestPaths.resources().resolve("datasets/v1_dpo_demo.jsonl");
        var records = om.readTree(sharegpt.toFile());
        try (DpoDataset ds = new DpoDataset(DpoDataset.index(List.of(sharegpt), false), tok, SftDataset.Options.of(4096).withAugmentation(0, 0, 42))) {
            assertEquals(records.size(), ds.size());
            for (int i = 0; i < ds.size(); i++) {
                Sample p = ds.get(i, 0);
                assertScoredIsExactly(p, records.get(i).get("chosen").get("value").asText());
                assertScoredIsExactly(p.rejected(), records.get(i).get("rejected").get("value").asText());
                assertTrue(p.text().contains(records.get(i).get("conversations").get(0).get("value").asText()));
            }
        }
        var v1Record = om.readTree(java.nio.file.Files.readAllLines(v1).get(0));
        try (DpoDataset ds = new DpoDataset(DpoDataset.index(List.of(v1), false), tok, SftDataset.Options.of(4096).withAugmentation(0, 0, 42))) {
            Sample p = ds.get(0, 0);
            var chosen = v1Record.get("chosen_messages");
            assertScoredIsExactly(p, chosen.get(chosen.size() - 1).get("content").get(0).get("value").asText());
        }
    }

    /** The supervised tokens decode to exactly {@code reply} + the end-of-turn marker. */
    private static void assertScoredIsExactly(Sample s, String reply) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < s.ids().length; i++) if (s.labels()[i] != LossMask.IGNORE) ids.add(s.ids()[i]);
        assertEquals(reply + tok.eosToken() + "\n", tok.decode(ids.stream().mapToInt(Integer::intValue).toArray(), false));
    }
}
