package minimind4j.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.TestPaths;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The files we write load in HF's own tokenizer (through DJL), which encodes exactly as our merges say. */
class BpeDjlCompatibilityTest {
    static final List<String> TEXTS = List.of(
            "The town of Velmora lies by the river Ash.",
            "Velmora 以蓝色陶器闻名。3 加 4 等于 7。",
            "emoji 😀🦊👩‍👩‍👧 and flags 🇨🇳🇬🇧",
            "don't it's we'll I'm they've you'd 'S 'LL",
            "  leading spaces, trailing spaces   ",
            "tabs\tand\nnew lines\r\n\n\nand  double  spaces",
            "no\u00a0break\u3000ideographic\u2003em space",
            "numbers 12345 3.14159 2024-01-01 ١٢٣ ½",
            "café naïve Ελλάδα Москва עברית العربية हिन्दी 한국어 日本語",
            "<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\nhello<|im_end|><|endoftext|>",
            "a<|im_end|>b <|im_start|> c<|im_start|><|im_start|>",
            "symbols ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./ and combining e\u0301",
            "",
            " ");

    @TempDir
    static Path dir;

    static BpeModel model;

    @BeforeAll
    static void trainAndWrite() throws IOException {
        List<String> texts = new ArrayList<>(BpeTrainerTest.corpus(500, 3));
        texts.addAll(TEXTS);
        BpeTrainer trainer = new BpeTrainer(520, BpeTrainer.DEFAULT_SPECIAL_TOKENS);
        texts.forEach(trainer::addText);
        model = trainer.train();
        TokenizerFiles.write(dir, model, 2048);
    }

    static HuggingFaceTokenizer djl(Path tokenizerDir) throws IOException {
        return HuggingFaceTokenizer.builder()
                .optTokenizerPath(tokenizerDir)
                .optAddSpecialTokens(false)
                .optTruncation(false)
                .optPadding(false)
                .build();
    }

    @Test
    void djlEncodesLikeOurMergesAndRoundTrips() throws IOException {
        BpeEncoder ours = new BpeEncoder(model);
        List<String> texts = new ArrayList<>(TEXTS);
        texts.addAll(BpeTrainerTest.corpus(50, 99)); // text the trainer never saw
        try (HuggingFaceTokenizer hf = djl(dir)) {
            for (String text : texts) {
                long[] hfIds = hf.encode(text, false, false).getIds();
                int[] ourIds = ours.encode(text);
                assertArrayEquals(hfIds, Arrays.stream(ourIds).asLongStream().toArray(), "ids for: " + text);
                assertEquals(text, hf.decode(hfIds, false), "HF round trip");
                assertEquals(text, ours.decode(ourIds), "our round trip");
            }
            assertArrayEquals(new long[] {1, 2, 0}, hf.encode("<|im_start|><|im_end|><|endoftext|>", false, false).getIds());
        }
    }

    @Test
    void ourEncoderMatchesHfOnMiniMindsTokenizer() throws IOException {
        Path minimind = TestPaths.minimind3();
        BpeEncoder ours = new BpeEncoder(TokenizerFiles.read(minimind.resolve("tokenizer.json")));
        try (HuggingFaceTokenizer hf = djl(minimind)) {
            for (String text : TEXTS) {
                long[] hfIds = hf.encode(text, false, false).getIds();
                assertArrayEquals(hfIds, Arrays.stream(ours.encode(text)).asLongStream().toArray(), "ids for: " + text);
            }
        }
    }

    @Test
    void fileLayoutMirrorsMiniMinds() throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode ref = json.readTree(TestPaths.minimind3().resolve("tokenizer.json").toFile());
        JsonNode ours = json.readTree(dir.resolve("tokenizer.json").toFile());
        assertEquals(fieldNames(ref), fieldNames(ours));
        assertEquals(fieldNames(ref.get("model")), fieldNames(ours.get("model")));
        assertEquals(ref.get("pre_tokenizer"), ours.get("pre_tokenizer"));
        assertEquals(ref.get("decoder"), ours.get("decoder"));
        assertEquals(ref.get("added_tokens").get(2), ours.get("added_tokens").get(2));
        assertEquals(3, ours.get("added_tokens").size());
        assertEquals(520, ours.get("model").get("vocab").size());
        assertTrue(ours.get("model").get("merges").get(0).isArray());

        JsonNode config = json.readTree(dir.resolve("tokenizer_config.json").toFile());
        assertEquals("<|im_start|>", config.get("bos_token").asText());
        assertEquals("<|im_end|>", config.get("eos_token").asText());
        assertEquals("<|endoftext|>", config.get("pad_token").asText());
        assertEquals("<|endoftext|>", config.get("unk_token").asText());
        assertEquals("PreTrainedTokenizerFast", config.get("tokenizer_class").asText());
        assertEquals(false, config.get("add_bos_token").asBoolean());
        assertEquals(2048, config.get("model_max_length").asInt());
        assertEquals("<|im_end|>", config.get("added_tokens_decoder").get("2").get("content").asText());
        assertTrue(config.get("chat_template").asText().contains("<|im_start|>"));
        assertEquals(List.of(), Files.list(dir).map(p -> p.getFileName().toString())
                .filter(n -> n.endsWith(".tmp")).toList(), "no temp files left behind");
    }

    @Test
    void readBackGivesTheSameModel() throws IOException {
        assertEquals(model, TokenizerFiles.read(dir.resolve("tokenizer.json")));
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) names.add(it.next());
        return names;
    }
}
