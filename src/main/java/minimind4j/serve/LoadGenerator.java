package minimind4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small closed-loop load generator for an OpenAI-compatible chat server: {@code clients} concurrent clients each
 * send streamed chat requests back to back until {@code requests} have been sent in all. Reports completion tokens
 * per second over the wall time, and latency percentiles (whole request, and time to first content).
 */
public final class LoadGenerator {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] QUESTIONS = {
            "你好，介绍一下你自己", "为什么天空是蓝色的？", "推荐一些中国的美食", "解释什么是机器学习",
            "如果明天下雨，我应该如何出门", "讲一个很长的故事", "What is the capital of France?", "写一首关于春天的诗",
    };

    /** One load level's numbers. */
    public record Result(int clients, int requests, int failed, long completionTokens, double seconds,
                         double tokensPerSecond, double p50Seconds, double p99Seconds, double ttftP50Seconds) {}

    private final String url;
    private final String apiKey;
    private final int maxTokens;
    private final HttpClient http;

    public LoadGenerator(String url, String apiKey, int maxTokens) {
        this.url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        this.apiKey = apiKey;
        this.maxTokens = maxTokens;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .executor(Executors.newCachedThreadPool(r -> {
                    Thread t = new Thread(r, "loadtest-http");
                    t.setDaemon(true);
                    return t;
                })).build();
    }

    public Result run(int clients, int requests) throws Exception {
        AtomicInteger next = new AtomicInteger();
        List<double[]> samples = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger failed = new AtomicInteger();
        long[] tokens = new long[clients];
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long start = System.nanoTime();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                done.add(pool.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < requests; ) {
                        try {
                            double[] s = one(i);
                            samples.add(s);
                            tokens[client] += (long) s[2];
                        } catch (Exception e) {
                            failed.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long total = Arrays.stream(tokens).sum();
        double[] latency = samples.stream().mapToDouble(s -> s[0]).sorted().toArray();
        double[] ttft = samples.stream().mapToDouble(s -> s[1]).sorted().toArray();
        return new Result(clients, requests, failed.get(), total, seconds, total / seconds, percentile(latency, 50),
                percentile(latency, 99), percentile(ttft, 50));
    }

    /** One streamed request: {whole seconds, seconds to first content, completion tokens}. */
    private double[] one(int i) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", "minimind").put("stream", true).put("max_tokens", maxTokens).put("seed", i);
        body.putObject("stream_options").put("include_usage", true);
        body.putArray("messages").addObject().put("role", "user").put("content", QUESTIONS[i % QUESTIONS.length]);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + "/v1/chat/completions"))
                .timeout(Duration.ofMinutes(10)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
        long t0 = System.nanoTime();
        HttpResponse<InputStream> res = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        if (res.statusCode() != 200) {
            res.body().close();
            throw new IllegalStateException("HTTP " + res.statusCode());
        }
        double first = -1;
        int completion = -1;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.startsWith("data: {")) continue;
                JsonNode chunk = JSON.readTree(line.substring(6));
                if (first < 0 && !chunk.at("/choices/0/delta/content").asText("").isEmpty())
                    first = (System.nanoTime() - t0) / 1e9;
                if (chunk.has("usage")) completion = chunk.at("/usage/completion_tokens").asInt();
                if (chunk.has("error")) throw new IllegalStateException(chunk.get("error").toString());
            }
        }
        double whole = (System.nanoTime() - t0) / 1e9;
        if (completion < 0) throw new IllegalStateException("no usage chunk");
        return new double[]{whole, first < 0 ? whole : first, completion};
    }

    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        int rank = (int) Math.ceil(p / 100.0 * sorted.length) - 1; // nearest-rank
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank))];
    }
}
