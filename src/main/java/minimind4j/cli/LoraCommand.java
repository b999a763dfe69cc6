package minimind4j.cli;

import minimind4j.model.ModelFamily;
import minimind4j.UserError;

import minimind4j.checkpoint.Weights;
import minimind4j.generate.Generator;
import minimind4j.lora.LoraAdapters;
import minimind4j.lora.LoraConfig;
import minimind4j.lora.LoraFiles;
import minimind4j.lora.LoraTargets;
import minimind4j.lora.LoraTraining;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;
import minimind4j.train.Stage;
import minimind4j.train.TrainConfig;
import minimind4j.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

@Command(name = "lora", mixinStandardHelpOptions = true, sortOptions = false, defaultValueProvider = StageDefaultValues.class,
        resourceBundle = "minimind4j.cli.StageHelp$Lora", subcommands = LoraMergeCommand.class,
        description = {"LoRA fine-tuning, as MiniMind's trainer/train_lora.py: low-rank adapters on a frozen model, trained on SFT data.",
                "Starts from {save_dir}/{from_weight}_{hidden}.pth (default out/full_sft_512.pth; --from_weight also takes a file path)",
                "and saves only the adapters, as MiniMind's {save_dir}/{lora_name}_{hidden}.pth (model_lora.py's key names, loadable by its load_lora);",
                "--peft_dir also writes PEFT's adapter_model.safetensors + adapter_config.json. `minimind lora merge` folds an adapter into full weights;",
                "chat, serve and eval take --lora FILE. With no --data_path and no dataset/lora_medical.jsonl, runs on the bundled demo."})
public final class LoraCommand extends TrainCommand {
    @Option(names = {"--lora_name", "--lora-name"}, description = "Adapter name: saves {save_dir}/{lora_name}_{hidden}[_moe].pth (default: lora_medical)")
    String loraName;
    @Option(names = {"--lora_rank", "--lora-rank"}, defaultValue = "16", description = "Rank r of A [r, in] and B [out, r] (default: 16, MiniMind's)")
    int rank;
    @Option(names = {"--lora_alpha", "--lora-alpha"}, description = "The update is scaled by alpha / r (default: r, i.e. scale 1 as MiniMind's LoRA, which has no alpha)")
    Double alpha;
    @Option(names = {"--lora_dropout", "--lora-dropout"}, defaultValue = "0", description = "Dropout on the adapters' input while training (default: 0)")
    double dropout;
    @Option(names = {"--lora_target", "--lora-target"}, defaultValue = LoraTargets.SQUARE,
            description = "Layers to adapt: square (MiniMind's choice: Linear layers with in = out, q_proj and o_proj here), all-linear, or a comma list of "
                    + "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj (default: square)")
    String target;
    @Option(names = {"--peft_dir", "--peft-dir"}, description = "Also write the adapter in PEFT's layout to this directory at every save")
    Path peftDir;
    @Option(names = {"--peft_base_model", "--peft-base-model"}, description = "adapter_config.json's base_model_name_or_path (default: the --from_weight file; pass your `minimind export` directory)")
    String peftBaseModel;

    private LoraTraining training;

    @Override
    Stage stage() { return Stage.LORA; }

    /** train_lora.py's defaults ({@link minimind4j.train.StageDefaults}), saved under --lora_name when given. */
    @Override
    TrainConfig defaults(ModelFamily family) {
        TrainConfig d = super.defaults(family);
        return loraName == null ? d : d.toBuilder().saveWeight(loraName).build();
    }

    @Override
    Demo.Profile demoProfile() { return Demo.lora(); }

    @Override
    TrainConfig options(TrainConfig s, Demo.Profile demo) {
        // the demo adapts the bundled pretrained model
        return super.options(demo != null ? s.toBuilder().fromWeight("pretrain").build() : s, demo);
    }

    @Override
    Trainer prepare(Trainer t, TrainConfig o) {
        LoraConfig cfg = new LoraConfig(rank, alpha != null ? alpha : rank, dropout, LoraTargets.parse(target));
        if (o.fromWeight().equals("none")) throw new UserError("--from_weight none: LoRA adapts a trained model; pass --from_weight NAME or a file path");
        String base = peftBaseModel != null ? peftBaseModel : t.fromWeightPath().toString();
        training = new LoraTraining(cfg, o.seed(), peftDir, base);
        return t.adapt(training);
    }

    @Override
    void showDemo(Demo.Profile demo, PrintStream out, ModelConfig config, TrainConfig o, Trainer t) {
        List<String> questions = demo.questions();
        if (questions == null) return;
        Path adapter = t.weightPath(o.saveWeight());
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(demo.tokenizer());
             MiniMindLM base = Weights.load(t.fromWeightPath(), config, true, null);
             MiniMindLM tuned = Weights.load(t.fromWeightPath(), config, true, null);
             LoraAdapters a = LoraFiles.read(adapter, config, null)) {
            a.attach(tuned);
            tuned.train(false);
            Generator g0 = new Generator(base), g1 = new Generator(tuned);
            out.println();
            out.println("Held-out questions, greedy: the pretrained base, then the same base with the LoRA adapter (" + adapter + ").");
            Demo.printAnswers(out, tok, questions, Demo.Answerer.chat("base:", g0, tok), Demo.Answerer.chat("lora:", g1, tok));
            out.println();
            out.println("Chat with it: ./minimind chat --weight " + t.fromWeightPath() + " --lora " + adapter + " --tokenizer_path " + demo.tokenizer());
        }
    }
}
