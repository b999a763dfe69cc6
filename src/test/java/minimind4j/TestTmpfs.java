package minimind4j;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small real file system for disk-fault tests: a tmpfs of a fixed size mounted on a test directory, so a write
 * past its size fails with the kernel's own ENOSPC ("No space left on device"), and a read-only remount with EROFS.
 * Mounting needs root (CI runs as root): without it a test fails under CI (the {@code CI} variable set), so CI never
 * passes a fault test it did not run, and is skipped elsewhere with the reason.
 */
public final class TestTmpfs implements AutoCloseable {
    public final Path dir;

    private TestTmpfs(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code size} ("256k", "4m") on {@code dir} (created if missing). */
    public static TestTmpfs mount(Path dir, String size) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        String out = run(List.of("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0755", "tmpfs", dir.toString()));
        if (out != null) unavailable("cannot mount a tmpfs on " + dir + " (" + out.strip() + "): disk-fault tests need root (CI runs as root)");
        return new TestTmpfs(dir);
    }

    /** Remounts read-only: every create or write then fails with EROFS, as on a read-only volume. */
    public void readOnly() throws IOException, InterruptedException {
        String out = run(List.of("mount", "-o", "remount,ro", dir.toString()));
        if (out != null) throw new AssertionError("cannot remount " + dir + " read-only: " + out);
    }

    /** Fills the file system with a file until only about {@code leaveBytes} remain free. */
    public Path fillLeaving(long leaveBytes) throws IOException {
        Path filler = dir.resolve("filler.bin");
        long free = Files.getFileStore(dir).getUsableSpace();
        long size = Math.max(0, free - leaveBytes);
        try (var ch = java.nio.channels.FileChannel.open(filler, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate(1 << 16);
            for (long written = 0; written < size; ) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), size - written));
                written += ch.write(chunk);
            }
        }
        return filler;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run(List.of("umount", "-l", dir.toString()));
    }

    /** null when the command succeeded, else its output (or why it could not start). */
    private static String run(List<String> cmd) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "timed out";
            }
            return p.exitValue() == 0 ? null : out;
        } catch (IOException e) {
            return e.getMessage();
        }
    }

    static void unavailable(String why) {
        if (TestPython.underCi()) throw new AssertionError(why + ": CI must run this test, not skip it");
        Assumptions.abort(why);
    }
}
