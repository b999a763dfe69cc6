package minimind4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.TestPaths;
import minimind4j.checkpoint.Weights;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** {@code minimind serve}: loads a weight file, prints where it listens, serves, stops. */
class ServeCommandTest {

    /** Both families; minimind-3 as its MoE (router, top-1, no shared expert). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"minimind2, full_sft_32", "minimind3, full_sft_32_moe"})
    void servesAWeightFileUntilStopped(String family, String id, @TempDir Path dir) throws Exception {
        Path file = dir.resolve(id + ".pth");
        ModelConfig c = family.equals("minimind3") ? ModelConfig.minimind3(32, 2, true) : ModelConfig.minimind2(32, 2, false);
        Path tokenizer = family.equals("minimind3") ? TestPaths.minimind3() : TestPaths.minimind2();
        try (MiniMindLM m = MiniMindLM.init(c, 4)) {
            Weights.saveHalf(file, m);
        }
        ServeCommand command = new ServeCommand();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        command.out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        CommandLine cli = new CommandLine(command);
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cli.execute("--weight", file.toString(),
                "--tokenizer_path", tokenizer.toString(), "--port", "0", "--max_new_tokens", "4"));
        String url = null;
        Pattern listening = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)/v1");
        for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60); url == null && System.nanoTime() < end; ) {
            Matcher matcher = listening.matcher(bytes.toString(StandardCharsets.UTF_8));
            if (matcher.find()) url = matcher.group(1);
            else if (exit.isDone()) fail("serve exited early: " + exit.get() + "\n" + bytes);
            else Thread.sleep(20);
        }
        assertTrue(url != null, "no listening line: " + bytes);
        try {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/models")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            ObjectMapper json = new ObjectMapper();
            assertEquals(id, json.readTree(models.body()).at("/data/0/id").asText());
            HttpResponse<String> chat = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}],"
                            + " \"max_tokens\": 100, \"temperature\": 0}")).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode reply = json.readTree(chat.body());
            assertEquals(200, chat.statusCode(), chat.body());
            assertEquals(4, reply.at("/usage/completion_tokens").asInt(), "max_tokens is lowered to --max_new_tokens");
        } finally {
            command.stop.countDown();
        }
        assertEquals(0, exit.get(60, TimeUnit.SECONDS));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("minimind serve: " + id), out);
        assertTrue(out.contains("4 completion tokens, length"), "each request is logged: " + out);
        assertTrue(out.endsWith("minimind serve: stopped\n"), out);
    }

    @Test
    void badSettingsAreOneLineErrors(@TempDir Path dir) {
        CliRun missing = CliRun.of("serve", "--weight", dir.resolve("missing.pth").toString());
        assertEquals(2, missing.code());
        assertEquals("error: " + dir.resolve("missing.pth") + ": no such weight file", missing.err().strip());
        // a weight file that exists, so only the port can be what is refused
        Path file = dir.resolve("full_sft_32.pth");
        try (MiniMindLM m = MiniMindLM.init(ModelConfig.minimind2(32, 1, false), 4)) {
            Weights.saveHalf(file, m);
        }
        CliRun port = CliRun.of("serve", "--weight", file.toString(), "--tokenizer_path", TestPaths.minimind2().toString(), "--port", "70000");
        assertEquals(2, port.code(), port.err());
        assertEquals("error: --port 70000: expected 0..65535", port.err().strip());
    }
}
