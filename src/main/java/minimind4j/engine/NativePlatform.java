package minimind4j.engine;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;

/**
 * Whether the natives this jar was packed with (its manifest's {@code Minimind-Platform}, written by the build) are
 * the ones this machine can load. Without the check a macOS zip unpacked on Windows, or a checkout cross-built for
 * another platform, fails deep inside JavaCPP's loader with an UnsatisfiedLinkError's stack trace.
 */
public final class NativePlatform {
    private NativePlatform() {}

    /** JavaCPP's name for this machine (linux-x86_64, macosx-arm64, windows-x86_64, ...); loads no native code. */
    public static String running() {
        return org.bytedeco.javacpp.Loader.getPlatform();
    }

    /** The platform named in the manifest of the jar holding this class; null when run from classes (tests). */
    public static String built() {
        try {
            var source = NativePlatform.class.getProtectionDomain().getCodeSource();
            if (source == null) return null;
            Path jar = Path.of(source.getLocation().toURI());
            if (!Files.isRegularFile(jar)) return null;
            try (JarFile j = new JarFile(jar.toFile())) {
                return j.getManifest() == null ? null : j.getManifest().getMainAttributes().getValue("Minimind-Platform");
            }
        } catch (IOException | URISyntaxException | IllegalArgumentException | SecurityException e) {
            return null;
        }
    }

    /** One line saying what to do when the natives are another platform's, else null. */
    public static String mismatch(String built, String running) {
        if (built == null || built.isBlank() || built.equals(running)) return null;
        return "this minimind4j carries " + built + " natives but this machine is " + running
                + ": use the minimind4j-<version>-" + running + ".zip distribution, or rebuild here (mvn -DskipTests package,"
                + " without -Dminimind.platform)";
    }
}
