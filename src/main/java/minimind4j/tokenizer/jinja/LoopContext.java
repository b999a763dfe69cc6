package minimind4j.tokenizer.jinja;

import java.util.List;

/** The {@code loop} variable inside a for loop; one instance per iteration. */
final class LoopContext {
    private final List<Object> items;
    final int index0;
    /** Shared across the iterations of one loop: the last value {@code loop.changed(...)} saw. */
    private final Object[] changedState;

    LoopContext(List<Object> items, int index0, Object[] changedState) {
        this.items = items;
        this.index0 = index0;
        this.changedState = changedState;
    }

    int length() {
        return items.size();
    }

    /** {@code loop.<name>}; methods come back as callables. */
    Object attribute(String name) {
        int n = items.size();
        return switch (name) {
            case "index" -> (long) index0 + 1;
            case "index0" -> (long) index0;
            case "revindex" -> (long) (n - index0);
            case "revindex0" -> (long) (n - index0 - 1);
            case "first" -> index0 == 0;
            case "last" -> index0 == n - 1;
            case "length" -> (long) n;
            case "depth" -> 1L;
            case "depth0" -> 0L;
            case "previtem" -> index0 > 0 ? items.get(index0 - 1) : Undefined.of("there is no previous item");
            case "nextitem" -> index0 < n - 1 ? items.get(index0 + 1) : Undefined.of("there is no next item");
            case "cycle" -> (JinjaCallable) (interp, args, kwargs) -> {
                if (args.isEmpty()) throw TemplateException.type("no items for cycling given");
                return args.get(index0 % args.size());
            };
            case "changed" -> (JinjaCallable) (interp, args, kwargs) -> {
                Object value = new PyTuple(args);
                if (changedState[0] != null && Py.eq(changedState[0], value)) return false;
                changedState[0] = value;
                return true;
            };
            default -> Undefined.missingAttribute(this, name);
        };
    }
}
