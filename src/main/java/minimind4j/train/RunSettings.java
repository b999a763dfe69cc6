package minimind4j.train;

import minimind4j.checkpoint.format.Pth;
import minimind4j.engine.CpuFeatures;
import minimind4j.engine.CpuPrecision;
import minimind4j.engine.Precision;
import minimind4j.engine.Torch;
import minimind4j.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A run's precision and intra-op thread count. They change the numbers a run computes (bf16 rounds differently from
 * fp32; a reduction split over other threads adds in another order), so they are part of the run: chosen once,
 * printed at start, recorded in the resume checkpoint, and reused by {@code --from_resume 1} unless a flag says
 * otherwise (then one line names the difference, as a changed seed does).
 *
 * <p>Order: an explicit flag; else what the resume checkpoint recorded; else {@code auto} (bf16 on CUDA, on a CPU
 * the fastest step measured on this machine). Workers of a distributed run take the launcher's choice
 * ({@link #WORKER_DTYPE}), so every rank computes in the same precision. {@link AutoPrecision} times the step.
 *
 * @param precision device and autocast type
 * @param threads   intra-op threads (0: leave libtorch's)
 * @param lines     what to print at start (one line, plus a warning per flag that differs from the checkpoint)
 */
public record RunSettings(Precision precision, int threads, List<String> lines) {
    /** Environment variable through which a launcher hands its dtype choice to its workers. */
    public static final String WORKER_DTYPE = "MINIMIND_RUN_DTYPE";

    /** What a resume checkpoint says about the run that wrote it; null fields: not recorded (MiniMind's own files). */
    public record Recorded(String dtype, Integer threads) {
        static final Recorded NONE = new Recorded(null, null);
    }

    /** The recorded settings in a resume checkpoint's contents ({@code ResumeCheckpoint.read}); NONE for null or none. */
    public static Recorded recorded(Object contents) {
        if (!(contents instanceof Map<?, ?> root)) return Recorded.NONE;  // not a checkpoint: the trainer says so
        String dtype = root.get("dtype") instanceof String s ? s : null;
        Integer threads = root.get("num_threads") instanceof Number n ? n.intValue() : null;
        return new Recorded(dtype, threads);
    }

    /**
     * @param dtypeFlag   --dtype as given (null: not given, same as auto)
     * @param threadsFlag --num_threads as given (null: not given)
     * @param resumeFile     the checkpoint --from_resume 1 will continue from, or null
     * @param resumeContents its contents as read ({@code ResumeCheckpoint.read}), or null
     */
    public static RunSettings choose(String device, String dtypeFlag, Integer threadsFlag, int localRank, ModelConfig config, int maxSeqLen,
                                     Path resumeFile, Object resumeContents) {
        Recorded rec = recorded(resumeContents);
        String given = dtypeFlag == null || Precision.isAuto(dtypeFlag) ? null : dtypeFlag;
        String fromLauncher = localRank >= 0 ? System.getenv(WORKER_DTYPE) : null;
        List<String> lines = new ArrayList<>();
        Precision precision;
        int threads;
        String source;
        AutoPrecision cpu = null;
        if (given != null) {
            precision = Precision.resolve(device, given, localRank);
            source = "--dtype " + given;
        } else if (fromLauncher != null) {
            precision = Precision.resolve(device, fromLauncher, localRank);
            source = "the launcher's choice";
        } else if (rec.dtype() != null) {
            precision = Precision.resolve(device, rec.dtype(), localRank);
            source = "as recorded in " + resumeFile.getFileName();
        } else {
            precision = Precision.resolve(device, "auto", localRank);
            if (!precision.cuda()) {
                cpu = AutoPrecision.decide(CpuFeatures.read(), config, maxSeqLen);
                precision = new Precision(precision.deviceName(), cpu.autocast());
                source = cpu.reason();
            } else {
                source = "--dtype auto on CUDA";
            }
        }
        if (threadsFlag != null) threads = threadsFlag;
        else if (rec.threads() != null) threads = rec.threads();
        else if (cpu != null) threads = cpu.threads();
        else threads = Torch.defaultThreads();
        String threadSource = threadsFlag != null ? "--num_threads" : rec.threads() != null ? "recorded" : "default";

        if (given != null && rec.dtype() != null && !rec.dtype().equals(precision.dtypeName()))
            lines.add("warning: " + resumeFile.getFileName() + " was trained in " + rec.dtype() + ", this run computes in " + precision.dtypeName()
                    + " (--dtype " + given + "): the rest of the run will not equal an uninterrupted one");
        if (threadsFlag != null && rec.threads() != null && !rec.threads().equals(threadsFlag))
            lines.add("warning: " + resumeFile.getFileName() + " was trained with " + rec.threads() + " thread(s), this run uses " + threadsFlag
                    + " (--num_threads): sums split over other threads round differently, so the run will differ slightly from an uninterrupted one");
        lines.add(0, String.format(Locale.ROOT, "precision: %s, %d thread(s) (%s; threads: %s)", precision.describe(), threads, source, threadSource));
        if (!precision.cuda() && precision.autocast() != null && given != null) {
            String emulated = emulatedNote(precision, CpuFeatures.read());
            if (emulated != null) lines.add(1, emulated);
        }
        return new RunSettings(precision, threads, lines);
    }

    /** On a CPU without native bf16 (or fp16) arithmetic: one line saying so, with the measured cost against fp32. */
    static String emulatedNote(Precision p, CpuFeatures cpu) {
        boolean bf16 = p.dtypeName().equals("bfloat16");
        if (bf16 && cpu.nativeBf16()) return null;
        if (!bf16 && (cpu.flags().contains("avx512_fp16") || cpu.flags().contains("amx_fp16"))) return null;
        double slower = CpuPrecision.emulationCost(p.autocast());
        return String.format(Locale.ROOT, "note: %s on this CPU (%s: %s) is emulated in software: its GEMMs measured %.1fx slower than fp32 here; "
                + "--dtype auto would %s", p.dtypeName(), cpu.model(), cpu.bf16Summary(), slower,
                cpu.nativeBf16() ? "time fp32 and bf16 and train in the faster" : "train in fp32");
    }

    /** Prints the start lines on the first rank of a machine. */
    public void print(java.io.PrintStream out, int localRank) {
        if (localRank <= 0) for (String l : lines) out.println(l);
    }
}
