package minimind4j.cli;

import minimind4j.UserError;

import minimind4j.checkpoint.Weights;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.train.RunFiles;
import minimind4j.serve.ChatServer;
import minimind4j.tokenizer.MiniMindTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"An OpenAI-compatible chat API for one model, as MiniMind's scripts/serve_openai_api.py:",
                "POST /v1/chat/completions (stream or not, tools), GET /v1/models, GET /health, a chat page at /.",
                "Concurrent requests are decoded together (--max_batch). Ctrl-C stops."})
public final class ServeCommand implements Callable<Integer> {
    @Mixin
    WeightFiles w = new WeightFiles();
    @picocli.CommandLine.Option(names = "--dtype", defaultValue = "float32",
            description = "float32, bfloat16 or float16: generate under autocast in that type, on a CPU as on CUDA (default: float32)")
    String dtype;
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: 127.0.0.1, this machine only; on loopback only loopback Host names are answered)")
    String host;
    @Option(names = "--port", defaultValue = "8998", description = "Port; 0 = any free port (default: 8998)")
    int port;
    @Option(names = {"--max_body_bytes", "--max-body-bytes"}, defaultValue = "1048576", description = "Largest request body accepted (default: 1048576)")
    long maxBodyBytes;
    @Option(names = {"--max_new_tokens", "--max-new-tokens"}, defaultValue = "2048", description = "Most tokens per reply; a larger max_tokens is lowered to this (default: 2048)")
    int maxNewTokens;
    @Option(names = {"--max_seq_len", "--max-seq-len"}, defaultValue = "0", description = "Most prompt + reply tokens per request; 0 = the model's max positions (default: 0)")
    int maxSeqLen;
    @Option(names = {"--api_key", "--api-key"}, description = "Require Authorization: Bearer <key> on /v1/* (default: $MINIMIND_API_KEY, else none)")
    String apiKey;
    @Option(names = {"--cors_origin", "--cors-origin"}, split = ",", description = "Origins whose web pages may call the API, e.g. http://localhost:3000, or * (default: none)")
    List<String> corsOrigins = new ArrayList<>();
    @Option(names = {"--max_batch", "--max-batch"}, defaultValue = "32", description = "Requests decoded together at most; 1 = one at a time (default: 32)")
    int maxBatch;
    @Option(names = {"--max_queue", "--max-queue"}, defaultValue = "64", description = "Requests waiting for a batch slot at most; more get 429 + Retry-After (default: 64)")
    int maxQueue;
    @Option(names = {"--max_prompt_tokens", "--max-prompt-tokens"}, defaultValue = "8192", description = "Longest prompt accepted, in tokens; 0 = whatever the context holds (default: 8192)")
    int maxPromptTokens;
    @Option(names = {"--request_timeout", "--request-timeout"}, defaultValue = "600", description = "Seconds a request may take from arrival to its last token; 0 = no limit (default: 600)")
    double requestTimeout;
    @Option(names = {"--max_connections", "--max-connections"}, defaultValue = "256", description = "Open connections at most; more wait to be accepted (default: 256)")
    int maxConnections;
    @Option(names = {"--idle_timeout", "--idle-timeout"}, defaultValue = "60", description = "Seconds a connection may stay silent (default: 60)")
    double idleTimeout;
    @Option(names = {"--header_timeout", "--header-timeout"}, defaultValue = "10", description = "Seconds to send a complete request head, from connecting or the previous response (default: 10)")
    double headerTimeout;
    @Option(names = {"--body_timeout", "--body-timeout"}, defaultValue = "30", description = "Seconds to send a complete request body after its head (default: 30)")
    double bodyTimeout;

    /** Where the listening line and the request log go; null = standard output as UTF-8 (tests set their own). */
    PrintStream out;
    /** Counted down by Ctrl-C (the shutdown hook), or by a test, to stop serving. */
    final CountDownLatch stop = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        PrintStream out = this.out != null ? this.out
                : new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        if (port < 0 || port > 65535) throw new UserError("--port " + port + ": expected 0..65535");
        if (maxBodyBytes < 1) throw new UserError("--max_body_bytes must be at least 1");
        if (maxNewTokens < 1) throw new UserError("--max_new_tokens must be at least 1");
        if (maxSeqLen < 0) throw new UserError("--max_seq_len must be >= 0 (0 = the model's max positions)");
        if (maxBatch < 1) throw new UserError("--max_batch must be at least 1");
        if (maxQueue < 0) throw new UserError("--max_queue must be >= 0");
        if (maxPromptTokens < 0) throw new UserError("--max_prompt_tokens must be >= 0 (0 = no limit but the context)");
        if (maxConnections < 1) throw new UserError("--max_connections must be at least 1");
        if (!(requestTimeout >= 0)) throw new UserError("--request_timeout must be >= 0 seconds (0 = no limit)");
        for (double t : new double[]{idleTimeout, headerTimeout, bodyTimeout}) {
            if (!(t > 0)) throw new UserError("--idle_timeout, --header_timeout and --body_timeout must be positive seconds");
        }
        String key = apiKey != null ? apiKey : System.getenv("MINIMIND_API_KEY");
        for (String o : corsOrigins) {
            if (!o.equals("*") && !o.matches("https?://[^/\\s]+")) {
                throw new UserError("--cors_origin " + o + ": expected an origin such as http://localhost:3000 (scheme://host[:port], no path), or *");
            }
        }
        ChatServer.Limits limits = new ChatServer.Limits(maxBatch, maxQueue, maxPromptTokens, millis(requestTimeout),
                maxConnections, millis(idleTimeout), millis(headerTimeout), millis(bodyTimeout));
        ChatServer.Access access = new ChatServer.Access(key, corsOrigins);
        w.applyThreads();
        RunFiles.Loaded weights = w.read();
        Path file = weights.file();
        ModelConfig c = w.config(weights);
        MiniMindTokenizer tok;
        try {
            tok = MiniMindTokenizer.load(w.tokenizerPath);
        } catch (IllegalArgumentException e) {
            throw new UserError("--tokenizer_path: " + e.getMessage());
        }
        CountDownLatch released = new CountDownLatch(1);
        boolean served = false;
        try (tok; MiniMindLM m = loadModel(weights, c)) {
            String id = WeightFiles.modelId(file);
            ChatServer.Options options = new ChatServer.Options(host, port, maxBodyBytes, maxNewTokens, maxSeqLen, id,
                    limits, access);
            ChatServer server;
            try {
                server = ChatServer.start(m, tok, options, done -> out.printf(Locale.ROOT,
                        "%s %s: %d prompt + %d completion tokens, %s, %.2f s%n", done.id(), done.stream() ? "stream" : "json",
                        done.promptTokens(), done.completionTokens(), done.finishReason(), done.seconds()));
            } catch (BindException e) {
                throw new UserError(host + ":" + port + ": cannot listen (" + e.getMessage() + "); is another server"
                        + " using the port? Pick another with --port");
            } catch (UnknownHostException e) {
                throw new UserError("--host " + host + ": unknown host");
            } catch (IOException e) {
                throw new UserError(host + ":" + port + ": cannot listen (" + e.getMessage() + ")");
            }
            // Ctrl-C runs this hook; the JVM exits when it returns, so it waits until the model has been freed below
            Thread hook = new Thread(() -> {
                stop.countDown();
                try {
                    released.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }, "minimind-serve-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                out.printf(Locale.ROOT, "minimind serve: %s (%s, %,d parameters, context %d tokens)%n", id,
                        file, m.parameterCount(), server.contextLimit());
                out.println("listening on " + server.url() + "/v1  (POST /v1/chat/completions, GET /v1/models, GET /health;"
                        + " chat page at " + server.url() + "/; " + (key != null ? "API key required" : "no API key")
                        + "; Ctrl-C stops)");
                stop.await();
                served = true;
            } finally {
                server.close();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is what is stopping us
                }
            }
        } finally {
            // said before the hook is released: once it returns, the JVM halts
            if (served) out.println("minimind serve: stopped");
            released.countDown();
        }
        return 0;
    }

    /** The model to serve, on its device (the one place that decides what is loaded). */
    private MiniMindLM loadModel(RunFiles.Loaded weights, ModelConfig c) {
        return w.onDevice(Weights.load(weights.file(), weights.tensors(), c, w.strict.strict(), System.err), dtype);
    }

    private static long millis(double seconds) {
        return Math.round(seconds * 1000);
    }
}
