package minimind4j.engine;

import minimind4j.CliProcess;
import minimind4j.TestPython;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The first start on a new machine: an empty JavaCPP cache, and (where Debian's python3-torch is installed, as
 * {@code .ci/run} installs it) a foreign libtorch_cpu.so on the default library path. Before {@link NativeLibraries}
 * this crashed the JVM in native code, 3 starts of 3; it must train the demo.
 */
class ColdNativeCacheTest {
    static final Path SYSTEM_LIBTORCH = Path.of("/usr/lib/x86_64-linux-gnu/libtorch_cpu.so");

    @Test
    void theFirstStartOnAColdCacheTrainsWhateverLibtorchTheSystemHas(@TempDir Path tmp) throws Exception {
        boolean foreign = Files.exists(SYSTEM_LIBTORCH);
        if (TestPython.underCi() && Loader64.linuxX86())
            assertTrue(foreign, SYSTEM_LIBTORCH + " is missing: .ci/run installs libtorch-dev so this test starts beside a foreign libtorch");
        Path cache = tmp.resolve("javacpp-cache"), save = tmp.resolve("out");
        Process p = CliProcess.start(save, List.of("-Xss4m", "-Dorg.bytedeco.javacpp.cachedir=" + cache),
                List.of("sft", "--max_steps", "1", "--dtype", "float32", "--save_dir", save.toString()));
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "timed out");
        String log = CliProcess.log(save);
        assertEquals(0, p.exitValue(), (foreign ? "with " + SYSTEM_LIBTORCH + " present: " : "") + log);
        assertTrue(log.contains("done: 1 steps"), log);
        assertTrue(Files.isDirectory(cache), "the run did not use the fresh cache " + cache);
    }

    /** Where Debian's x86-64 packages apply. */
    static final class Loader64 {
        static boolean linuxX86() {
            return System.getProperty("os.name").startsWith("Linux") && System.getProperty("os.arch").matches("amd64|x86_64");
        }
    }
}
