package minimind4j.cli;

import minimind4j.model.ModelFamily;
import minimind4j.train.Stage;
import minimind4j.train.StageDefaults;
import minimind4j.train.TrainConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.ListResourceBundle;

/**
 * The training commands' help texts that name both families' defaults ("1e-6 for minimind2, 1e-5 for minimind3"),
 * and each family's values ({@code m2.learning_rate}, {@code m3.beta}, ...), computed from {@link StageDefaults}: the
 * flags' and commands' descriptions refer to them as {@code ${bundle:families.FLAG}}, {@code ${bundle:m2.FLAG}}.
 * One bundle per stage, named by the command's {@code resourceBundle}.
 */
public abstract class StageHelp extends ListResourceBundle {
    abstract Stage stage();

    @Override
    protected Object[][] getContents() {
        TrainConfig m2 = StageDefaults.of(stage(), ModelFamily.MINIMIND2), m3 = StageDefaults.of(stage(), ModelFamily.MINIMIND3);
        List<Object[]> rows = new ArrayList<>(List.of(new Object[][]{
                {"families.epochs", both(String.valueOf(m2.epochs()), String.valueOf(m3.epochs()))},
                {"families.learning_rate", both(StageDefaultValues.number(m2.learningRate()), StageDefaultValues.number(m3.learningRate()))},
                {"families.max_seq_len", both(String.valueOf(m2.maxSeqLen()), String.valueOf(m3.maxSeqLen()))},
                {"families.data_path", both(m2.dataPath().toString(), m3.dataPath().toString())},
                {"families.empty_think_ratio", both(StageDefaultValues.number(m2.emptyThinkRatio()), StageDefaultValues.number(m3.emptyThinkRatio()))},
        }));
        // each family's values for the commands' descriptions: ${bundle:m2.learning_rate}, ${bundle:m3.beta}, ...
        for (ModelFamily family : ModelFamily.values()) {
            TrainConfig d = StageDefaults.of(stage(), family);
            String p = family == ModelFamily.MINIMIND2 ? "m2." : "m3.";
            rows.add(new Object[]{p + "epochs", String.valueOf(d.epochs())});
            rows.add(new Object[]{p + "batch_size", String.valueOf(d.batchSize())});
            rows.add(new Object[]{p + "learning_rate", StageDefaultValues.number(d.learningRate())});
            rows.add(new Object[]{p + "accumulation_steps", String.valueOf(d.accumulationSteps())});
            rows.add(new Object[]{p + "max_seq_len", String.valueOf(d.maxSeqLen())});
            rows.add(new Object[]{p + "data_path", d.dataPath().toString()});
            rows.add(new Object[]{p + "empty_think_ratio", StageDefaultValues.number(d.emptyThinkRatio())});
            rows.add(new Object[]{p + "log_interval", String.valueOf(d.logInterval())});
            rows.add(new Object[]{p + "save_interval", String.valueOf(d.saveInterval())});
            rows.add(new Object[]{p + "beta", StageDefaultValues.number(StageDefaults.dpoBeta(family))});
        }
        return rows.toArray(new Object[0][]);
    }

    /** "; by family: A for minimind2, B for minimind3", or nothing when the families agree. */
    private static String both(String m2, String m3) {
        return m2.equals(m3) ? "" : "; by family: " + m2 + " for minimind2, " + m3 + " for minimind3";
    }

    public static final class Pretrain extends StageHelp {
        @Override
        Stage stage() { return Stage.PRETRAIN; }
    }

    public static final class Sft extends StageHelp {
        @Override
        Stage stage() { return Stage.SFT; }
    }

    public static final class Lora extends StageHelp {
        @Override
        Stage stage() { return Stage.LORA; }
    }

    public static final class Dpo extends StageHelp {
        @Override
        Stage stage() { return Stage.DPO; }
    }
}
