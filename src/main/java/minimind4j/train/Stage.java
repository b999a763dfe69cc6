package minimind4j.train;

/** A training stage, as MiniMind's trainer/train_*.py scripts are split. */
public enum Stage {
    PRETRAIN("pretrain"), SFT("sft"), LORA("lora"), DPO("dpo");

    private final String id;

    Stage(String id) { this.id = id; }

    /** The stage's name as MiniMind spells it (train_{id}.py). */
    public String id() { return id; }

    /** The stage whose data this one reads: LoRA trains on SFT conversations. */
    public Stage data() { return this == LORA ? SFT : this; }

    @Override
    public String toString() { return id; }
}
