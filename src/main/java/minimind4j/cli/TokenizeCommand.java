package minimind4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import minimind4j.tokenizer.MiniMindTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code minimind tokenize}: token ids of a text, to compare with Python's {@code tokenizer(text).input_ids}. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Encode a text with a MiniMind tokenizer and print its token ids as a JSON array.",
                "No special tokens are added and nothing is truncated, like Python's"
                        + " tokenizer(text, add_special_tokens=False)."})
public final class TokenizeCommand implements Callable<Integer> {

    @Option(names = {"--tokenizer_path", "--tokenizer-path"}, required = true, paramLabel = "DIR",
            description = "Folder with tokenizer.json and tokenizer_config.json (e.g. MiniMind's model/).")
    Path tokenizerPath;

    @Option(names = "--text", required = true, description = "The text to encode.")
    String text;

    @Option(names = "--decode", description = "Also print the ids decoded back to text, as a JSON string.")
    boolean decode;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        try (MiniMindTokenizer tokenizer = MiniMindTokenizer.load(tokenizerPath)) {
            int[] ids = tokenizer.encode(text);
            PrintWriter out = spec.commandLine().getOut();
            out.println(Arrays.toString(ids));
            if (decode) out.println(json(tokenizer.decode(ids, false)));
            out.flush();
        }
        return 0;
    }

    static String json(String s) {
        try {
            return new ObjectMapper().writeValueAsString(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
