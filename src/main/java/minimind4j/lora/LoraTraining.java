package minimind4j.lora;

import minimind4j.checkpoint.format.DType;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.UserError;
import minimind4j.model.MiniMindLM;
import minimind4j.train.Adaptation;
import org.bytedeco.pytorch.TensorVector;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * MiniMind's train_lora.py as a Trainer adaptation: adapters on the target layers of a frozen base, only they in
 * the optimizer, saved as MiniMind's adapter file (and, with a PEFT directory, PEFT's layout too) at every save.
 */
public final class LoraTraining implements Adaptation {
    private final LoraConfig config;
    private final long seed;
    private final Path peftDir;
    private final String peftBaseModel;
    private LoraAdapters adapters;

    /** {@code peftDir} null: MiniMind's file only. {@code peftBaseModel}: adapter_config.json's base_model_name_or_path. */
    public LoraTraining(LoraConfig config, long seed, Path peftDir, String peftBaseModel) {
        this.config = config;
        this.seed = seed;
        this.peftDir = peftDir;
        this.peftBaseModel = peftBaseModel;
    }

    public LoraAdapters adapters() { return adapters; }

    @Override
    public TensorVector attach(MiniMindLM model, Map<String, HostTensor> resumed) {
        var device = model.anyParameter().device();
        if (resumed == null) {
            adapters = LoraAdapters.init(model.config(), config, seed, device);
        } else {
            List<String> want = new ArrayList<>();
            for (LoraTargets.Module m : config.targets().select(model.config())) {
                want.add(LoraAdapters.keyA(m.name()));
                want.add(LoraAdapters.keyB(m.name()));
            }
            if (!new TreeSet<>(want).equals(new TreeSet<>(resumed.keySet())))
                throw new UserError("the resume checkpoint's adapters cover other layers than --lora_target " + config.targets().spec()
                        + " (" + resumed.size() / 2 + " layers there, " + want.size() / 2 + " here): pass the run's --lora_target, or --from_resume 0");
            adapters = LoraAdapters.fromStateDict(resumed, model.config(), config, "resume checkpoint", device);
        }
        adapters.attach(model);
        return adapters.parameters();
    }

    @Override
    public void saveWeights(Path file) {
        LoraFiles.writeMiniMind(file, adapters);
        if (peftDir != null) LoraFiles.writePeft(peftDir, adapters, peftBaseModel);
    }

    @Override
    public Map<String, HostTensor> resumeState() {
        return adapters.stateDict(false, DType.F32);
    }
}
