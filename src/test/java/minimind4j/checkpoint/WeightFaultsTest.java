package minimind4j.checkpoint;

import minimind4j.checkpoint.format.HostTensor;
import minimind4j.TestPaths;
import minimind4j.TestPython;
import minimind4j.cli.CliRun;
import minimind4j.UserError;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Weight files as they arrive broken: inf/NaN values (a diverged run's), headers that overflow or lie, random
 * damage; and --strict 0|1 on every command that loads weights. Each failure is one line naming the file (and the
 * tensor, where there is one), never a stack trace.
 */
class WeightFaultsTest {
    @TempDir
    static Path dir;
    static final ModelConfig C = ModelConfig.minimind2(32, 2, false);
    static Path good, sft;

    @BeforeAll
    static void files() throws Exception {
        good = dir.resolve("pretrain_32.pth");
        try (MiniMindLM m = MiniMindLM.init(C, 7)) {
            Weights.saveHalf(good, m);
        }
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 8; i++)
            lines.add("{\"conversations\":[{\"role\":\"user\",\"content\":\"Hi " + i + "\"},{\"role\":\"assistant\",\"content\":\"Hello " + i + ".\"}]}");
        sft = Files.write(dir.resolve("sft.jsonl"), lines);
    }

    static String oneLine(CliRun r) {
        assertEquals(2, r.code(), r.out() + r.err());
        String msg = r.err().strip();
        assertEquals(1, msg.lines().count(), msg);
        assertFalse(msg.contains("Exception"), msg);
        return msg;
    }

    /** The good file with one value of {@code key} replaced by {@code value}, saved under {@code name} in its own dir. */
    static Path withValue(String name, String key, float value) throws Exception {
        LinkedHashMap<String, HostTensor> sd = Weights.read(good);
        HostTensor t = sd.get(key).toF32();
        float[] v = t.toFloatArray();
        v[v.length / 2] = value;
        sd.put(key, HostTensor.ofFloats(t.shape(), v).toF16());
        Path p = dir.resolve(name).resolve("pretrain_32.pth");
        Files.createDirectories(p.getParent());
        Weights.write(p, sd);
        return p;
    }

    @Test
    void startingWeightsWithInfOrNanAreRefusedNamingTheTensor() throws Exception {
        String key = "model.layers.1.mlp.down_proj.weight";
        Path inf = withValue("inf", key, Float.POSITIVE_INFINITY);
        String msg = oneLine(CliRun.of("sft", "--data_path", sft.toString(), "--tokenizer_path", TestPaths.minimind2().toString(),
                "--save_dir", inf.getParent().toString(), "--hidden_size", "32", "--num_hidden_layers", "2", "--epochs", "1"));
        assertEquals("error: " + inf + ": " + key + " holds 1 inf/NaN values (of 4096): refusing to use these weights; they come from"
                + " a diverged or damaged run: take an earlier checkpoint (or retrain with a lower --learning_rate)", msg);
        assertFalse(Files.exists(inf.getParent().resolve("full_sft_32.pth")), "nothing trained from them");

        Path nan = withValue("nan", key, Float.NaN);
        String chat = oneLine(CliRun.of("chat", "--weight", nan.toString(), "--tokenizer_path", TestPaths.minimind2().toString(), "--prompt", "hi"));
        assertTrue(chat.startsWith("error: " + nan + ": " + key + " holds 1 inf/NaN values"), chat);
        String eval = oneLine(CliRun.of("eval", "--weight", nan.toString(), "--data", sft.toString(), "--tokenizer_path", TestPaths.minimind2().toString()));
        assertTrue(eval.contains(key + " holds 1 inf/NaN values"), eval);
    }

    /** The header: shape [2^40, 2^40], whose byte size overflows a long. */
    @Test
    void aSafetensorsShapeThatOverflowsIsOneLine() throws Exception {
        Path p = dir.resolve("overflow.safetensors");
        String header = "{\"model.embed_tokens.weight\":{\"dtype\":\"F16\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,8]}}";
        ByteBuffer b = ByteBuffer.allocate(8 + header.length() + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length()).put(header.getBytes(StandardCharsets.US_ASCII)).putLong(0);
        Files.write(p, b.array());
        String msg = oneLine(CliRun.of("info", "--weight", p.toString()));
        assertEquals("error: " + p + ": tensor 'model.embed_tokens.weight' has shape [1099511627776, 1099511627776], whose size overflows 64 bits:"
                + " a damaged or hand-edited header", msg);
    }

    /**
     * Real torch.save files whose tensors are stride-0 views of one element: sizes [2^31, 2^31] (the byte size
     * overflows 64 bits) and [2^20, 2^20] (4 TiB once materialised). torch writes and reads both; here each is one line.
     */
    @Test
    void torchFilesWithOverflowingOrHugeShapesAreOneLine() throws Exception {
        String python = TestPython.require("torch");
        Path overflow = dir.resolve("overflow.pth"), huge = dir.resolve("huge.pth");
        Process p = new ProcessBuilder(python, "-c", "import sys, torch\n"
                + "torch.save({'model.embed_tokens.weight': torch.zeros(1).expand(2**31, 2**31)}, sys.argv[1])\n"
                + "torch.save({'model.embed_tokens.weight': torch.zeros(1).expand(2**20, 2**20)}, sys.argv[2])\n",
                overflow.toString(), huge.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        String a = oneLine(CliRun.of("info", "--weight", overflow.toString()));
        assertTrue(a.startsWith("error: " + overflow + ": "), a);
        assertTrue(a.contains("overflows 64 bits"), a);
        String b = oneLine(CliRun.of("info", "--weight", huge.toString()));
        assertTrue(b.startsWith("error: " + huge + ": "), b);
    }

    /**
     * Random damage to a real .pth and .safetensors (bytes overwritten, the file cut short), 300 variants each with
     * fixed seeds: every one either still reads or fails with a one-line UserError naming the file. A stack trace, any
     * other exception type, or a hang is a failure.
     */
    @Test
    void randomlyDamagedFilesFailWithOneLineEachTime() throws Exception {
        Path st = dir.resolve("good.safetensors");
        Weights.write(st, Weights.read(good));
        for (Path original : List.of(good, st)) {
            byte[] bytes = Files.readAllBytes(original);
            String ext = original.toString().endsWith(".pth") ? ".pth" : ".safetensors";
            int rejected = 0;
            for (int seed = 0; seed < 300; seed++) {
                Random r = new Random(seed);
                byte[] broken = bytes.clone();
                // most damage where the structure lives: the first 4 KiB (pickle, zip headers / JSON header) and the end (zip directory)
                int hits = 1 + r.nextInt(8);
                for (int i = 0; i < hits; i++) {
                    int at = r.nextBoolean() ? r.nextInt(Math.min(4096, broken.length)) : broken.length - 1 - r.nextInt(Math.min(512, broken.length));
                    broken[at] = (byte) r.nextInt(256);
                }
                if (seed % 5 == 0) broken = java.util.Arrays.copyOf(broken, r.nextInt(broken.length));
                Path p = dir.resolve("broken-" + seed + ext);
                Files.write(p, broken);
                try {
                    Map<String, HostTensor> sd = Weights.read(p);
                    Weights.requireFinite(p, sd);
                    Weights.check(MiniMindLM.expectedShapes(C), sd);
                } catch (UserError e) {
                    rejected++;
                    assertTrue(e.getMessage().startsWith(p.toString()), "seed " + seed + ": the message names the file: " + e.getMessage());
                    assertEquals(1, e.getMessage().lines().count(), "seed " + seed + ": " + e.getMessage());
                } catch (Throwable t) {
                    throw new AssertionError(original.getFileName() + " damaged with seed " + seed + ": not a one-line error", t);
                }
                Files.delete(p);
            }
            assertTrue(rejected > 100, original + ": most damage must be detected, " + rejected + " of 300 were");
        }
    }

    /** A file without model.norm.weight and with one extra key, loaded by each command that loads weights. */
    @Test
    void strictZeroLoadsWhatFitsAndPrintsTheReportOnEveryCommand() throws Exception {
        LinkedHashMap<String, HostTensor> sd = Weights.read(good);
        sd.remove("model.norm.weight");
        sd.put("extra.bias", HostTensor.ofFloats(new long[]{2}, 1f, 2f));
        Path d = dir.resolve("partial");
        Files.createDirectories(d);
        Path partial = d.resolve("pretrain_32.pth");
        Weights.write(partial, sd);
        String tok = TestPaths.minimind2().toString();

        CliRun strict = CliRun.of("chat", "--weight", partial.toString(), "--tokenizer_path", tok, "--prompt", "hi");
        assertEquals(2, strict.code(), strict.err());
        String refused = strict.err().strip();  // the report lists each key, one line each
        assertTrue(refused.contains("1 missing, 1 unexpected, 0 mis-shaped keys"), refused);
        assertTrue(refused.endsWith("or load partially with --strict 0"), refused);

        List<String[]> commands = List.of(
                new String[]{"chat", "--weight", partial.toString(), "--tokenizer_path", tok, "--prompt", "hi", "--max_new_tokens", "4", "--strict", "0"},
                new String[]{"eval", "--weight", partial.toString(), "--data", sft.toString(), "--tokenizer_path", tok, "--strict", "0"},
                new String[]{"sft", "--data_path", sft.toString(), "--tokenizer_path", tok, "--save_dir", d.toString(), "--hidden_size", "32",
                        "--num_hidden_layers", "2", "--epochs", "1", "--batch_size", "4", "--strict", "0"},
                new String[]{"export", "--weight", partial.toString(), "--tokenizer_path", tok, "--out_dir", d.resolve("hf").toString(), "--strict", "0"});
        for (String[] c : commands) {
            CliRun r = CliRun.of(c);
            assertEquals(0, r.code(), c[0] + ": " + r.err());
            String report = r.out() + r.err();
            assertTrue(report.contains(partial + ": 1 missing, 1 unexpected, 0 mis-shaped keys"), c[0] + ": " + report);
            assertTrue(report.contains("missing:    model.norm.weight [32]"), c[0] + ": " + report);
            assertTrue(report.contains("--strict 0: loading the keys that fit"), c[0] + ": " + report);
        }
        assertTrue(Files.exists(d.resolve("full_sft_32.pth")));
        assertTrue(Files.exists(d.resolve("hf").resolve("model.safetensors")));
        for (String cmd : List.of("sft", "pretrain", "chat", "serve", "eval", "export"))
            assertTrue(CliRun.of(cmd, "--help").out().contains("--strict=0|1"), cmd + " --help lists --strict");
        String bad = oneLine(CliRun.of("chat", "--weight", partial.toString(), "--tokenizer_path", tok, "--prompt", "hi", "--strict", "maybe"));
        assertEquals("error: --strict maybe: expected 0 or 1", bad);
    }
}
