package minimind4j.cli;

import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.Weights;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print a weight file's model config (inferred from its shapes), parameter count and keys.")
public final class InfoCommand implements Callable<Integer> {
    @Option(names = "--weight", required = true, description = "A .pth (torch.save state dict) or .safetensors file, or a directory from minimind export")
    Path weight;

    @Option(names = {"--num_attention_heads", "--num-attention-heads"}, description = "Heads, when the file cannot tell (MiniMind2 files): default 8, or config.json's beside it")
    Integer heads;

    @Option(names = {"--no_keys", "--no-keys"}, description = "Do not list the keys, only the summary")
    boolean noKeys;

    @Override
    public Integer call() {
        Map<String, HostTensor> sd = Weights.read(weight);
        ModelConfig c = Weights.inferConfig(sd, heads != null ? heads : Weights.headsBeside(weight, 8));
        long params = 0;
        for (Map.Entry<String, HostTensor> e : sd.entrySet()) if (!e.getKey().equals(MiniMindLM.LM_HEAD) || !sd.containsKey(MiniMindLM.EMBED)) params += e.getValue().numel();
        System.out.println("file: " + weight);
        System.out.printf("config: hidden_size=%d num_hidden_layers=%d num_attention_heads=%d num_key_value_heads=%d head_dim=%d intermediate_size=%d vocab_size=%d qk_norm=%s use_moe=%s%n",
                c.hiddenSize(), c.numHiddenLayers(), c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.intermediateSize(),
                c.vocabSize(), c.qkNorm(), c.useMoe() ? "1 (" + c.nRoutedExperts() + " routed, " + c.nSharedExperts() + " shared, top-" + c.numExpertsPerTok() + ", " + (c.qkNorm() ? "minimind-3" : "MiniMind2") + " router)" : "0");
        System.out.printf("parameters: %,d (%.2fM; the tied embedding/lm_head counted once)%n", params, params / 1e6);
        Weights.Report r = Weights.check(MiniMindLM.expectedShapes(c), sd);
        System.out.println("keys: " + sd.size() + (r.clean() ? " (a complete MiniMind state dict)" : "\n" + r.describe(weight)));
        if (!noKeys) for (Map.Entry<String, HostTensor> e : sd.entrySet())
            System.out.printf("  %-52s %-5s %s%n", e.getKey(), e.getValue().dtype(), Arrays.toString(e.getValue().shape()));
        return 0;
    }
}
