package minimind4j.tokenizer;

import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Cuts special tokens out of raw text before pre-tokenization, as HF's added-vocabulary step does: a special token
 * is matched wherever it occurs (leftmost, longest first) and the text around it is tokenized on its own.
 */
final class SpecialTokenSplitter {
    private final List<String> tokens;
    private final Pattern pattern;

    SpecialTokenSplitter(List<String> tokens) {
        this.tokens = List.copyOf(tokens);
        this.pattern = tokens.isEmpty() ? null : Pattern.compile(tokens.stream()
                .sorted(Comparator.comparingInt(String::length).reversed().thenComparing(Comparator.naturalOrder()))
                .map(Pattern::quote)
                .collect(Collectors.joining("|")));
    }

    /** Calls {@code onText} for each non-empty stretch between special tokens and {@code onSpecial} with a token's index. */
    void split(String text, Consumer<String> onText, IntConsumer onSpecial) {
        if (pattern == null) {
            if (!text.isEmpty()) onText.accept(text);
            return;
        }
        Matcher m = pattern.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) onText.accept(text.substring(last, m.start()));
            onSpecial.accept(tokens.indexOf(m.group()));
            last = m.end();
        }
        if (last < text.length()) onText.accept(text.substring(last));
    }
}
