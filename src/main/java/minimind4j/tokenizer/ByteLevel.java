package minimind4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The byte-level pre-tokenizer of HF {@code tokenizers} ({@code pre_tokenizers.ByteLevel(add_prefix_space=False)}):
 * split text with the GPT-2 regex, then spell each piece's UTF-8 bytes with one printable character per byte.
 */
public final class ByteLevel {
    private ByteLevel() {}

    /**
     * GPT-2's split. UNICODE_CHARACTER_CLASS makes {@code \s} Unicode white space, as it is in the Rust (Oniguruma)
     * regex HF uses; without it Java's {@code \s} is ASCII only and NBSP or U+3000 would split differently.
     */
    private static final Pattern SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        // GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes are moved,
        // in byte order, to U+0100.. so that no token string contains a space or control character.
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + shifted++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** The 256 byte symbols, sorted by code point: the order HF's trainer gives them ids in. */
    public static List<String> alphabet() {
        List<String> symbols = new ArrayList<>(256);
        for (char c = 0; c < 512; c++) {
            if (CHAR_TO_BYTE[c] >= 0) symbols.add(String.valueOf(c));
        }
        return symbols;
    }

    /** Splits one stretch of text (no special tokens in it) into pre-tokens, as raw strings. */
    public static List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        Matcher m = SPLIT.matcher(text);
        while (m.find()) {
            if (m.end() > m.start()) pieces.add(m.group());
        }
        return pieces;
    }

    /** Spells a string's UTF-8 bytes with the byte symbols. */
    public static String toSymbols(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }

    /** Appends the bytes a byte-symbol string stands for; throws if a character is not a byte symbol. */
    public static void appendBytes(String symbols, ByteArrayOutputStream out) {
        for (int i = 0; i < symbols.length(); i++) {
            char c = symbols.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) throw new IllegalArgumentException("not a byte-level symbol: U+" + Integer.toHexString(c));
            out.write(b);
        }
    }

    public static boolean isByteSymbol(char c) {
        return c < CHAR_TO_BYTE.length && CHAR_TO_BYTE[c] >= 0;
    }
}
