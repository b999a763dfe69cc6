package minimind4j.export;

import minimind4j.checkpoint.format.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** An export directory written in one step (a Hugging Face directory, a GGUF file with its Modelfile). */
public final class ExportDirectory {
    private ExportDirectory() {}

    /** Where a writer is: the file it is writing, named in the error message if writing fails. */
    public static final class At {
        Path current;

        public Path file(Path p) {
            current = p;
            return p;
        }
    }

    public interface DirectoryBody {
        void write(Path tmp, At at) throws IOException;
    }

    /**
     * Writes a directory in one step: {@code body} fills a sibling temp directory, which is then renamed to
     * {@code outDir}; a failed export leaves nothing that looks like a model.
     */
    public static void intoDirectory(Path outDir, DirectoryBody body) {
        Path parent = outDir.toAbsolutePath().getParent();
        Path tmp;
        try {
            Files.createDirectories(parent);
            tmp = Files.createTempDirectory(parent, "." + outDir.getFileName() + ".tmp");
        } catch (IOException e) {
            throw AtomicFiles.failure(outDir, "the export", e);
        }
        At at = new At();
        at.current = tmp;
        try {
            body.write(tmp, at);
            at.current = outDir;
            if (Files.isDirectory(outDir)) Files.delete(outDir);
            Files.move(tmp, outDir, StandardCopyOption.ATOMIC_MOVE);
            try { // a temp directory is private (rwx------); a model directory is for others to read
                Files.setPosixFilePermissions(outDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system: its defaults apply
            }
        } catch (IOException e) {
            // named as the user will look for it: the export directory and the file inside it
            Path shown = at.current.startsWith(tmp) ? outDir.resolve(tmp.relativize(at.current)) : outDir;
            throw AtomicFiles.failure(shown, "the export", e);
        } finally {
            if (Files.exists(tmp)) try (Stream<Path> s = Files.walk(tmp)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // best effort: a leftover temp directory is hidden and named as one
            }
        }
    }

}
