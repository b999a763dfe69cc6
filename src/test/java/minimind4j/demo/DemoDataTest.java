package minimind4j.demo;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.tokenizer.TokenizerFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemoDataTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static DemoData.DemoFiles files;
    static DemoWorld world;
    static DemoFactChecker checker;

    @BeforeAll
    static void generate() {
        files = DemoData.generate(DemoData.DEFAULT_SEED);
        world = DemoWorld.create(DemoData.DEFAULT_SEED);
        checker = new DemoFactChecker(world);
    }

    static String sha256(DemoData.DemoFiles f) throws NoSuchAlgorithmException {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (String s : List.of(f.pretrainJsonl(), f.sftJsonl(), f.sftEvalJsonl(), f.promptsTxt(), f.readme(), f.license())) {
            md.update(s.getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    void sameSeedSameBytes() throws NoSuchAlgorithmException {
        assertEquals(sha256(files), sha256(DemoData.generate(DemoData.DEFAULT_SEED)));
        assertEquals(world, DemoWorld.create(DemoData.DEFAULT_SEED));
        assertNotEquals(world, DemoWorld.create(7), "the seed decides the world");
    }

    @Test
    void sizesAsPlanned() throws IOException {
        int pretrainBytes = files.pretrainJsonl().getBytes(StandardCharsets.UTF_8).length;
        assertTrue(pretrainBytes > 1_500_000 && pretrainBytes < 3_000_000, "pretrain bytes " + pretrainBytes);
        int sft = lines(files.sftJsonl()).size();
        assertTrue(sft >= 2000 && sft <= 4000, "sft conversations " + sft);
        assertEquals(100, lines(files.sftEvalJsonl()).size());
        assertEquals(6, lines(files.promptsTxt()).size());
        for (String line : lines(files.pretrainJsonl())) {
            int tokens = DemoCorpus.estimateTokens(JSON.readTree(line).get("text").asText());
            assertTrue(tokens >= 25 && tokens <= 150, tokens + " tokens: " + line);
        }
    }

    @Test
    void everyConversationIsWellFormed() throws IOException {
        for (String file : List.of(files.sftJsonl(), files.sftEvalJsonl())) {
            for (String line : lines(file)) {
                List<String> roles = new ArrayList<>();
                for (JsonNode turn : JSON.readTree(line).get("conversations")) {
                    roles.add(turn.get("role").asText());
                    assertFalse(turn.get("content").asText().isBlank(), line);
                }
                if (roles.get(0).equals("system")) roles.remove(0);
                assertTrue(roles.size() >= 2 && roles.size() % 2 == 0, line);
                for (int i = 0; i < roles.size(); i++) assertEquals(i % 2 == 0 ? "user" : "assistant", roles.get(i), line);
            }
        }
    }

    @Test
    void answersAgreeWithTheWorld() throws IOException {
        int answers = 0, withClaims = 0;
        for (String file : List.of(files.sftJsonl(), files.sftEvalJsonl())) {
            for (String line : lines(file)) {
                for (JsonNode turn : JSON.readTree(line).get("conversations")) {
                    if (!turn.get("role").asText().equals("assistant")) continue;
                    List<DemoFactChecker.Claim> claims = checker.claims(turn.get("content").asText());
                    answers++;
                    if (!claims.isEmpty()) withClaims++;
                    for (DemoFactChecker.Claim c : claims) assertTrue(c.holds(), "false: " + c + " in " + line);
                }
            }
        }
        assertTrue(withClaims > answers * 0.85, withClaims + " of " + answers + " answers state a checkable fact");
        for (String line : lines(files.sftEvalJsonl())) {
            JsonNode turns = JSON.readTree(line).get("conversations");
            assertFalse(checker.claims(turns.get(1).get("content").asText()).isEmpty(), "eval answer unchecked: " + line);
        }
    }

    @Test
    void checkerCatchesFalseFacts() {
        DemoWorld.Town t = world.towns().get(0);
        DemoWorld.Creature c = world.creatures().get(0);
        String wrongRiver = DemoWorld.RIVERS.stream().filter(r -> !r.equals(t.river())).findFirst().orElseThrow();
        for (String lie : List.of(t.name() + " lies by the river " + wrongRiver + ".", "3 plus 4 is 8.",
                "The day after Monday is Sunday.", "7 乘以 8 等于 54。", t.name() + " 的集市在星期八。",
                "The market in " + t.name() + " is on " + DemoWorld.DAYS.get((t.marketDay() + 1) % 7).en() + ".",
                DemoWorld.creatureColorEn(new DemoWorld.Creature(c.name(), new DemoWorld.Term("plaid", "格子"),
                        c.food(), c.habitat(), c.size())))) {
            List<DemoFactChecker.Claim> claims = checker.claims(lie);
            assertEquals(1, claims.size(), lie);
            assertFalse(claims.get(0).holds(), lie);
        }
        assertTrue(checker.claims(DemoWorld.knownEn(t)).get(0).holds());
    }

    @Test
    void corpusAgreesWithTheWorld() throws IOException {
        int claims = 0;
        for (String line : lines(files.pretrainJsonl())) {
            for (DemoFactChecker.Claim c : checker.claims(JSON.readTree(line).get("text").asText())) {
                assertTrue(c.holds(), "false: " + c);
                claims++;
            }
        }
        assertTrue(claims > 10_000, claims + " checkable facts in the corpus");
    }

    @Test
    void heldOutQuestionsAndFactsAreNotInSft() throws IOException {
        Set<String> sftQuestions = new HashSet<>();
        Set<String> sftFacts = new HashSet<>();
        for (String line : lines(files.sftJsonl())) {
            for (JsonNode turn : JSON.readTree(line).get("conversations")) {
                String content = turn.get("content").asText();
                if (turn.get("role").asText().equals("user")) sftQuestions.add(content);
                for (DemoFactChecker.Claim c : checker.claims(content)) sftFacts.addAll(expand(c.key()));
            }
        }
        Set<String> evalQuestions = new HashSet<>();
        for (String line : lines(files.sftEvalJsonl())) {
            JsonNode turns = JSON.readTree(line).get("conversations");
            String question = turns.get(0).get("content").asText();
            assertFalse(sftQuestions.contains(question), "eval question in sft: " + question);
            assertTrue(evalQuestions.add(question), "eval question twice: " + question);
            for (DemoFactChecker.Claim c : checker.claims(turns.get(1).get("content").asText())) {
                assertFalse(sftFacts.contains(c.key()), "held-out fact stated in sft: " + c);
            }
        }
        for (String prompt : lines(files.promptsTxt())) {
            assertFalse(sftQuestions.contains(prompt), "prompt in sft: " + prompt);
            assertFalse(evalQuestions.contains(prompt), "prompt in eval: " + prompt);
        }
    }

    /** A list answer states one fact per item. */
    static List<String> expand(String key) {
        String[] parts = key.split(":", 2);
        if (parts[0].equals("about")) {
            return List.of("color:" + parts[1], "food:" + parts[1], "home:" + parts[1], "size:" + parts[1]);
        }
        if (parts[0].equals("river-towns")) {
            return world.townsByRiver().get(parts[1]).stream().map(t -> "river:" + t.name()).toList();
        }
        return List.of(key);
    }

    /** The files checked into demo/ are what the generator makes, and the tokenizer there works in HF's tokenizer. */
    @Test
    void checkedInDemoIsUpToDate() throws IOException {
        Path demo = Path.of(System.getProperty("user.dir"), "demo");
        assertEquals(files.pretrainJsonl(), Files.readString(demo.resolve(DemoData.PRETRAIN)));
        assertEquals(files.sftJsonl(), Files.readString(demo.resolve(DemoData.SFT)));
        assertEquals(files.sftEvalJsonl(), Files.readString(demo.resolve(DemoData.SFT_EVAL)));
        assertEquals(files.promptsTxt(), Files.readString(demo.resolve(DemoData.PROMPTS)));
        assertEquals(files.dpoJsonl(), Files.readString(demo.resolve(DemoData.DPO)));
        assertEquals(files.readme(), Files.readString(demo.resolve(DemoData.README)));
        assertEquals(files.license(), Files.readString(demo.resolve(DemoData.LICENSE)));

        Path tokenizerDir = demo.resolve(DemoData.TOKENIZER_DIR);
        String retrained = TokenizerFiles.tokenizerJson(DemoData.trainTokenizer(files, DemoData.DEFAULT_VOCAB_SIZE, s -> {}));
        assertEquals(retrained, Files.readString(tokenizerDir.resolve(TokenizerFiles.TOKENIZER_JSON)));
        JsonNode vocab = JSON.readTree(tokenizerDir.resolve(TokenizerFiles.TOKENIZER_JSON).toFile()).get("model").get("vocab");
        assertEquals(DemoData.DEFAULT_VOCAB_SIZE, vocab.size());
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerDir)
                .optAddSpecialTokens(false).optTruncation(false).optPadding(false).build()) {
            for (String text : lines(files.promptsTxt())) {
                long[] ids = hf.encode("<|im_start|>user\n" + text + "<|im_end|>\n", false, false).getIds();
                assertEquals(1, ids[0]);
                assertEquals("<|im_start|>user\n" + text + "<|im_end|>\n", hf.decode(ids, false));
            }
            assertArrayEquals(new long[] {0, 1, 2}, hf.encode("<|endoftext|><|im_start|><|im_end|>", false, false).getIds());
        }
    }

    @Test
    void commandWritesTheFiles(@org.junit.jupiter.api.io.TempDir Path out) throws IOException {
        picocli.CommandLine cli = new picocli.CommandLine(new minimind4j.cli.DemoDataCommand());
        java.util.concurrent.atomic.AtomicReference<Exception> thrown = new java.util.concurrent.atomic.AtomicReference<>();
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            thrown.set(ex);
            return 2;
        });
        assertEquals(2, cli.execute("--out-dir", out.toString(), "--vocab_size", "100"));
        assertTrue(thrown.get() instanceof minimind4j.UserError, String.valueOf(thrown.get()));

        assertEquals(0, cli.execute("--out_dir", out.toString(), "--no_tokenizer"));
        assertEquals(files.sftEvalJsonl(), Files.readString(out.resolve(DemoData.SFT_EVAL)));
        assertEquals(files.pretrainJsonl(), Files.readString(out.resolve(DemoData.PRETRAIN)));
        assertFalse(Files.exists(out.resolve(DemoData.TOKENIZER_DIR)));
    }

    static List<String> lines(String text) {
        return text.lines().filter(l -> !l.isEmpty()).toList();
    }
}
