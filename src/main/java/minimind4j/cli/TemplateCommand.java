package minimind4j.cli;

import minimind4j.UserError;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import minimind4j.data.formats.Conversation;
import minimind4j.tokenizer.ChatTemplate;
import minimind4j.tokenizer.TokenizerConfig;
import minimind4j.tokenizer.jinja.TemplateException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code minimind template}: the prompt text SFT trains on, for each conversation of a jsonl file. */
@Command(name = "template", mixinStandardHelpOptions = true,
        description = {"Render each conversation of an SFT jsonl file with the tokenizer's chat template, exactly as"
                + " transformers' apply_chat_template renders it, and print one JSON string per line.",
                "Each line is {\"conversations\": [{\"role\": ..., \"content\": ...}, ...]}; a system message's"
                        + " \"tools\" (or \"functions\") become the template's tools and \"tool_calls\" given as a"
                        + " JSON string is parsed, as MiniMind's SFTDataset does."})
public final class TemplateCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = {"--tokenizer_path", "--tokenizer-path"}, required = true, paramLabel = "DIR",
            description = "Folder with tokenizer_config.json (holding chat_template), e.g. MiniMind's model/.")
    Path tokenizerPath;

    @Option(names = "--data", required = true, paramLabel = "FILE.jsonl",
            description = "SFT data: one {\"conversations\": [...]} object per line.")
    Path data;

    @Option(names = {"--add_generation_prompt", "--add-generation-prompt"},
            description = "End each prompt with the assistant header, as for generation.")
    boolean addGenerationPrompt;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        TokenizerConfig config = readConfig(tokenizerPath);
        ChatTemplate template;
        try {
            if (config.chatTemplate() == null) {
                throw new UserError(tokenizerPath.resolve("tokenizer_config.json")
                        + ": has no chat_template (and there is no chat_template.jinja beside it); use a tokenizer folder from a chat model (e.g. MiniMind's model/)");
            }
            template = ChatTemplate.compile(config.chatTemplate());
        } catch (TemplateException e) {
            throw new UserError(minimind4j.tokenizer.TokenizerConfig.templateSource(tokenizerPath.resolve("tokenizer_config.json")) + ": chat_template: " + e.getMessage()
                    + "; fix the template or restore the file", e);
        }
        if (!Files.isRegularFile(data)) {
            throw new UserError("--data " + data + ": no such file; pass a jsonl file with one {\"conversations\": [...]}"
                    + " per line");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (BufferedReader reader = Files.newBufferedReader(data, StandardCharsets.UTF_8)) {
            String line;
            int lineNumber = 0;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) continue;
                Conversation conversation = parseLine(line, lineNumber);
                String prompt;
                try {
                    prompt = template.render(config.chatContext(conversation.messages(), conversation.tools(),
                            addGenerationPrompt, null));
                } catch (TemplateException e) {
                    throw new UserError(data + ":" + lineNumber + ": the chat template failed on this conversation ("
                            + e.getMessage() + "); fix the conversation", e);
                }
                out.println(TokenizeCommand.json(prompt));
            }
        } catch (IOException e) {
            throw new UserError("--data " + data + ": cannot read (" + e.getMessage() + "); check the path and"
                    + " permissions", e);
        } finally {
            out.flush();
        }
        return 0;
    }

    /**
     * The conversation of one line, prepared as SFT prepares it but not checked for training (a line without an
     * assistant turn still renders): this command shows what the template makes of the data as it is.
     */
    private Conversation parseLine(String line, int lineNumber) {
        Object parsed;
        try {
            parsed = JSON.readValue(line, Object.class);
        } catch (JsonProcessingException e) {
            throw new UserError(data + ":" + lineNumber + ": not valid JSON (" + e.getOriginalMessage()
                    + "); each line must be one {\"conversations\": [...]} object", e);
        }
        if (!(parsed instanceof Map<?, ?> map) || !map.containsKey("conversations")) {
            throw new UserError(data + ":" + lineNumber + ": expected an object with a \"conversations\" list;"
                    + " each line must be {\"conversations\": [{\"role\": ..., \"content\": ...}, ...]}");
        }
        if (!(map.get("conversations") instanceof List<?> messages)) {
            throw new UserError(data + ":" + lineNumber + ": \"conversations\" must be a list of {\"role\", \"content\"}"
                    + " objects; fix this line");
        }
        try {
            return Conversation.prepare(messages);
        } catch (Conversation.Invalid e) {
            throw new UserError(data + ":" + lineNumber + ": " + e.getMessage() + "; fix this line", e);
        }
    }

    private static TokenizerConfig readConfig(Path dir) {
        Path file = dir.resolve("tokenizer_config.json");
        if (!Files.isDirectory(dir)) {
            throw new UserError("--tokenizer_path " + dir + ": not a directory; pass the folder holding"
                    + " tokenizer_config.json");
        }
        if (!Files.isRegularFile(file)) {
            throw new UserError(file + ": missing; copy it from the model repository (e.g. MiniMind's model/)");
        }
        try {
            return TokenizerConfig.read(file);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new UserError(e.getMessage(), e);
        }
    }
}
