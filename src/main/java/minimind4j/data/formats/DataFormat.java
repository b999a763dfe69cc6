package minimind4j.data.formats;

import minimind4j.UserError;
import minimind4j.data.formats.Conversation.Invalid;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The SFT input formats ({@code --data_format}), each with its own converter to the canonical {@link Conversation}.
 * {@link #AUTO} picks the format from each record's keys. Whatever the format, records of data that is not for SFT
 * (preference pairs, KTO labels, multimodal samples, pretrain text) are refused with {@link NotSftData}.
 */
public enum DataFormat {
    AUTO, MINIMIND, OPENAI, SHAREGPT, ALPACA, PROMPT_COMPLETION;

    public static final String NAMES = "auto, minimind, openai, sharegpt, alpaca, prompt_completion";

    public static DataFormat fromFlag(String flag) {
        if (flag == null) return AUTO;
        try {
            return valueOf(flag.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new UserError("--data_format " + flag + ": expected one of " + NAMES);
        }
    }

    public String flag() { return name().toLowerCase(Locale.ROOT); }

    /** Parses one JSON record; not checked for training (see {@link Conversation#checkTrainable}). */
    public Conversation parse(String json) throws Invalid {
        return convert(Fields.object(json));
    }

    public Conversation convert(Map<String, Object> record) throws Invalid {
        refuseNotSft(record);
        DataFormat f = this == AUTO ? detect(record) : this;
        return switch (f) {
            case MINIMIND -> MiniMindFormat.convert(record);
            case OPENAI -> OpenAiFormat.convert(record);
            case SHAREGPT -> ShareGptFormat.convert(record);
            case ALPACA -> AlpacaFormat.convert(record);
            case PROMPT_COMPLETION -> PromptCompletionFormat.convert(record);
            case AUTO -> throw new IllegalStateException();
        };
    }

    /** The format a record's keys say it is in. */
    public static DataFormat detect(Map<String, Object> record) throws Invalid {
        if (record.get("conversations") instanceof List<?> l) return speakers(l) ? SHAREGPT : MINIMIND;
        if (record.get("messages") instanceof List<?> l) return speakers(l) ? SHAREGPT : OPENAI;
        if (record.containsKey("prompt") && record.containsKey("completion")) return PROMPT_COMPLETION;
        if (record.containsKey("instruction") || record.containsKey("output")) return ALPACA;
        throw new Invalid("no conversation found (keys: " + String.join(", ", new TreeSet<>(record.keySet()))
                + "); expected \"conversations\", \"messages\", \"instruction\"/\"output\" or \"prompt\"/\"completion\"");
    }

    /** ShareGPT's {@code from}/{@code value} messages rather than {@code role}/{@code content}. */
    private static boolean speakers(List<?> messages) {
        for (Object m : messages) if (m instanceof Map<?, ?> mm) return mm.containsKey("from") && !mm.containsKey("role");
        return false;
    }

    /** Records that are data for another kind of training, by their keys (LLaMA-Factory's, TRL's, OpenAI's names). */
    static void refuseNotSft(Map<String, Object> r) throws NotSftData {
        for (String k : List.of("chosen", "rejected", "chosen_messages", "rejected_messages", "chosen_response", "rejected_response")) {
            if (r.containsKey(k))
                throw new NotSftData("preference (DPO)", "records with \"" + k + "\" are pairs of replies to rank; train them with"
                        + " `minimind dpo` (MiniMind's train_dpo.py), or keep only the chosen reply as the assistant turn for SFT");
        }
        if (r.get("label") instanceof Boolean || r.get("kto_tag") instanceof Boolean)
            throw new NotSftData("KTO", "records with a true/false \"label\" rate their reply; train them with a KTO trainer,"
                    + " or keep the label: true records without the label for SFT");
        for (String k : List.of("images", "videos", "audios", "image", "video", "audio")) {
            if (Fields.isPresent(r.get(k))) throw Fields.multimodal("the \"" + k + "\" field");
        }
        boolean conversational = r.containsKey("conversations") || r.containsKey("messages") || r.containsKey("instruction")
                || r.containsKey("output") || r.containsKey("prompt") || r.containsKey("completion");
        if (r.containsKey("text") && !conversational)
            throw new NotSftData("pretrain text", "{\"text\": ...} records are raw text; train them with `minimind pretrain`");
    }
}
