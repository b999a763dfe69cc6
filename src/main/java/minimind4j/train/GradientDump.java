package minimind4j.train;

import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import org.bytedeco.pytorch.Tensor;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Test instrument: with the system property {@code minimind.test.gradients} set to a directory, rank 0 writes the
 * gradient each optimizer step applies (after the cross-rank average, before unscaling and clipping) to
 * {@code step-N.grad}: per parameter its name, element count and float32 values. AdamW's first step is
 * sign-like and clipping rescales, so only the gradient itself shows whether losses were summed or averaged.
 */
final class GradientDump {
    private final Path dir;
    private int written;

    private GradientDump(Path dir) { this.dir = dir; }

    static GradientDump fromSystemProperty() {
        String d = System.getProperty("minimind.test.gradients");
        return d == null || d.isBlank() ? null : new GradientDump(Path.of(d));
    }

    void write(MiniMindLM model) {
        written++;
        try {
            Files.createDirectories(dir);
            Path f = dir.resolve("step-" + written + ".grad");
            try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(f)))) {
                for (Map.Entry<String, Tensor> e : model.namedParameters().entrySet()) {
                    Tensor g = e.getValue().grad();
                    float[] v = g.defined() ? Torch.toFloats(g) : new float[(int) e.getValue().numel()];
                    out.writeUTF(e.getKey());
                    out.writeInt(v.length);
                    for (float x : v) out.writeFloat(x);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
