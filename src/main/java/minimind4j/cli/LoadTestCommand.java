package minimind4j.cli;

import minimind4j.UserError;

import minimind4j.serve.LoadGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "loadtest", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Load-tests a running `minimind serve` (or any OpenAI-compatible server): at each level, that many",
                "clients send streamed chat requests back to back. Prints tokens/s and latency percentiles per level."})
public final class LoadTestCommand implements Callable<Integer> {
    @Option(names = "--url", defaultValue = "http://127.0.0.1:8998", description = "Server base URL (default: http://127.0.0.1:8998)")
    String url;
    @Option(names = "--clients", split = ",", defaultValue = "1,8,32", description = "Concurrent clients per level (default: 1,8,32)")
    List<Integer> clients;
    @Option(names = "--requests", defaultValue = "0", description = "Requests per level; 0 = 4 per client, at least 8 (default: 0)")
    int requests;
    @Option(names = {"--max_tokens", "--max-tokens"}, defaultValue = "32", description = "max_tokens of each request (default: 32)")
    int maxTokens;
    @Option(names = {"--api_key", "--api-key"}, description = "Bearer key, if the server needs one (default: $MINIMIND_API_KEY)")
    String apiKey;
    @Option(names = "--allow_remote", description = "Allow a URL that is not loopback (default: loopback only)")
    boolean allowRemote;

    @Override
    public Integer call() throws Exception {
        URI u;
        try {
            u = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new UserError("--url " + url + ": not a URL");
        }
        if (u.getHost() == null || !u.getScheme().startsWith("http")) throw new UserError("--url " + url + ": expected http://host:port");
        if (!allowRemote && !java.net.InetAddress.getByName(u.getHost()).isLoopbackAddress()) {
            throw new UserError("--url " + url + ": not a loopback address; pass --allow_remote to load-test another machine");
        }
        if (maxTokens < 1) throw new UserError("--max_tokens must be at least 1");
        for (int c : clients) if (c < 1 || c > 1024) throw new UserError("--clients " + c + ": expected 1..1024");
        String key = apiKey != null ? apiKey : System.getenv("MINIMIND_API_KEY");
        LoadGenerator load = new LoadGenerator(url, key, maxTokens);
        System.out.println("clients  requests  failed  tokens  seconds  tokens/s  p50 s  p99 s  first-token p50 s");
        load.run(1, 2); // warm-up: JIT, connections, the server's first prefill
        for (int c : clients) {
            int n = requests > 0 ? requests : Math.max(8, 4 * c);
            LoadGenerator.Result r = load.run(c, n);
            System.out.printf(Locale.ROOT, "%7d  %8d  %6d  %6d  %7.2f  %8.1f  %5.2f  %5.2f  %17.2f%n", r.clients(), r.requests(),
                    r.failed(), r.completionTokens(), r.seconds(), r.tokensPerSecond(), r.p50Seconds(), r.p99Seconds(),
                    r.ttftP50Seconds());
        }
        return 0;
    }
}
