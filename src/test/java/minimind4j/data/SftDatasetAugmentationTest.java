package minimind4j.data;

import minimind4j.TestPaths;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static minimind4j.data.Jsonl.conversations;
import static minimind4j.data.Jsonl.msg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The system-prompt augmentation: its rate, its determinism per (seed, epoch, index), and which samples it skips. */
class SftDatasetAugmentationTest {
    /**
     * SYSTEM_PROMPTS of MiniMind's dataset/lm_dataset.py (pre_processing_chat), copied by hand from
     * github.com/jingyaogong/minimind (the same ten in MiniMind2's 83e52f6 and the current version), in order.
     */
    private static final List<String> MINIMIND_SYSTEM_PROMPTS = List.of(
            "你是一个知识丰富的AI，尽力为用户提供准确的信息。",
            "你是minimind，一个小巧但有用的语言模型。",
            "你是一个专业的AI助手，请提供有价值的回答。",
            "你是minimind，请尽力帮助用户解决问题。",
            "你是一个可靠的AI，请给出准确的回答。",
            "You are a helpful AI assistant.",
            "You are minimind, a lightweight intelligent assistant.",
            "You are a friendly chatbot. Please answer the user's questions carefully.",
            "You are a knowledgeable AI. Try your best to provide accurate information.",
            "You are minimind, a small but useful language model.");
    private static final int SAMPLES = 2000;

    private static MiniMindTokenizer tok;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() { tok = MiniMindTokenizer.load(TestPaths.minimind3()); }

    @AfterAll
    static void close() { tok.close(); }

    private SftDataset dataset(String name, double ratio, long seed, List<String> lines) {
        return Jsonl.sft(dir.resolve(name), tok, 512, ratio, 1, seed, lines);
    }

    private static List<String> plainLines(int n) {
        List<String> lines = new ArrayList<>(n);
        for (int i = 0; i < n; i++) lines.add(conversations(msg("user", "问题" + i), msg("assistant", "回答" + i)));
        return lines;
    }

    /** The injected prompt, or null; minimind-3's template adds no default system message of its own. */
    private static String injected(String text) {
        for (String p : MINIMIND_SYSTEM_PROMPTS) if (text.startsWith("<|im_start|>system\n" + p + "<|im_end|>\n")) return p;
        assertTrue(!text.startsWith("<|im_start|>system"), "a system message that is none of MiniMind's: " + text);
        return null;
    }

    @Test
    void theSystemPromptListIsMiniMinds() {
        assertEquals(MINIMIND_SYSTEM_PROMPTS, SystemPrompts.MINIMIND);
    }

    @Test
    void aboutOneSampleInFiveGetsOneOfTheTenPrompts() {
        try (SftDataset ds = dataset("plain.jsonl", 0.2, 42, plainLines(SAMPLES))) {
            int added = 0;
            Set<String> used = new HashSet<>();
            for (int i = 0; i < SAMPLES; i++) {
                String p = injected(ds.render(i, 0));
                if (p != null) { added++; used.add(p); }
            }
            double rate = added / (double) SAMPLES;
            assertTrue(Math.abs(rate - 0.2) <= 0.03, "added-system rate " + rate);
            assertEquals(10, used.size(), "all ten prompts are drawn: " + used);
        }
    }

    @Test
    void theSameSeedEpochAndIndexGiveTheSameText() {
        List<String> lines = plainLines(300);
        try (SftDataset a = dataset("a.jsonl", 0.5, 42, lines); SftDataset b = dataset("b.jsonl", 0.5, 42, lines);
             SftDataset otherSeed = dataset("c.jsonl", 0.5, 43, lines)) {
            int epochDiffers = 0, seedDiffers = 0;
            List<String> forward = new java.util.ArrayList<>();
            for (int i = 0; i < lines.size(); i++) forward.add(a.render(i, 0));
            // visiting order does not matter: b visits in a shuffled order, drawing epoch-1 samples in between
            List<Integer> order = new java.util.ArrayList<>();
            for (int i = 0; i < lines.size(); i++) order.add(i);
            java.util.Collections.shuffle(order, new java.util.Random(7));
            assertFalse(order.equals(new java.util.ArrayList<>(new java.util.TreeSet<>(order))), "a different order");
            for (int i : order) {
                b.render((i * 31) % lines.size(), 1);
                assertEquals(forward.get(i), b.render(i, 0), "sample " + i + " rendered in another order");
            }
            for (int i = 0; i < lines.size(); i++) {
                String first = forward.get(i);
                assertEquals(first, a.render(i, 0), "asked again, sample " + i);
                if (!first.equals(a.render(i, 1))) epochDiffers++;
                if (!first.equals(otherSeed.render(i, 0))) seedDiffers++;
            }
            assertTrue(epochDiffers > 30, "another epoch draws again: " + epochDiffers + " of 300 differ");
            assertTrue(seedDiffers > 30, "another seed draws again: " + seedDiffers + " of 300 differ");
        }
    }

    @Test
    void samplesWithASystemMessageOrToolsAreNeverAugmented() {
        String withSystem = conversations(msg("system", "自定义系统提示"), msg("user", "q"), msg("assistant", "a"));
        String withTools = conversations(msg("system", "s", "tools", "[{\"name\": \"f\"}]"), msg("user", "q"), msg("assistant", "a"));
        // tools on a later system message still make it a tool sample, as MiniMind's any(conv.get('tools')) does
        String laterTools = conversations(msg("user", "q"), msg("system", "s", "tools", "[{\"name\": \"f\"}]"), msg("assistant", "a"));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 50; i++) lines.addAll(List.of(withSystem, withTools, laterTools));
        try (SftDataset ds = dataset("kept.jsonl", 1.0, 42, lines)) {
            for (int i = 0; i < lines.size(); i++) {
                for (int epoch = 0; epoch < 3; epoch++) {
                    String text = ds.render(i, epoch);
                    switch (i % 3) {
                        case 0 -> assertTrue(text.startsWith("<|im_start|>system\n自定义系统提示<|im_end|>\n"), text);
                        case 1 -> assertTrue(text.startsWith("<|im_start|>system\ns\n\n# Tools"), text);
                        default -> assertTrue(text.startsWith("<|im_start|>system\n# Tools"), text);
                    }
                }
            }
        }
        // and at ratio 1.0 every plain sample is augmented, at 0.0 none
        try (SftDataset all = dataset("all.jsonl", 1.0, 42, plainLines(100)); SftDataset none = dataset("none.jsonl", 0.0, 42, plainLines(100))) {
            for (int i = 0; i < 100; i++) {
                assertTrue(injected(all.render(i, 0)) != null);
                assertEquals(null, injected(none.render(i, 0)));
            }
        }
    }
}
