package minimind4j.cli;

import minimind4j.checkpoint.Weights;
import minimind4j.generate.Generator;
import minimind4j.generate.Sampling;
import minimind4j.generate.StreamingDecoder;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.train.RunFiles;
import minimind4j.tokenizer.MiniMindTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Talk to a model, as MiniMind's eval_llm.py: the prompt goes through the chat template",
                "(add_generation_prompt) and the reply streams token by token. --weight pretrain continues bos + text instead.",
                "Without --prompt and without a terminal it answers MiniMind's 8 built-in test prompts."})
public final class ChatCommand implements Callable<Integer> {
    static final List<String> MINIMIND_PROMPTS = List.of(
            "你有什么特长？", "为什么天空是蓝色的", "请用Python写一个计算斐波那契数列的函数", "解释一下\"光合作用\"的基本过程",
            "如果明天下雨，我应该如何出门", "比较一下猫和狗作为宠物的优缺点", "解释什么是机器学习", "推荐一些中国的美食");

    @Mixin
    WeightFiles w = new WeightFiles();
    @picocli.CommandLine.Option(names = "--dtype", defaultValue = "float32",
            description = "float32, bfloat16 or float16: generate under autocast in that type, on a CPU as on CUDA (default: float32)")
    String dtype;
    @Option(names = {"--max_new_tokens", "--max-new-tokens"}, defaultValue = "8192", description = "Most tokens to generate per reply (default: 8192)")
    int maxNewTokens;
    @Option(names = "--temperature", defaultValue = "0.85", description = "Sampling temperature; 0 = greedy (default: 0.85)")
    double temperature;
    @Option(names = {"--top_p", "--top-p"}, defaultValue = "0.85", description = "Nucleus sampling threshold (default: 0.85)")
    double topP;
    @Option(names = {"--top_k", "--top-k"}, defaultValue = "50", description = "Keep the k most likely tokens; 0 = all (default: 50)")
    int topK;
    @Option(names = {"--repetition_penalty", "--repetition-penalty"}, defaultValue = "1.0", description = "Penalty on tokens already seen (default: 1.0)")
    double repetitionPenalty;
    @Option(names = "--historys", defaultValue = "0", description = "Keep the last N messages as context (even; 0 = none)")
    int historys;
    @Option(names = "--seed", description = "Seed: the same seed gives the same replies")
    Long seed;
    @Option(names = "--prompt", description = "Answer this one prompt and exit")
    String prompt;
    @Option(names = {"--open_thinking", "--open-thinking"}, defaultValue = "0", description = "1 = let minimind-3 templates think (open_thinking)")
    int openThinking;
    @Option(names = {"--show_speed", "--show-speed"}, defaultValue = "1", description = "Print tokens/s after each reply (default: 1)")
    int showSpeed;

    /** Where replies go; null = standard output as UTF-8 whatever the locale (tests set their own). */
    PrintStream out;

    @Override
    public Integer call() throws Exception {
        PrintStream out = this.out != null ? this.out
                : new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        w.applyThreads();
        RunFiles.Loaded weights = w.read();
        Path file = weights.file();
        ModelConfig c = w.config(weights);
        // MiniMind decides by the weight's name; for a path, the file name is that name (not the folders above it)
        // (with --lora the adapter was trained on conversations: chat, whatever the base is called)
        boolean continuation = w.lora == null && file.getFileName().toString().contains("pretrain");
        Sampling sampling = new Sampling(temperature, topP, topK, repetitionPenalty);
        long baseSeed = seed != null ? seed : System.nanoTime();
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(w.tokenizerPath); MiniMindLM m = w.onDevice(Weights.load(file, weights.tensors(), c, w.strict.strict(), System.err), dtype)) {
            Generator gen = new Generator(m);
            List<Map<String, Object>> history = new ArrayList<>();
            boolean interactive = prompt == null && isTerminal();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            List<String> queue = prompt != null ? List.of(prompt) : interactive ? null : MINIMIND_PROMPTS;
            int turn = 0;
            while (true) {
                String q;
                if (queue != null) {
                    if (turn >= queue.size()) break;
                    q = queue.get(turn);
                    out.println("💬: " + q);
                } else {
                    out.print("💬: ");
                    out.flush();
                    q = in.readLine();
                    if (q == null || q.isBlank()) break;
                }
                List<Map<String, Object>> messages = historys > 0
                        ? new ArrayList<>(history.subList(Math.max(0, history.size() - historys), history.size())) : new ArrayList<>();
                messages.add(message("user", q));
                String text = continuation ? tok.bosToken() + q
                        : tok.applyChatTemplate(messages, null, true, openThinking == 1 ? Map.of("open_thinking", true, "enable_thinking", true) : Map.of());
                int[] ids = tok.encode(text);
                out.print("🧠: ");
                StreamingDecoder stream = new StreamingDecoder(tok, out);
                Generator.Result r = gen.generate(ids, maxNewTokens, sampling, tok.eosId(), baseSeed + turn, t -> {
                    stream.accept(t);
                    return true;
                });
                stream.finish();
                String reply = tok.decode(r.tokens(), true);
                history.add(message("user", q));
                history.add(message("assistant", reply));
                out.println();
                if (showSpeed == 1)
                    out.printf(Locale.ROOT, "[Speed]: %.2f tokens/s (%d tokens, %s; %s)%n", r.tokens().length / Math.max(1e-9, r.seconds()),
                            r.tokens().length, r.finishReason(), m.precision().describe());
                out.println();
                turn++;
            }
        }
        return 0;
    }

    /**
     * Whether a person is typing. Java 22+ returns a Console even when input is redirected, and says whether it is a
     * terminal through Console.isTerminal(), which Java 17 lacks; hence the reflection.
     */
    static boolean isTerminal() {
        java.io.Console console = System.console();
        if (console == null) return false;
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true; // Java < 22: a Console exists only for a terminal
        }
    }

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }
}
