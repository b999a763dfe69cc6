package minimind4j.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the two files MiniMind keeps in a tokenizer directory, in the layout HF {@code tokenizers} and
 * {@code transformers} use: {@code tokenizer.json} (model BPE, ByteLevel pre-tokenizer and decoder) and
 * {@code tokenizer_config.json} (bos/eos/pad tokens and the chat template).
 */
public final class TokenizerFiles {
    public static final String TOKENIZER_JSON = "tokenizer.json";
    public static final String TOKENIZER_CONFIG_JSON = "tokenizer_config.json";
    public static final String BOS_TOKEN = "<|im_start|>";
    public static final String EOS_TOKEN = "<|im_end|>";
    public static final String PAD_TOKEN = "<|endoftext|>";
    public static final int DEFAULT_MODEL_MAX_LENGTH = 32768;

    private static final ObjectMapper MAPPER = new ObjectMapper();
    // Two-space indent, "key": value, one array element per line: the layout of MiniMind's own files.
    private static final ObjectWriter WRITER = MAPPER.writer(new DefaultPrettyPrinter(Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                    .withObjectEmptySeparator("")
                    .withArrayEmptySeparator(""))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    private TokenizerFiles() {}

    /** Writes tokenizer.json and tokenizer_config.json into {@code dir}, each through a temp file and a rename. */
    public static void write(Path dir, BpeModel model, int modelMaxLength) throws IOException {
        Files.createDirectories(dir);
        writeAtomically(dir.resolve(TOKENIZER_JSON), tokenizerJson(model));
        writeAtomically(dir.resolve(TOKENIZER_CONFIG_JSON), tokenizerConfigJson(model, modelMaxLength));
    }

    /** The tokenizer.json text; the same model always gives the same bytes. */
    public static String tokenizerJson(BpeModel model) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int id = 0; id < model.specialTokens().size(); id++) {
            ObjectNode t = added.addObject();
            t.put("id", id);
            t.put("content", model.specialTokens().get(id));
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        byteLevel(pre, false);
        root.putNull("post_processor");
        // decoders.ByteLevel() serializes with its defaults; add_prefix_space plays no part in decoding.
        byteLevel(root.putObject("decoder"), true);
        ObjectNode bpe = root.putObject("model");
        bpe.put("type", "BPE");
        bpe.putNull("dropout");
        bpe.putNull("unk_token");
        bpe.putNull("continuing_subword_prefix");
        bpe.putNull("end_of_word_suffix");
        bpe.put("fuse_unk", false);
        bpe.put("byte_fallback", false);
        bpe.put("ignore_merges", false);
        ObjectNode vocab = bpe.putObject("vocab");
        for (int id = 0; id < model.vocab().size(); id++) vocab.put(model.vocab().get(id), id);
        ArrayNode merges = bpe.putArray("merges");
        for (BpeModel.Merge m : model.merges()) merges.addArray().add(m.left()).add(m.right());
        return toJson(root);
    }

    private static void byteLevel(ObjectNode node, boolean addPrefixSpace) {
        node.put("type", "ByteLevel");
        node.put("add_prefix_space", addPrefixSpace);
        node.put("trim_offsets", true);
        node.put("use_regex", true);
    }

    /** The tokenizer_config.json text: MiniMind's token roles, no bos/eos added by encode, this project's template. */
    public static String tokenizerConfigJson(BpeModel model, int modelMaxLength) {
        List<String> specials = model.specialTokens();
        ObjectNode root = MAPPER.createObjectNode();
        root.put("add_bos_token", false);
        root.put("add_eos_token", false);
        root.put("add_prefix_space", false);
        ObjectNode decoder = root.putObject("added_tokens_decoder");
        for (int id = 0; id < specials.size(); id++) {
            ObjectNode t = decoder.putObject(Integer.toString(id));
            t.put("content", specials.get(id));
            t.put("lstrip", false);
            t.put("normalized", false);
            t.put("rstrip", false);
            t.put("single_word", false);
            t.put("special", true);
        }
        ArrayNode additional = root.putArray("additional_special_tokens");
        specials.stream().filter(t -> !t.equals(PAD_TOKEN)).forEach(additional::add);
        root.put("bos_token", BOS_TOKEN);
        root.put("clean_up_tokenization_spaces", false);
        root.put("eos_token", EOS_TOKEN);
        root.put("legacy", true);
        root.put("model_max_length", modelMaxLength);
        root.put("pad_token", PAD_TOKEN);
        root.putObject("sp_model_kwargs");
        root.put("spaces_between_special_tokens", false);
        root.put("tokenizer_class", "PreTrainedTokenizerFast");
        root.put("unk_token", PAD_TOKEN);
        root.put("chat_template", chatTemplate());
        return toJson(root);
    }

    /** This project's chat template (MiniMind's ChatML format), as stored in tokenizer_config.json. */
    public static String chatTemplate() {
        try (InputStream in = TokenizerFiles.class.getResourceAsStream("chat_template.jinja")) {
            if (in == null) throw new IllegalStateException("chat_template.jinja missing from the class path");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads a byte-level BPE tokenizer.json (this project's or MiniMind's). All added tokens count as special
     * tokens here: encoding cuts every one of them out of the text, as HF does.
     */
    public static BpeModel read(Path tokenizerJson) throws IOException {
        JsonNode root = MAPPER.readTree(tokenizerJson.toFile());
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText())) {
            throw new IOException(tokenizerJson + ": model.type is not BPE");
        }
        TreeMap<Integer, String> byId = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            byId.put(e.getValue().asInt(), e.getKey());
        }
        List<String> vocab = new ArrayList<>(byId.values());
        if (!byId.isEmpty() && (byId.firstKey() != 0 || byId.lastKey() != vocab.size() - 1)) {
            throw new IOException(tokenizerJson + ": vocabulary ids are not 0.." + (vocab.size() - 1));
        }
        List<String> added = new ArrayList<>();
        Map<Integer, String> addedById = new TreeMap<>();
        for (JsonNode t : root.path("added_tokens")) addedById.put(t.path("id").asInt(), t.path("content").asText());
        added.addAll(addedById.values());
        List<BpeModel.Merge> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            if (m.isArray()) {
                merges.add(new BpeModel.Merge(m.get(0).asText(), m.get(1).asText()));
            } else {
                // Older files write a merge as one string, "left right"; byte symbols never contain a space.
                String[] parts = m.asText().split(" ", 2);
                merges.add(new BpeModel.Merge(parts[0], parts[1]));
            }
        }
        return new BpeModel(added, vocab, merges);
    }

    private static String toJson(JsonNode node) {
        try {
            return WRITER.writeValueAsString(node) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code text} to {@code target} so that a reader never sees a half-written file. */
    public static void writeAtomically(Path target, String text) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
