package minimind4j.train;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The signals that mean "stop now, I may kill you soon": SIGINT (Ctrl-C), SIGTERM (docker stop, systemd, Kubernetes,
 * SLURM before the kill) and SIGHUP (the terminal or ssh session went away). While training, each of them only asks the
 * loop to stop after the current step and save a resume checkpoint; a repeated signal does not cut that save short
 * (it is reported and otherwise waits). The exit status is then 128 + the first signal's number, as a shell reports a
 * process killed by it (130, 143, 129), so schedulers see why the run ended.
 */
final class StopSignals implements AutoCloseable {
    private static final String[] NAMES = {"INT", "TERM", "HUP"};

    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();
    private volatile int number;
    private volatile String name;

    /** Installs the handlers: {@code onFirst} runs on the run's first stop signal, {@code onRepeat} (with "SIGTERM" etc.) on later ones. */
    StopSignals(Runnable onFirst, Consumer<String> onRepeat) {
        for (String n : NAMES) {
            Signal s = new Signal(n);
            try {
                previous.put(s, Signal.handle(s, sig -> {
                    String label = "SIG" + sig.getName();
                    synchronized (this) {
                        if (number == 0) {
                            number = sig.getNumber();
                            name = label;
                        } else {
                            onRepeat.accept(label);
                            return;
                        }
                    }
                    onFirst.run();
                }));
            } catch (IllegalArgumentException unavailable) {
                // not on this platform, or reserved by the JVM (-Xrs): that signal keeps its default action
            }
        }
    }

    /** The number of the first stop signal received (2, 15, 1), or 0. */
    int number() { return number; }

    /** "SIGTERM" etc., or null when none arrived. */
    String name() { return name; }

    static String nameOf(int number) {
        return switch (number) { case 1 -> "SIGHUP"; case 2 -> "SIGINT"; case 15 -> "SIGTERM"; default -> "signal " + number; };
    }

    @Override
    public void close() {
        previous.forEach((s, h) -> {
            try {
                Signal.handle(s, h);
            } catch (IllegalArgumentException ignored) {
                // could be installed, so can be restored; nothing to do otherwise
            }
        });
    }
}
