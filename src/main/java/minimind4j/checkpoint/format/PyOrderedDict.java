package minimind4j.checkpoint.format;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Python {@code collections.OrderedDict}, which is what {@code model.state_dict()} returns. It behaves as the
 * {@link LinkedHashMap} it is; the separate type only lets the writer pickle it back as an OrderedDict. The
 * {@code _metadata} attribute torch attaches to state dicts (module versions) is not kept.
 */
public final class PyOrderedDict extends LinkedHashMap<Object, Object> {
    private static final long serialVersionUID = 1L;

    public PyOrderedDict() {}

    public PyOrderedDict(Map<?, ?> items) {
        super(items);
    }
}
