package minimind4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.TestPaths;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ScriptedModel;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Streamed deltas never split a character: the server streams a reply known in advance (a scripted model whose greedy
 * reply is "你好🎉！", the emoji spanning four byte tokens of MiniMind2's tokenizer), so a delta cut inside the emoji
 * would show as U+FFFD or a delta that is not a whole character sequence.
 */
class StreamedCharactersTest {
    static final String REPLY = "你好🎉！";

    @Test
    void aCharacterSpanningFourTokensArrivesInOneDelta() throws Exception {
        ObjectMapper json = new ObjectMapper();
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(TestPaths.minimind2())) {
            int[] reply = tok.encode(REPLY);
            assertArrayEquals(new int[]{5134, 175, 256, 239, 234, 2207}, reply, "MiniMind2's tokens: 🎉 is 4 byte tokens");
            String prompt = tok.applyChatTemplate(List.of(Map.of("role", "user", "content", "hi")), null, true, Map.of());
            int[] ids = tok.encode(prompt);
            int[] chain = new int[reply.length + 2];
            chain[0] = ids[ids.length - 1];
            System.arraycopy(reply, 0, chain, 1, reply.length);
            chain[chain.length - 1] = tok.eosId();
            try (MiniMindLM model = ScriptedModel.of(chain);
                 ChatServer server = ChatServer.start(model, tok, new ChatServer.Options("127.0.0.1", 0, 4096, 32, 256, "scripted"), c -> {})) {
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":0,\"stream\":true}";
                HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/chat/completions"))
                        .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build(),
                        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                assertEquals(200, res.statusCode(), res.body());
                List<String> deltas = new ArrayList<>();
                String finish = null;
                for (String line : res.body().split("\n")) {
                    if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
                    JsonNode c = json.readTree(line.substring(6)).at("/choices/0");
                    String d = c.path("delta").path("content").asText("");
                    if (!d.isEmpty()) deltas.add(d);
                    if (c.hasNonNull("finish_reason")) finish = c.get("finish_reason").asText();
                }
                assertEquals("stop", finish, res.body());
                assertEquals(REPLY, String.join("", deltas), "the reply the scripted model was built to give");
                for (String d : deltas) {
                    assertFalse(d.contains("\uFFFD"), "a delta split a character: " + deltas);
                    assertFalse(Character.isHighSurrogate(d.charAt(d.length() - 1)), "a delta ends inside a surrogate pair: " + deltas);
                }
                assertTrue(deltas.contains("🎉"), "the emoji's four tokens arrive as one delta: " + deltas);
            }
        }
    }
}
