package minimind4j.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Finds a Python interpreter for the optional PyTorch side-by-sides and cross-checks. Debian's {@code /usr/bin/python3}
 * comes first (where python3-torch, python3-numpy and python3-jinja2 install; a {@code python3} earlier on PATH, such
 * as a pyenv one, may lack them), then {@code python3} on PATH: the first that imports every module asked for.
 */
public final class Python {
    private Python() {}

    private static final Map<String, String> FOUND = new ConcurrentHashMap<>();

    /** The interpreter that imports all of {@code modules}, or null when none does. */
    public static String find(List<String> modules) {
        String hit = FOUND.computeIfAbsent(String.join(",", modules), k -> {
            for (String candidate : List.of("/usr/bin/python3", "python3")) {
                if (candidate.startsWith("/") && !Files.isExecutable(Path.of(candidate))) continue;
                if (imports(candidate, modules)) return candidate;
            }
            return "";
        });
        return hit.isEmpty() ? null : hit;
    }

    private static boolean imports(String python, List<String> modules) {
        try {
            Process p = new ProcessBuilder(python, "-c", "import " + String.join(", ", modules)).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
