package minimind4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import minimind4j.TestPython;
import minimind4j.checkpoint.format.DType;
import minimind4j.checkpoint.format.HostTensor;
import minimind4j.checkpoint.ResumeCheckpoint;
import minimind4j.lora.LoraAdapters;
import minimind4j.lora.LoraConfig;
import minimind4j.lora.LoraTargets;
import minimind4j.checkpoint.Weights;
import minimind4j.cli.CliRun;
import minimind4j.engine.Torch;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.tokenizer.MiniMindTokenizer;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code minimind dpo} against MiniMind's DPO on real PyTorch ({@code scripts/minimind_dpo_torch.py}, written from
 * train_dpo.py and DPODataset at 83e52f6a and at HEAD): the same starting weights and preference file, fp32, one batch
 * holding every pair, three epochs (three optimizer steps, the cosine schedule, AdamW's moments). The script renders
 * the conversations itself with Jinja2 (asserting the text equals what the tokenizer's ids were made from) and makes
 * the truncation, padding, loss mask and shift itself. Per-step loss within 1e-4, the rewards TRL reports within 1e-4,
 * and the final fp32 weights within 1e-3 (relative L2) of torch's update. Each case also runs torch with the other
 * version's reduction, which must be far off: the comparison can fail.
 */
class DpoTorchParityTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path SCRIPT = Path.of("scripts/minimind_dpo_torch.py").toAbsolutePath();
    static final int MAX_SEQ_LEN = 40;
    static final double LR = 1e-3;

    /** MiniMind-format pairs: single and multi-turn, a system prompt, one reply longer than MAX_SEQ_LEN (truncated). */
    static final List<String> RECORDS = List.of(
            pair(List.of(msg("user", "What color is a pebbleback?")), "A pebbleback is orange.", "A pebbleback is blue, I think."),
            pair(List.of(msg("system", "Answer briefly."), msg("user", "Which river is Dunmire on?")), "The Ash.", "Dunmire is not on any river that I know of."),
            pair(List.of(msg("user", "Hi"), msg("assistant", "Hello! How can I help?"), msg("user", "Name a fruit.")), "An apple.", "No."),
            pair(List.of(msg("user", "Tell me about Zelkin.")), "Zelkin is a small town where people keep ducks and grow barley along the river, "
                    + "and every spring they hold a market on the bridge.", "Zelkin."));

    static Map<String, Object> msg(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    static String pair(List<Map<String, Object>> prompt, String chosen, String rejected) {
        List<Map<String, Object>> c = new ArrayList<>(prompt), r = new ArrayList<>(prompt);
        c.add(msg("assistant", chosen));
        r.add(msg("assistant", rejected));
        try {
            return JSON.writeValueAsString(Map.of("chosen", c, "rejected", r));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @CsvSource({"minimind2, 1.0, false, false", "minimind3, 0.0, false, false", "minimind2, 1.0, true, false", "minimind3, 0.0, true, false",
            "minimind2, 1.0, false, true", "minimind3, 0.0, false, true"})
    void everyStepEqualsMiniMindsDpoOnPyTorch(String family, double emptyThinkRatio, boolean moe, boolean lora, @TempDir Path dir) throws Exception {
        TestPython.require("torch", "jinja2");
        Path tokDir = Path.of("src/test/resources/minimind", family).toAbsolutePath();
        ModelConfig c = (family.equals("minimind3") ? ModelConfig.minimind3(64, 2, moe) : ModelConfig.minimind2(64, 2, moe)).withVocabSize(6400);
        Path start = dir.resolve("start.pth");
        try (MiniMindLM m = MiniMindLM.init(c, 3)) {
            Weights.saveHalf(start, m);
        }
        Path data = Files.write(dir.resolve("dpo.jsonl"), RECORDS);
        double beta = family.equals("minimind3") ? 0.15 : 0.1;
        double lr = lora ? 2e-2 : LR;  // adapters starting at B = 0 need a larger step to move in 3 steps

        // what torch is given: the records' messages and the ids of the text (the project's tokenizer, whole text)
        List<Map<String, Object>> pairs = new ArrayList<>();
        Map<String, Object> cfg = new LinkedHashMap<>();
        try (MiniMindTokenizer tok = MiniMindTokenizer.load(tokDir)) {
            for (String line : RECORDS) {
                JsonNode rec = JSON.readTree(line);
                Map<String, Object> p = new LinkedHashMap<>();
                for (String side : List.of("chosen", "rejected")) {
                    List<Map<String, Object>> messages = JSON.convertValue(rec.get(side), List.class);
                    String text = tok.applyChatTemplate(messages, null, false, Map.of());
                    if (emptyThinkRatio == 0.0) text = text.replace("<think>\n\n</think>\n\n", "");
                    p.put(side, Map.of("messages", messages, "text", text, "ids", tok.encode(text)));
                }
                pairs.add(p);
            }
            cfg.putAll(Map.of("family", family, "hidden_size", 64, "num_hidden_layers", 2, "use_moe", moe, "vocab_size", 6400));
            cfg.putAll(Map.of("version", family, "beta", beta, "lr", lr, "epochs", 3, "batch_size", RECORDS.size(),
                    "max_seq_len", MAX_SEQ_LEN, "empty_think_ratio", emptyThinkRatio, "tokenizer_dir", tokDir.toString()));
            cfg.putAll(Map.of("bos_ids", tok.encode(tok.bosToken() + "assistant\n"), "eos_ids", tok.encode(tok.eosToken() + "\n"), "pad_id", tok.padId()));
        }
        JSON.writeValue(dir.resolve("pairs.json").toFile(), pairs);
        JSON.writeValue(dir.resolve("config.json").toFile(), cfg);
        assertTrue(((int[]) ((Map<?, ?>) pairs.get(3).get("chosen")).get("ids")).length > MAX_SEQ_LEN, "the long reply must be truncated");

        Path out = dir.resolve("out");
        List<String> args = new ArrayList<>(List.of("dpo", "--data_path", data.toString(), "--tokenizer_path", tokDir.toString(), "--from_weight", start.toString(),
                "--save_dir", out.toString(), "--batch_size", String.valueOf(RECORDS.size()), "--epochs", "3", "--learning_rate", String.valueOf(lr),
                "--max_seq_len", String.valueOf(MAX_SEQ_LEN), "--empty_think_ratio", String.valueOf(emptyThinkRatio), "--dtype", "float32",
                "--log_interval", "1", "--num_threads", "1"));
        // MoE's aux loss averages over padding: MiniMind pads every row to max_seq_len
        if (moe) args.addAll(List.of("--pad_to_max_seq_len", "--group_by_length", "0"));
        // LoRA: the adapters the run starts from (--seed 42, rank 4, MiniMind's square layers), given to torch too
        Map<String, float[]> adaptersBefore = null;
        if (lora) {
            args.addAll(List.of("--lora_rank", "4"));
            try (LoraAdapters a = LoraAdapters.init(c, new LoraConfig(4, 4, 0, LoraTargets.parse(LoraTargets.SQUARE)), 42, null)) {
                Map<String, HostTensor> sd = a.stateDict(false, DType.F32);
                Weights.write(dir.resolve("lora_start.pth"), sd);
                adaptersBefore = floats(sd);
            }
            cfg.put("lora_rank", 4);
            JSON.writeValue(dir.resolve("config.json").toFile(), cfg);
        }
        String name = (lora ? "lora_dpo_64" : "dpo_64") + c.weightSuffix();
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());

        JsonNode torchRun = JSON.readTree(TestPython.run(new String[]{"torch", "jinja2"}, "", SCRIPT.toString(), dir.toString()));
        List<String> rows = Files.readAllLines(out.resolve(name + "_metrics.csv"));
        List<String> header = List.of(rows.get(0).split(","));
        assertEquals(4, rows.size(), String.join("\n", rows));
        for (int s = 0; s < 3; s++) {
            String[] f = rows.get(s + 1).split(",");
            double ours = Double.parseDouble(f[header.indexOf("loss")]), theirs = torchRun.get("losses").get(s).asDouble();
            System.out.printf("%s%s step %d: loss %.6f, torch %.6f, diff %.2e%n", family, (moe ? " moe" : "") + (lora ? " lora" : ""), s + 1, ours, theirs, Math.abs(ours - theirs));
            assertEquals(theirs, ours, 1e-4, "step " + (s + 1) + " loss");
            for (int k = 0; k < DpoLoss.METRICS.size(); k++)
                assertEquals(torchRun.get("rewards").get(s).get(k).asDouble(), Double.parseDouble(f[header.indexOf(DpoLoss.METRICS.get(k))]), 1e-4,
                        "step " + (s + 1) + " " + DpoLoss.METRICS.get(k));
        }
        assertTrue(torchRun.get("losses").get(2).asDouble() < Math.log(2) - 1e-3, "the run must move: " + torchRun);

        Map<String, float[]> before, ours, theirs;
        if (lora) {
            before = adaptersBefore;
            ours = floats(ResumeCheckpoint.load(out.resolve(name + "_resume.pth"), c, 1).adapters());
            theirs = new LinkedHashMap<>(floats(Weights.read(dir.resolve("torch_after.pth"))));
            theirs.keySet().retainAll(before.keySet());
            assertEquals(before.keySet(), theirs.keySet());
        } else {
            before = weights(Weights.load(start, c, true, null));
            ours = weights(ResumeCheckpoint.load(out.resolve(name + "_resume.pth"), c, 1).model());
            theirs = weights(Weights.load(dir.resolve("torch_after.pth"), c, true, null));
        }
        double d = updateDifference(before, ours, theirs);
        System.out.printf("%s%s: final weights vs torch's, relative L2 of the update %.2e%n", family, (moe ? " moe" : "") + (lora ? " lora" : ""), d);
        assertTrue(d < 1e-3, "our update differs from torch's by " + d);

        // the other MiniMind version's reduction gives another run: the comparisons above can fail
        cfg.put("reduction", family.equals("minimind2") ? "sum" : "mean");
        JSON.writeValue(dir.resolve("config.json").toFile(), cfg);
        JsonNode other = JSON.readTree(TestPython.run(new String[]{"torch", "jinja2"}, "", SCRIPT.toString(), dir.toString()));
        double ours3 = Double.parseDouble(rows.get(3).split(",")[header.indexOf("loss")]);
        System.out.printf("%s%s: torch with the other reduction, step 3 loss %.6f (ours %.6f)%n", family, (moe ? " moe" : "") + (lora ? " lora" : ""), other.get("losses").get(2).asDouble(), ours3);
        assertTrue(Math.abs(other.get("losses").get(2).asDouble() - ours3) > 1e-3, "the other reduction is as close: " + other);
    }

    static Map<String, float[]> floats(Map<String, HostTensor> sd) {
        Map<String, float[]> w = new LinkedHashMap<>();
        sd.forEach((k, h) -> w.put(k, Torch.toFloats(Weights.toTensor(h, torch.ScalarType.Float))));
        return w;
    }

    static Map<String, float[]> weights(MiniMindLM m) {
        Map<String, float[]> w = new LinkedHashMap<>();
        try (m) {
            m.namedParameters().forEach((k, v) -> w.put(k, Torch.toFloats(v)));
        }
        return w;
    }

    /** ||(a - before) - (b - before)|| / ||b - before|| over every parameter. */
    static double updateDifference(Map<String, float[]> before, Map<String, float[]> a, Map<String, float[]> b) {
        double diff = 0, ref = 0;
        for (String k : before.keySet()) {
            float[] w0 = before.get(k), x = a.get(k), y = b.get(k);
            for (int i = 0; i < w0.length; i++) {
                double ua = (double) x[i] - w0[i], ub = (double) y[i] - w0[i];
                diff += (ua - ub) * (ua - ub);
                ref += ub * ub;
            }
        }
        return Math.sqrt(diff / ref);
    }
}
