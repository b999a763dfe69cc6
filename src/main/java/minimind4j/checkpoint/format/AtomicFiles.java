package minimind4j.checkpoint.format;

import minimind4j.UserError;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes a file so that a crash never leaves a half-written file under its real name: the bytes go to a temporary
 * file in the same directory, which is flushed to disk ({@code fsync}) and then renamed over the target in one
 * step; the directory is synced afterwards so the rename itself survives a power loss. If anything fails, the
 * temporary file is removed and the target is left as it was.
 *
 * <p>Every file this project writes goes through here (weights, resume checkpoints, optimizer archives, metrics,
 * plots, exports), so a full disk, an I/O error or a refused permission is handled in one place. Temporary files are
 * named {@code .<target name>.<hex>.tmp}: a run killed mid-save (kill -9, power loss) leaves one behind, and
 * {@link #removeStaleTemps} finds exactly those again.
 */
public final class AtomicFiles {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Produces the file's content. */
    public interface Body {
        void writeTo(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {}

    /** {@link #write(Path, Body)} for content already in memory. */
    public static void write(Path target, byte[] content) throws IOException {
        write(target, ch -> {
            ByteBuffer b = ByteBuffer.wrap(content);
            while (b.hasRemaining()) ch.write(b);
        });
    }

    /**
     * {@link #write(Path, byte[])} for callers outside a checkpoint format: any failure (ENOSPC, EIO, EACCES, EROFS)
     * becomes one {@link UserError} line naming the file and what it is ({@code what}, e.g. "the metrics log").
     */
    public static void writeOrFail(Path target, byte[] content, String what) {
        try {
            write(target, content);
        } catch (IOException e) {
            throw failure(target, what, e);
        }
    }

    /** The one-line error for a failed write of {@code target}: its path, the system's reason, what to do. */
    public static UserError failure(Path target, String what, IOException e) {
        return new UserError(target + ": cannot write " + what + " (" + reason(e) + ")" + hint(e));
    }

    /** The reason an I/O error gives, without a repeated path (FileSystemException puts the file first). */
    static String reason(IOException e) {
        if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) return fse.getReason();
        if (e instanceof java.nio.file.AccessDeniedException) return "permission denied";
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static String hint(IOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("No space left") || m.contains("Disk quota")) return "; free some disk space";
        if (m.contains("File too large")) return "; the file-size limit (ulimit -f) is below the file's size";
        if (m.contains("Read-only file system")) return "; the volume is mounted read-only";
        return "";
    }

    public static void write(Path target, Body body) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (Files.isDirectory(absolute)) throw new IOException(target + " is a directory");
        if (dir == null || !Files.isDirectory(dir)) throw new IOException("directory of " + target + " does not exist");

        Path tmp = null;
        FileChannel channel = null;
        for (int attempt = 0; channel == null; attempt++) {
            // Created with default permissions (unlike Files.createTempFile's 0600), since it becomes the real file.
            tmp = tempName(dir, absolute.getFileName().toString());
            try {
                channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) throw e;
            }
        }
        boolean renamed = false;
        try {
            try (FileChannel ch = channel) {
                body.writeTo(ch);
                ch.force(true);
            }
            Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            renamed = true;
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        if (renamed) syncDirectory(dir);
    }

    private static Path tempName(Path dir, String name) {
        return dir.resolve("." + name + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
    }

    /**
     * Deletes the temporary files a killed save of {@code names} left in {@code dir}: exactly the names this class
     * gives ({@code .<name>.<hex>.tmp}), plus the {@code <name>.optim.tmp} / {@code <name>.tmp} earlier versions
     * used. Nothing else is touched. Returns the files removed (their names and sizes, for the run to report).
     */
    public static List<String> removeStaleTemps(Path dir, List<String> names) throws IOException {
        List<Pattern> patterns = new ArrayList<>();
        for (String n : names) {
            patterns.add(Pattern.compile("\\." + Pattern.quote(n) + "\\.[0-9a-f]{1,16}\\.tmp"));
            patterns.add(Pattern.compile(Pattern.quote(n) + "(\\.optim)?\\.tmp"));
        }
        List<String> removed = new ArrayList<>();
        if (!Files.isDirectory(dir)) return removed;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String f = p.getFileName().toString();
                if (!Files.isRegularFile(p) || patterns.stream().noneMatch(x -> x.matcher(f).matches())) continue;
                long size = Files.size(p);
                Files.delete(p);
                removed.add(f + " (" + humanBytes(size) + ")");
            }
        }
        return removed;
    }

    static String humanBytes(long n) {
        if (n < 1024) return n + " B";
        if (n < 1024 * 1024) return String.format(java.util.Locale.ROOT, "%.1f KiB", n / 1024.0);
        if (n < 1024L * 1024 * 1024) return String.format(java.util.Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
        return String.format(java.util.Locale.ROOT, "%.2f GiB", n / (1024.0 * 1024 * 1024));
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // Some platforms and file systems cannot open or sync a directory; the rename has still happened.
        }
    }
}
