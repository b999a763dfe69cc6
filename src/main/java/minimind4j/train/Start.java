package minimind4j.train;

import minimind4j.UserError;
import minimind4j.checkpoint.ResumeCheckpoint;
import minimind4j.checkpoint.Weights;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The model a run starts from, and where in the data: a resume checkpoint's (--from_resume 1 and one exists), else
 * the --from_weight file's weights, else a fresh model.
 *
 * @param resumed the resume checkpoint, null when the run starts at the beginning
 */
record Start(MiniMindLM model, ResumeCheckpoint.State resumed, int epoch, int step) {

    /**
     * @param fromWeight the file --from_weight names
     * @param read       that file as the command already read it (its tensors are loaded, not read again), or null
     * @param contents   the resume checkpoint's contents as the command already read them, or null
     */
    static Start of(TrainConfig o, ModelConfig config, RunFiles files, Path fromWeight, RunFiles.Loaded read, Object contents,
                    Distributed dist, PrintStream out, Consumer<String> log) {
        Path resumeFile = files.resume();
        if (o.fromResume() && Files.exists(resumeFile)) {
            ResumeCheckpoint.State resumed = ResumeCheckpoint.load(resumeFile,
                    contents != null ? contents : ResumeCheckpoint.read(resumeFile), config, dist.worldSize());
            Weights.requireFinite(resumeFile, resumed.model());
            log.accept("resuming from " + resumeFile + ": epoch " + (resumed.epoch() + 1) + ", step " + resumed.step());
            // the step count and every random draw are functions of these: a change makes the rest of the run a different one
            if (resumed.seed() != o.seed())
                log.accept("warning: the checkpoint was written with --seed " + resumed.seed() + ", this run has " + o.seed() + ": samples and augmentation will differ from the original run's");
            if (resumed.batchSize() > 0 && resumed.batchSize() != o.batchSize())
                log.accept("warning: the checkpoint was written with --batch_size " + resumed.batchSize() + ", this run has " + o.batchSize()
                        + ": skipping " + resumed.step() + " batches of the new size does not skip exactly the samples already seen");
            return new Start(resumed.model(), resumed, resumed.epoch(), resumed.step());
        }
        if (o.fromResume()) log.accept("no resume checkpoint at " + resumeFile + ": starting fresh");
        if (o.fromWeight().equals("none")) return new Start(MiniMindLM.init(config, o.seed()), null, 0, 0);
        if (!Files.exists(fromWeight))
            throw new UserError(fromWeight + ": no such weight file (train the earlier stage first, or pass --from_weight none / another --save_dir)");
        PrintStream report = dist.isMain() ? out : null;
        boolean alreadyRead = read != null && read.file().toAbsolutePath().normalize().equals(fromWeight.toAbsolutePath().normalize());
        return new Start(alreadyRead ? Weights.load(fromWeight, read.tensors(), config, o.strictLoad(), report)
                : Weights.load(fromWeight, config, o.strictLoad(), report), null, 0, 0);
    }
}
