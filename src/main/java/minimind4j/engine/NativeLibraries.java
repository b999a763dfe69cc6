package minimind4j.engine;

import org.bytedeco.javacpp.Loader;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * Puts libtorch's own libraries in JavaCPP's cache before anything loads one, so the dynamic linker can only find
 * this project's copies.
 *
 * <p>Why: JavaCPP extracts and loads its preloads one at a time, and for pytorch it loads {@code libtorch.so} before
 * it has extracted {@code libtorch_cpu.so}. {@code libtorch.so} needs {@code libtorch_cpu.so}; its RUNPATH
 * ({@code $ORIGIN}) does not hold it yet on a cold cache, so the linker takes the next one on the default path. Where
 * Debian's python3-torch is installed (its Recommends, libtorch-dev, puts {@code /usr/lib/x86_64-linux-gnu/libtorch_cpu.so}
 * there) that is libtorch 1.13, which drags in its own libc10, and the JVM dies in {@code pthread_mutex_lock} on the
 * first start (measured: 3 of 3 cold starts; the second start worked, its cache being warm). Extracting first makes
 * {@code $ORIGIN} complete before the first load, whatever the system has.
 */
public final class NativeLibraries {
    private NativeLibraries() {}

    private static volatile boolean prepared;

    /** libtorch's libraries that other libtorch libraries link against, in JavaCPP's platform directory names. */
    static List<String> linkedLibraries(String platform) {
        List<String> libs = new ArrayList<>();
        for (String name : List.of("c10", "torch_cpu", "c10_cuda", "torch_cuda")) {
            if (platform.startsWith("linux")) libs.add("lib" + name + ".so");
            else if (platform.startsWith("macosx")) libs.add("lib" + name + ".dylib");
            else if (platform.startsWith("windows")) libs.add(name + ".dll");
        }
        return libs;
    }

    /**
     * Extracts libtorch's linked libraries into the cache (a no-op when they are there). Call before the first use of
     * any libtorch class; safe to call more than once and from several processes (JavaCPP locks the cache).
     *
     * @return the files now in the cache
     */
    public static synchronized List<File> prepare() {
        List<File> files = new ArrayList<>();
        if (prepared) return files;
        String platform = Loader.getPlatform();
        for (String lib : linkedLibraries(platform)) for (String dir : List.of(platform, platform + "-gpu")) {
            // a class literal does not run the class's static initializer: nothing is loaded here
            String resource = dir + "/" + lib;
            if (org.bytedeco.pytorch.Tensor.class.getResource(resource) == null) continue;  // not in this flavour (CUDA libs in the CPU jar)
            try {
                File f = Loader.cacheResource(org.bytedeco.pytorch.Tensor.class, resource);
                if (f != null) files.add(f);
            } catch (java.io.IOException e) {
                // JavaCPP will try again itself when it loads; the start-up then behaves as before
                System.err.println("warning: could not extract " + lib + " into JavaCPP's cache (" + e.getMessage() + ")");
            }
        }
        prepared = true;
        return files;
    }
}
