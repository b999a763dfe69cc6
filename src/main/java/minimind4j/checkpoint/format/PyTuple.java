package minimind4j.checkpoint.format;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;

/**
 * A Python tuple: an immutable {@link List}. The reader returns tuples as this type so that code can treat them as
 * lists, and the writer pickles it as a tuple again (a plain {@code List} becomes a Python list), which keeps values
 * such as AdamW's {@code betas} tuples intact across a round trip.
 */
public final class PyTuple extends AbstractList<Object> implements RandomAccess {
    private static final PyTuple EMPTY = new PyTuple(new Object[0]);

    private final Object[] items;

    private PyTuple(Object[] items) {
        this.items = items;
    }

    public static PyTuple of(Object... items) {
        return items.length == 0 ? EMPTY : new PyTuple(items.clone());
    }

    public static PyTuple copyOf(List<?> items) {
        return items.isEmpty() ? EMPTY : new PyTuple(items.toArray());
    }

    @Override
    public Object get(int index) { return items[index]; }

    @Override
    public int size() { return items.length; }

    @Override
    public String toString() {
        if (items.length == 1) return "(" + items[0] + ",)";
        String s = Arrays.toString(items);
        return "(" + s.substring(1, s.length() - 1) + ")";
    }
}
