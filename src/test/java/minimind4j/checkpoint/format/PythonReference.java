package minimind4j.checkpoint.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs src/test/python/torch_pickle_ref.py (the independent stdlib + numpy implementation) and builds the same JSON
 * summary it prints from Java values, so the two can be compared as JSON trees.
 */
final class PythonReference {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path SCRIPT = Path.of("src/test/python/torch_pickle_ref.py").toAbsolutePath();

    private PythonReference() {}

    /** The interpreter with numpy (fails under CI, skips elsewhere, when there is none). */
    static void assumeAvailable() {
        minimind4j.TestPython.require("numpy");
    }

    /** Runs the script with the given arguments and returns its standard output. */
    static String run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(minimind4j.TestPython.require("numpy"), SCRIPT.toString()));
        command.addAll(List.of(args));
        Path err = Files.createTempFile("torch_pickle_ref", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("python timed out: " + command);
            }
            if (p.exitValue() != 0) {
                throw new AssertionError("python failed (" + p.exitValue() + "): " + command + "\n" + Files.readString(err));
            }
            return new String(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(err);
        }
    }

    /** Runs {@code python3 -c code} and returns its raw standard output. */
    static byte[] runPythonCode(String code) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(minimind4j.TestPython.require("numpy"), "-c", code).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError("python failed: " + code);
        return out;
    }

    static JsonNode runJson(String... args) throws IOException, InterruptedException {
        return JSON.readTree(run(args));
    }

    /**
     * The summary torch_pickle_ref.py's {@code summarize()} gives for the same Python value. Built, written and
     * parsed again so that numbers get the same JsonNode types as the parsed Python output.
     */
    static JsonNode summarize(Object value) {
        try {
            return JSON.readTree(JSON.writeValueAsString(summaryOf(value)));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static JsonNode summaryOf(Object o) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode n = f.objectNode();
        if (o == null) {
            n.put("kind", "none");
        } else if (o instanceof Boolean) {
            n.put("kind", "bool").put("value", (Boolean) o);
        } else if (o instanceof Long) {
            n.put("kind", "int").put("value", (Long) o);
        } else if (o instanceof BigInteger) {
            n.put("kind", "int").put("value", (BigInteger) o);
        } else if (o instanceof Double) {
            n.put("kind", "float").put("bits", bits((Double) o));
        } else if (o instanceof String) {
            n.put("kind", "str").put("value", (String) o);
        } else if (o instanceof byte[]) {
            n.put("kind", "bytes").put("hex", HexFormat.of().formatHex((byte[]) o));
        } else if (o instanceof HostTensor) {
            HostTensor t = (HostTensor) o;
            n.put("kind", "tensor").put("dtype", t.dtype().name());
            ArrayNode shape = n.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            n.put("sha256", sha256(t.toByteArray()));
            ArrayNode values = n.putArray("values");
            int shown = (int) Math.min(16, t.numel());
            if (t.dtype().isFloatingPoint()) {
                double[] v = t.toDoubleArray();
                for (int i = 0; i < shown; i++) values.add(bits(v[i]));
            } else {
                long[] v = t.toLongArray();
                for (int i = 0; i < shown; i++) values.add(v[i]);
            }
        } else if (o instanceof Map) {
            n.put("kind", o instanceof PyOrderedDict ? "ordered_dict" : "dict");
            ArrayNode items = n.putArray("items");
            for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
                items.addArray().add(summaryOf(e.getKey())).add(summaryOf(e.getValue()));
            }
        } else if (o instanceof List) {
            n.put("kind", o instanceof PyTuple ? "tuple" : "list");
            ArrayNode items = n.putArray("items");
            for (Object v : (List<?>) o) items.add(summaryOf(v));
        } else if (o instanceof DType) {
            n.put("kind", "dtype").put("value", ((DType) o).torchName()); // no Python-side counterpart needed
        } else if (o instanceof Set) {
            n.put("kind", "set");
            ArrayNode items = n.putArray("items");
            for (Object v : (Set<?>) o) items.add(summaryOf(v));
        } else {
            throw new AssertionError("no summary for " + o.getClass());
        }
        return n;
    }

    static String bits(double v) {
        return String.format("%016x", Double.doubleToRawLongBits(v));
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
