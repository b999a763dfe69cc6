package minimind4j.export;

import minimind4j.TestPaths;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Modelfile's TEMPLATE pieces come from rendering each tokenizer's own chat template (read from MiniMind's
 * tokenizer_config.json files): MiniMind2 adds a default system turn, minimind-3 an empty think block. Ollama itself
 * is not run here (not installed); the Go template is checked by reading only.
 */
class OllamaModelfileTest {
    @Test
    void piecesFollowEachTemplate() {
        try (MiniMindTokenizer m2 = MiniMindTokenizer.load(TestPaths.minimind2()); MiniMindTokenizer m3 = MiniMindTokenizer.load(TestPaths.minimind3())) {
            OllamaModelfile.Pieces p2 = OllamaModelfile.pieces(m2), p3 = OllamaModelfile.pieces(m3);
            assertEquals("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n", p2.defaultSystem());
            assertEquals("<|im_start|>assistant\n", p2.generationPrompt());
            assertEquals("<|im_start|>assistant\n", p2.assistantOpen());
            assertEquals("", p3.defaultSystem());
            assertEquals("<|im_start|>assistant\n<think>\n\n</think>\n\n", p3.generationPrompt());
            assertEquals("<|im_start|>assistant\n<think>\n\n</think>\n\n", p3.assistantOpen());
            for (OllamaModelfile.Pieces p : new OllamaModelfile.Pieces[]{p2, p3}) {
                assertTrue(p.toolsHead().startsWith("# Tools\n\nYou may call one or more functions") && p.toolsHead().endsWith("<tools>"), p.toolsHead());
                assertTrue(p.toolsTail().startsWith("\n</tools>\n\nFor each function call") && p.toolsTail().endsWith("</tool_call><|im_end|>\n"), p.toolsTail());
            }
            String modelfile = OllamaModelfile.of("./m.gguf", m3);
            assertTrue(modelfile.contains("FROM ./m.gguf\n") && modelfile.contains("PARAMETER stop \"<|im_end|>\"\n")
                    && modelfile.contains("PARAMETER temperature 0.85\n") && modelfile.contains("PARAMETER top_p 0.85\n"), modelfile);
            assertFalse(modelfile.substring(modelfile.indexOf("TEMPLATE")).contains("\"\"\"\"\"\""));
        }
    }
}
