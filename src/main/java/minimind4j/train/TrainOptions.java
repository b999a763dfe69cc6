package minimind4j.train;

import java.nio.file.Path;

/** Everything a training run needs to know, named as MiniMind's train_*.py flags. */
public record TrainOptions(
        String stage,              // "pretrain" or "sft": which dataset and defaults
        Path saveDir,
        String saveWeight,
        int epochs,
        int batchSize,
        double learningRate,
        String device,
        String dtype,              // float32, bfloat16 or float16: the run's choice (see RunSettings), never auto
        int accumulationSteps,
        double gradClip,
        int logInterval,
        int saveInterval,
        int maxSeqLen,
        Path dataPath,
        String fromWeight,
        boolean fromResume,
        Path tokenizerPath,
        double addSystemRatio,
        double emptyThinkRatio,
        boolean strictData,
        boolean groupByLength,
        boolean padToMaxSeqLen,
        int numThreads,
        Path evalData,
        int evalInterval,
        int maxNanSteps,
        long seed,
        long maxSteps,
        LossAverage lossAverage,  // batches (MiniMind's per-batch mean) or tokens (mean over the step's tokens)
        boolean strictLoad,       // --strict: the starting weights must match the model exactly
        java.util.List<Path> dataPaths,                    // every --data_path (files, directories, globs); dataPath is the first
        minimind4j.data.formats.DataFormat dataFormat,     // --data_format
        minimind4j.data.Truncation truncation) {           // --truncation
    public TrainOptions withFromWeight(String file) {
        return new TrainOptions(stage, saveDir, saveWeight, epochs, batchSize, learningRate, device, dtype,
                accumulationSteps, gradClip, logInterval, saveInterval, maxSeqLen, dataPath, file, fromResume, tokenizerPath,
                addSystemRatio, emptyThinkRatio, strictData, groupByLength, padToMaxSeqLen, numThreads, evalData, evalInterval,
                maxNanSteps, seed, maxSteps, lossAverage, strictLoad, dataPaths, dataFormat, truncation);
    }

    /** SFT sample settings of this run; for a held-out set, without random augmentation so evals compare. */
    public minimind4j.data.SftDataset.Options sftOptions(boolean forEval) {
        return new minimind4j.data.SftDataset.Options(maxSeqLen, forEval ? 0 : addSystemRatio, forEval ? 1 : emptyThinkRatio,
                seed, dataFormat, truncation);
    }
}
