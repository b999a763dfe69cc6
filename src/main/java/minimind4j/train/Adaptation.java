package minimind4j.train;

import minimind4j.checkpoint.format.HostTensor;
import minimind4j.model.MiniMindLM;
import org.bytedeco.pytorch.TensorVector;

import java.nio.file.Path;
import java.util.Map;

/**
 * What a run trains in place of the whole model, and what it saves in place of the full weights: LoRA adapters
 * (minimind4j.lora). The Trainer keeps everything else (data, schedule, clipping, logging, resume, signals, ranks).
 */
public interface Adaptation {
    /**
     * Attaches to the model (base weights loaded, on the run's device) and returns the only tensors to train; the
     * model's own parameters are frozen. {@code resumed} holds the tensors {@link #resumeState} saved, or is null on a
     * fresh start.
     */
    TensorVector attach(MiniMindLM model, Map<String, HostTensor> resumed);

    /** Writes the run's weights to {@code file} (the {@code {save_dir}/{save_weight}_{hidden}.pth} of the run), on rank 0. */
    void saveWeights(Path file);

    /** Exact (fp32) tensors the resume checkpoint keeps beside the model's, under names that contain ".lora.". */
    Map<String, HostTensor> resumeState();
}
