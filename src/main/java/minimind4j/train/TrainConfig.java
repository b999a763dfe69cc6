package minimind4j.train;

import minimind4j.data.SftDataset;
import minimind4j.data.Truncation;
import minimind4j.data.formats.DataFormat;

import java.nio.file.Path;
import java.util.List;

/**
 * Everything a training run needs to know, named as MiniMind's train_*.py flags. Built by name:
 * {@link StageDefaults#of} gives a stage's defaults, {@link #toBuilder()} a builder to change them.
 */
public final class TrainConfig {
    /** Which stage: its dataset, and the defaults it was built from */
    private final Stage stage;
    /** --save_dir */
    private final Path saveDir;
    /** --save_weight: the prefix of the run's files */
    private final String saveWeight;
    private final int epochs;
    private final int batchSize;
    private final double learningRate;
    /** --device; null: MiniMind's default, cuda:0 when there is one */
    private final String device;
    /** float32, bfloat16 or float16: the run's choice (see RunSettings), never auto */
    private final String dtype;
    private final int accumulationSteps;
    private final double gradClip;
    private final int logInterval;
    private final int saveInterval;
    private final int maxSeqLen;
    /** --from_weight: a name, a file path, or none */
    private final String fromWeight;
    private final boolean fromResume;
    private final Path tokenizerPath;
    private final double addSystemRatio;
    private final double emptyThinkRatio;
    private final boolean strictData;
    private final boolean groupByLength;
    private final boolean padToMaxSeqLen;
    private final int numThreads;
    /** --eval_data; null: none */
    private final Path evalData;
    private final int evalInterval;
    private final int maxNanSteps;
    private final long seed;
    private final long maxSteps;
    /** batches (MiniMind's per-batch mean) or tokens (mean over the step's tokens) */
    private final LossAverage lossAverage;
    /** --strict: the starting weights must match the model exactly */
    private final boolean strictLoad;
    /** every --data_path (files, directories, globs) */
    private final List<Path> dataPaths;
    /** --data_format */
    private final DataFormat dataFormat;
    /** --truncation */
    private final Truncation truncation;

    private TrainConfig(Builder b) {
        this.stage = b.stage;
        this.saveDir = b.saveDir;
        this.saveWeight = b.saveWeight;
        this.epochs = b.epochs;
        this.batchSize = b.batchSize;
        this.learningRate = b.learningRate;
        this.device = b.device;
        this.dtype = b.dtype;
        this.accumulationSteps = b.accumulationSteps;
        this.gradClip = b.gradClip;
        this.logInterval = b.logInterval;
        this.saveInterval = b.saveInterval;
        this.maxSeqLen = b.maxSeqLen;
        this.fromWeight = b.fromWeight;
        this.fromResume = b.fromResume;
        this.tokenizerPath = b.tokenizerPath;
        this.addSystemRatio = b.addSystemRatio;
        this.emptyThinkRatio = b.emptyThinkRatio;
        this.strictData = b.strictData;
        this.groupByLength = b.groupByLength;
        this.padToMaxSeqLen = b.padToMaxSeqLen;
        this.numThreads = b.numThreads;
        this.evalData = b.evalData;
        this.evalInterval = b.evalInterval;
        this.maxNanSteps = b.maxNanSteps;
        this.seed = b.seed;
        this.maxSteps = b.maxSteps;
        this.lossAverage = b.lossAverage;
        this.strictLoad = b.strictLoad;
        this.dataPaths = b.dataPaths;
        this.dataFormat = b.dataFormat;
        this.truncation = b.truncation;
    }

    public Stage stage() { return stage; }
    public Path saveDir() { return saveDir; }
    public String saveWeight() { return saveWeight; }
    public int epochs() { return epochs; }
    public int batchSize() { return batchSize; }
    public double learningRate() { return learningRate; }
    public String device() { return device; }
    public String dtype() { return dtype; }
    public int accumulationSteps() { return accumulationSteps; }
    public double gradClip() { return gradClip; }
    public int logInterval() { return logInterval; }
    public int saveInterval() { return saveInterval; }
    public int maxSeqLen() { return maxSeqLen; }
    public String fromWeight() { return fromWeight; }
    public boolean fromResume() { return fromResume; }
    public Path tokenizerPath() { return tokenizerPath; }
    public double addSystemRatio() { return addSystemRatio; }
    public double emptyThinkRatio() { return emptyThinkRatio; }
    public boolean strictData() { return strictData; }
    public boolean groupByLength() { return groupByLength; }
    public boolean padToMaxSeqLen() { return padToMaxSeqLen; }
    public int numThreads() { return numThreads; }
    public Path evalData() { return evalData; }
    public int evalInterval() { return evalInterval; }
    public int maxNanSteps() { return maxNanSteps; }
    public long seed() { return seed; }
    public long maxSteps() { return maxSteps; }
    public LossAverage lossAverage() { return lossAverage; }
    public boolean strictLoad() { return strictLoad; }
    public List<Path> dataPaths() { return dataPaths; }
    public DataFormat dataFormat() { return dataFormat; }
    public Truncation truncation() { return truncation; }

    /** The first --data_path. */
    public Path dataPath() { return dataPaths.get(0); }

    /** SFT sample settings of this run; for a held-out set, without random augmentation so evals compare. */
    public SftDataset.Options sftOptions(boolean forEval) {
        return new SftDataset.Options(maxSeqLen, forEval ? 0 : addSystemRatio, forEval ? 1 : emptyThinkRatio,
                seed, dataFormat, truncation);
    }

    /** A builder holding this configuration's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.stage = stage;
        b.saveDir = saveDir;
        b.saveWeight = saveWeight;
        b.epochs = epochs;
        b.batchSize = batchSize;
        b.learningRate = learningRate;
        b.device = device;
        b.dtype = dtype;
        b.accumulationSteps = accumulationSteps;
        b.gradClip = gradClip;
        b.logInterval = logInterval;
        b.saveInterval = saveInterval;
        b.maxSeqLen = maxSeqLen;
        b.fromWeight = fromWeight;
        b.fromResume = fromResume;
        b.tokenizerPath = tokenizerPath;
        b.addSystemRatio = addSystemRatio;
        b.emptyThinkRatio = emptyThinkRatio;
        b.strictData = strictData;
        b.groupByLength = groupByLength;
        b.padToMaxSeqLen = padToMaxSeqLen;
        b.numThreads = numThreads;
        b.evalData = evalData;
        b.evalInterval = evalInterval;
        b.maxNanSteps = maxNanSteps;
        b.seed = seed;
        b.maxSteps = maxSteps;
        b.lossAverage = lossAverage;
        b.strictLoad = strictLoad;
        b.dataPaths = dataPaths;
        b.dataFormat = dataFormat;
        b.truncation = truncation;
        return b;
    }

    public static Builder builder() { return new Builder(); }

    /** Sets values by name; unset ones keep the builder's (a fresh builder's are Java's zeros and nulls). */
    public static final class Builder {
        private Stage stage;
        private Path saveDir;
        private String saveWeight;
        private int epochs;
        private int batchSize;
        private double learningRate;
        private String device;
        private String dtype;
        private int accumulationSteps;
        private double gradClip;
        private int logInterval;
        private int saveInterval;
        private int maxSeqLen;
        private String fromWeight;
        private boolean fromResume;
        private Path tokenizerPath;
        private double addSystemRatio;
        private double emptyThinkRatio;
        private boolean strictData;
        private boolean groupByLength;
        private boolean padToMaxSeqLen;
        private int numThreads;
        private Path evalData;
        private int evalInterval;
        private int maxNanSteps;
        private long seed;
        private long maxSteps;
        private LossAverage lossAverage;
        private boolean strictLoad;
        private List<Path> dataPaths;
        private DataFormat dataFormat;
        private Truncation truncation;

        public Builder stage(Stage v) { this.stage = v; return this; }
        public Builder saveDir(Path v) { this.saveDir = v; return this; }
        public Builder saveWeight(String v) { this.saveWeight = v; return this; }
        public Builder epochs(int v) { this.epochs = v; return this; }
        public Builder batchSize(int v) { this.batchSize = v; return this; }
        public Builder learningRate(double v) { this.learningRate = v; return this; }
        public Builder device(String v) { this.device = v; return this; }
        public Builder dtype(String v) { this.dtype = v; return this; }
        public Builder accumulationSteps(int v) { this.accumulationSteps = v; return this; }
        public Builder gradClip(double v) { this.gradClip = v; return this; }
        public Builder logInterval(int v) { this.logInterval = v; return this; }
        public Builder saveInterval(int v) { this.saveInterval = v; return this; }
        public Builder maxSeqLen(int v) { this.maxSeqLen = v; return this; }
        public Builder fromWeight(String v) { this.fromWeight = v; return this; }
        public Builder fromResume(boolean v) { this.fromResume = v; return this; }
        public Builder tokenizerPath(Path v) { this.tokenizerPath = v; return this; }
        public Builder addSystemRatio(double v) { this.addSystemRatio = v; return this; }
        public Builder emptyThinkRatio(double v) { this.emptyThinkRatio = v; return this; }
        public Builder strictData(boolean v) { this.strictData = v; return this; }
        public Builder groupByLength(boolean v) { this.groupByLength = v; return this; }
        public Builder padToMaxSeqLen(boolean v) { this.padToMaxSeqLen = v; return this; }
        public Builder numThreads(int v) { this.numThreads = v; return this; }
        public Builder evalData(Path v) { this.evalData = v; return this; }
        public Builder evalInterval(int v) { this.evalInterval = v; return this; }
        public Builder maxNanSteps(int v) { this.maxNanSteps = v; return this; }
        public Builder seed(long v) { this.seed = v; return this; }
        public Builder maxSteps(long v) { this.maxSteps = v; return this; }
        public Builder lossAverage(LossAverage v) { this.lossAverage = v; return this; }
        public Builder strictLoad(boolean v) { this.strictLoad = v; return this; }
        public Builder dataPaths(List<Path> v) { this.dataPaths = v; return this; }
        public Builder dataFormat(DataFormat v) { this.dataFormat = v; return this; }
        public Builder truncation(Truncation v) { this.truncation = v; return this; }


        public TrainConfig build() {
            if (stage == null) throw new IllegalStateException("a TrainConfig needs its stage");
            if (dataPaths == null || dataPaths.isEmpty()) throw new IllegalStateException("a TrainConfig needs a data path");
            dataPaths = List.copyOf(dataPaths);
            return new TrainConfig(this);
        }
    }
}
