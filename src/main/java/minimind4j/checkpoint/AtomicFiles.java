package minimind4j.checkpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;

/**
 * Writes a file so that a crash never leaves a half-written file under its real name: the bytes go to a temporary
 * file in the same directory, which is flushed to disk ({@code fsync}) and then renamed over the target in one
 * step; the directory is synced afterwards so the rename itself survives a power loss. If anything fails, the
 * temporary file is removed and the target is left as it was.
 */
final class AtomicFiles {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Produces the file's content. */
    interface Body {
        void writeTo(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {}

    static void write(Path target, Body body) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (Files.isDirectory(absolute)) throw new IOException(target + " is a directory");
        if (dir == null || !Files.isDirectory(dir)) throw new IOException("directory of " + target + " does not exist");

        Path tmp = null;
        FileChannel channel = null;
        for (int attempt = 0; channel == null; attempt++) {
            // Created with default permissions (unlike Files.createTempFile's 0600), since it becomes the real file.
            tmp = dir.resolve("." + absolute.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
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

    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // Some platforms and file systems cannot open or sync a directory; the rename has still happened.
        }
    }
}
