package minimind4j.data.formats;


/**
 * A record of data that is not for SFT (preference pairs, KTO labels, multimodal samples, pretrain text). Unlike a
 * bad line this refuses the whole input: training on the rest would train on the wrong kind of data.
 */
public final class NotSftData extends Conversation.Invalid {
    private final String kind;

    public NotSftData(String kind, String advice) {
        super(kind + " data, not SFT conversations: " + advice);
        this.kind = kind;
    }

    public String kind() { return kind; }
}
