package minimind4j;

import minimind4j.engine.NativeLibraries;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Before the first test of a run: libtorch's own libraries into JavaCPP's cache, as {@code minimind} does at start.
 * Without it a cold cache on a machine with Debian's libtorch-dev crashes the test JVM at the first tensor (see
 * {@link NativeLibraries}).
 */
public final class NativeLibrariesFirst implements LauncherSessionListener {
    @Override
    public void launcherSessionOpened(LauncherSession session) {
        NativeLibraries.prepare();
    }
}
