package minimind4j.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** One run of the {@code minimind} launcher in-process, with System.out and System.err captured. */
public record CliRun(int code, String out, String err) {
    public static CliRun of(String... args) {
        return of(minimind4j.train.LossFault.NONE, args);
    }

    /** A run whose training commands make the loss of the steps {@code fault} accepts NaN (tests of the skip path). */
    public static CliRun of(minimind4j.train.LossFault fault, String... args) {
        picocli.CommandLine.IFactory factory = new picocli.CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                K made = picocli.CommandLine.defaultFactory().create(cls);
                if (made instanceof TrainCommand t) t.lossFault = fault;
                return made;
            }
        };
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Minimind.run(factory, args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
