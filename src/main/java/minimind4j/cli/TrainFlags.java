package minimind4j.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The flags of MiniMind's train_pretrain.py / train_full_sft.py (snake_case as MiniMind spells them; kebab-case
 * works too). Unset flags take the stage's defaults ({@link minimind4j.train.StageDefaults}), which --help shows
 * ({@link StageDefaultValues}).
 */
public final class TrainFlags {
    @Option(names = {"--save_dir", "--save-dir"}, description = "Directory for weights, resume checkpoints and metrics (default: ${DEFAULT-VALUE})")
    Path saveDir;
    @Option(names = {"--save_weight", "--save-weight"}, description = "Prefix of the saved weights: {save_dir}/{save_weight}_{hidden}[_moe].pth (default: ${DEFAULT-VALUE})")
    String saveWeight;
    @Option(names = "--epochs", description = "Epochs (default: ${DEFAULT-VALUE}${bundle:families.epochs:-})")
    Integer epochs;
    @Option(names = {"--batch_size", "--batch-size"}, description = "Batch size per process (default: ${DEFAULT-VALUE})")
    Integer batchSize;
    @Option(names = {"--learning_rate", "--learning-rate"}, description = "Peak learning rate, cosine down to 10%% (default: ${DEFAULT-VALUE}${bundle:families.learning_rate:-})")
    Double learningRate;
    @Option(names = "--device", description = "cpu, cuda or cuda:N (default: cuda:0 when libtorch sees a GPU, else cpu; CUDA needs a build with -Pgpu)")
    String device;
    @Option(names = "--dtype", description = "auto, bfloat16, float16 (autocast with fp32 weights; float16 with loss scaling) or float32, on every device. "
            + "auto: bfloat16 on CUDA; on a CPU what this machine trains fastest (bf16 only where it is native: AMX/AVX512-BF16). "
            + "A bf16 type on a CPU without native bf16 trains, emulated and ~10x slower. The choice is recorded in the resume checkpoint and "
            + "--from_resume 1 keeps it unless --dtype is given (default: auto)")
    String dtype;
    @Option(names = {"--cpu_autocast", "--cpu-autocast"}, hidden = true, description = "No longer needed: --dtype applies on a CPU as on CUDA")
    boolean cpuAutocast;
    @Option(names = {"--num_workers", "--num-workers"}, description = "Accepted for MiniMind compatibility; data is prepared on one background thread", hidden = true)
    Integer numWorkers;
    @Option(names = {"--accumulation_steps", "--accumulation-steps"}, description = "Gradient accumulation steps (default: ${DEFAULT-VALUE})")
    Integer accumulationSteps;
    @Option(names = {"--grad_clip", "--grad-clip"}, description = "Clip the global gradient norm to this (default: ${DEFAULT-VALUE})")
    Double gradClip;
    @Option(names = {"--log_interval", "--log-interval"}, description = "Log every N steps (default: ${DEFAULT-VALUE})")
    Integer logInterval;
    @Option(names = {"--save_interval", "--save-interval"}, description = "Save weights and a resume checkpoint every N steps (default: ${DEFAULT-VALUE})")
    Integer saveInterval;
    @Option(names = {"--max_seq_len", "--max-seq-len"}, description = "Truncate samples to this many tokens (default: ${DEFAULT-VALUE}${bundle:families.max_seq_len:-})")
    Integer maxSeqLen;
    @Option(names = {"--data_path", "--data-path"}, arity = "1..*", paramLabel = "PATH",
            description = "Training data: .jsonl, .json (array or one object per line), .jsonl.gz/.json.gz, a directory of them, a quoted glob; several may be given (default: ${DEFAULT-VALUE}${bundle:families.data_path:-})")
    java.util.List<Path> dataPath;
    @Option(names = {"--data_format", "--data-format"}, description = "SFT: auto, minimind, openai, sharegpt, alpaca or prompt_completion (default: auto, from each record's keys)")
    String dataFormat;
    @Option(names = {"--truncation"}, description = "SFT samples longer than --max_seq_len: truncate (MiniMind), drop or error (default: truncate); samples left with no supervised token are always dropped")
    String truncation;
    @Option(names = {"--from_weight", "--from-weight"}, description = "Start from {save_dir}/{from_weight}_{hidden}[_moe].pth, a file path (.pth/.safetensors), or none for a fresh model (default: ${DEFAULT-VALUE})")
    String fromWeight;
    @Option(names = {"--from_resume", "--from-resume"}, description = "1 = continue from {save_dir}/{save_weight}_{hidden}[_moe]_resume.pth if it exists (default: ${DEFAULT-VALUE})")
    Integer fromResume;
    @Option(names = {"--tokenizer_path", "--tokenizer-path"}, description = "Directory with tokenizer.json and tokenizer_config.json (default: ${DEFAULT-VALUE})")
    Path tokenizerPath;
    @Option(names = {"--add_system_ratio", "--add-system-ratio"}, description = "SFT: probability of adding one of MiniMind's system prompts (default: ${DEFAULT-VALUE})")
    Double addSystemRatio;
    @Option(names = {"--empty_think_ratio", "--empty-think-ratio"}, description = "SFT and DPO: probability of keeping an empty <think> block (default: ${DEFAULT-VALUE}${bundle:families.empty_think_ratio:-})")
    Double emptyThinkRatio;
    @Option(names = {"--strict_data", "--strict-data"}, description = "Stop at the first bad data line instead of skipping it")
    boolean strictData;
    @Option(names = {"--group_by_length", "--group-by-length"}, description = "1 = batch samples of similar length (less padding, faster); 0 = MiniMind's exact batch order (default: ${DEFAULT-VALUE})")
    Integer groupByLength;
    @Option(names = {"--pad_to_max_seq_len", "--pad-to-max-seq-len"}, description = "Pad every batch to max_seq_len like MiniMind (slower, same loss)")
    boolean padToMaxSeqLen;
    @Option(names = {"--num_threads", "--num-threads"}, description = "Intra-op threads (default: what the resume checkpoint recorded, else what --dtype auto found fastest, else cores - 1, at least 1; ranks sharing a machine split its cores)")
    Integer numThreads;
    @Option(names = {"--eval_data", "--eval-data"}, description = "Held-out JSONL evaluated every --eval_interval steps")
    Path evalData;
    @Option(names = {"--eval_interval", "--eval-interval"}, description = "Evaluate every N steps (default: ${DEFAULT-VALUE})")
    Integer evalInterval;
    @Option(names = {"--max_nan_steps", "--max-nan-steps"}, description = "Stop after this many non-finite losses in a row (default: ${DEFAULT-VALUE})")
    Integer maxNanSteps;
    @Option(names = "--seed", description = "Seed for initialisation and augmentation (default: ${DEFAULT-VALUE})")
    Long seed;
    @Option(names = {"--max_steps", "--max-steps"}, description = "Stop (with a resume checkpoint) after this many steps in this run; 0 = no limit (default: ${DEFAULT-VALUE})")
    Long maxSteps;
    @Option(names = {"--loss_average", "--loss-average"}, description = "batches = MiniMind's loss (mean over each micro-batch's supervised tokens, averaged over micro-batches and ranks); "
            + "tokens = mean over all supervised tokens of the optimizer step, so processes x batch x accumulation equals one process with the whole batch (default: ${DEFAULT-VALUE})")
    String lossAverage;
    @Option(names = {"--use_wandb", "--use-wandb"}, description = "Accepted for MiniMind compatibility; metrics go to {save_dir}/*_metrics.csv", hidden = true)
    boolean useWandb;
    @Option(names = {"--use_compile", "--use-compile"}, description = "Accepted for MiniMind compatibility (no effect)", hidden = true)
    Integer useCompile;

    static <T> T or(T v, T d) { return v != null ? v : d; }
}
