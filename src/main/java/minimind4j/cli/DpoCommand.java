package minimind4j.cli;

import minimind4j.model.ModelFamily;
import minimind4j.UserError;
import minimind4j.lora.LoraConfig;
import minimind4j.lora.LoraTargets;
import minimind4j.lora.LoraTraining;
import minimind4j.train.DpoLoss;
import minimind4j.train.RunFiles;
import minimind4j.train.Stage;
import minimind4j.train.StageDefaults;
import minimind4j.train.TrainConfig;
import minimind4j.train.Trainer;
import minimind4j.checkpoint.Weights;
import minimind4j.generate.Generator;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

@Command(name = "dpo", mixinStandardHelpOptions = true, sortOptions = false, defaultValueProvider = StageDefaultValues.class,
        resourceBundle = "minimind4j.cli.StageHelp$Dpo",
        description = {"Direct Preference Optimization, as MiniMind's trainer/train_dpo.py: trains on pairs of replies (chosen, rejected)",
                "against a frozen reference copy of the starting model. Starts from {save_dir}/{from_weight}_{hidden}.pth (default",
                "out/full_sft_512.pth) and saves {save_dir}/dpo_{hidden}.pth. Data: MiniMind's {\"chosen\": [messages], \"rejected\": [messages]},",
                "TRL's prompt/chosen/rejected (standard or conversational), LLaMA-Factory's ShareGPT / Alpaca / v1 preference records.",
                "Defaults follow the model family's MiniMind version (read from the weights): minimind2 (default) = train_dpo.py at 83e52f6a (beta ${bundle:m2.beta}, per-sequence",
                "log-probability averaged over the reply, empty_think_ratio ${bundle:m2.empty_think_ratio}); minimind3 = the current one (beta ${bundle:m3.beta}, summed, ${bundle:m3.empty_think_ratio}).",
                "Both: ${bundle:m2.epochs} epoch, batch ${bundle:m2.batch_size}, lr ${bundle:m2.learning_rate}, max_seq_len ${bundle:m2.max_seq_len}, ${bundle:m2.data_path}, log and save every ${bundle:m2.save_interval} steps.",
                "With no --data_path and no dataset/dpo.jsonl, runs the bundled demo on the demo SFT model (run `minimind sft` first)."})
public final class DpoCommand extends TrainCommand {
    @Option(names = "--beta", description = "DPO's beta: the strength of the pull towards the reference (default for the model family: ${DEFAULT-VALUE}; 0.1 for minimind2, 0.15 for minimind3 files)")
    Double beta;
    @Option(names = {"--dpo_reduction", "--dpo-reduction"}, defaultValue = "auto",
            description = "Per-sequence log-probability: mean over the reply tokens (MiniMind2), sum (minimind-3), or auto = by the model's family (default: auto)")
    String reduction;
    @Option(names = {"--lora_rank", "--lora-rank"}, description = "Train LoRA adapters of this rank on the frozen model instead of every weight; "
            + "the reference is then the frozen model itself (no copy). Saves the adapter as {save_dir}/{save_weight}_{hidden}.pth (default save_weight: lora_dpo)")
    Integer loraRank;
    @Option(names = {"--lora_alpha", "--lora-alpha"}, description = "LoRA: the update is scaled by alpha / r (default: r)")
    Double loraAlpha;
    @Option(names = {"--lora_dropout", "--lora-dropout"}, defaultValue = "0", description = "LoRA: dropout on the adapters' input (default: 0)")
    double loraDropout;
    @Option(names = {"--lora_target", "--lora-target"}, defaultValue = LoraTargets.SQUARE,
            description = "LoRA: square (MiniMind's q_proj and o_proj), all-linear, or a comma list of projections (default: square)")
    String loraTarget;

    @Override
    Stage stage() { return Stage.DPO; }

    /** train_dpo.py's defaults ({@link StageDefaults}); with --lora_rank saved as lora_dpo. */
    @Override
    TrainConfig defaults(ModelFamily family) {
        TrainConfig d = super.defaults(family);
        return loraRank == null ? d : d.toBuilder().saveWeight(StageDefaults.DPO_LORA_SAVE_WEIGHT).build();
    }

    @Override
    Demo.Profile demoProfile() { return Demo.dpo(); }

    @Override
    TrainConfig options(TrainConfig s, Demo.Profile demo) {
        if (demo != null && !given("--from_weight")) {
            Path sft = RunFiles.weights(given("--save_dir") ? f.saveDir : demo.saveDir(), "full_sft", demo.model());
            if (!Files.exists(sft))
                throw new UserError(sft + ": the demo's DPO starts from the demo's SFT model; run `" + Demo.command() + " sft` first (a few minutes), then `" + Demo.command() + " dpo`");
        }
        if (f.evalData != null) throw new UserError("--eval_data: dpo has no held-out evaluation (it reports reward accuracy on the training pairs)");
        if (given("--loss_average") && !f.lossAverage.equals("batches"))
            throw new UserError("--loss_average " + f.lossAverage + ": dpo averages its loss over pairs (batches only)");
        if (f.dataFormat != null && !f.dataFormat.equals("auto"))
            throw new UserError("--data_format " + f.dataFormat + ": dpo reads each record's preference shape from its keys (MiniMind's, TRL's, LLaMA-Factory's); leave it out");
        return super.options(s, demo);
    }

    /** After the demo: the SFT model's and the DPO model's greedy answers to the held-out questions. */
    @Override
    void showDemo(Demo.Profile demo, PrintStream out, ModelConfig config, TrainConfig o, Trainer t) {
        if (loraRank != null) return;
        List<String> questions = demo.questions();
        if (questions == null) return;
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(demo.tokenizer());
             MiniMindLM before = Weights.load(t.fromWeightPath(), config, true, null);
             MiniMindLM after = Weights.load(t.weightPath(o.saveWeight()), config, true, null)) {
            Generator g0 = new Generator(before), g1 = new Generator(after);
            out.println();
            out.println("Questions (greedy): the SFT model, then the DPO model (rewards/accuracies above: share of pairs whose true reply it now prefers more than the reference does).");
            Demo.printAnswers(out, tok, questions, Demo.Answerer.chat("sft:", g0, tok), Demo.Answerer.chat("dpo:", g1, tok));
            out.println();
            out.println("Chat with it: " + Demo.command() + " chat --save_dir " + o.saveDir() + " --weight " + o.saveWeight() + " --hidden_size " + config.hiddenSize() + " --tokenizer_path " + demo.tokenizer());
        }
    }

    @Override
    Trainer prepare(Trainer t, TrainConfig o) {
        ModelFamily family = t.config().modelFamily();  // read from the starting weights
        double b = given("--beta") ? beta : StageDefaults.dpoBeta(family);
        boolean lora = loraRank != null;
        if (lora) {
            if (o.fromWeight().equals("none")) throw new UserError("--from_weight none: LoRA adapts a trained model; pass --from_weight NAME or a file path");
            t.adapt(new LoraTraining(new LoraConfig(loraRank, loraAlpha != null ? loraAlpha : loraRank, loraDropout, LoraTargets.parse(loraTarget)),
                    o.seed(), null, t.fromWeightPath().toString()));
        }
        return t.withLoss(new DpoLoss(b, DpoLoss.Reduction.fromFlag(reduction, family),
                o.fromWeight().equals("none") ? null : t.fromWeightPath(), lora));
    }
}
