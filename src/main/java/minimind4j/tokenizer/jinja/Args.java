package minimind4j.tokenizer.jinja;

import java.util.List;
import java.util.Map;

/** Binds positional and keyword arguments to a Python-style parameter list, with Python's error messages. */
final class Args {
    /** Marks a parameter without default: leaving it out is an error. */
    static final Object REQUIRED = new Object();

    private Args() {}

    /**
     * @param names    parameter names in order
     * @param defaults one per name: a default value, or {@link #REQUIRED}
     */
    static Object[] bind(String function, List<String> names, Object[] defaults, List<Object> args,
                         Map<String, Object> kwargs) {
        if (args.size() > names.size()) {
            throw TemplateException.type(function + "() takes at most " + names.size() + " argument(s) ("
                    + args.size() + " given)");
        }
        Object[] values = new Object[names.size()];
        boolean[] set = new boolean[names.size()];
        for (int i = 0; i < args.size(); i++) {
            values[i] = args.get(i);
            set[i] = true;
        }
        for (Map.Entry<String, Object> kw : kwargs.entrySet()) {
            int i = names.indexOf(kw.getKey());
            if (i < 0) {
                throw TemplateException.type(function + "() got an unexpected keyword argument '" + kw.getKey() + "'");
            }
            if (set[i]) throw TemplateException.type(function + "() got multiple values for argument '" + kw.getKey() + "'");
            values[i] = kw.getValue();
            set[i] = true;
        }
        for (int i = 0; i < values.length; i++) {
            if (set[i]) continue;
            if (defaults[i] == REQUIRED) {
                throw TemplateException.type(function + "() missing required argument '" + names.get(i) + "'");
            }
            values[i] = defaults[i];
        }
        return values;
    }

    /** {@link #bind} with the parameters given inline as name, default, name, default, ... */
    static Object[] bind(String function, List<Object> args, Map<String, Object> kwargs, Object... namesAndDefaults) {
        List<String> names = new java.util.ArrayList<>();
        Object[] defaults = new Object[namesAndDefaults.length / 2];
        for (int i = 0; i < namesAndDefaults.length; i += 2) {
            names.add((String) namesAndDefaults[i]);
            defaults[i / 2] = namesAndDefaults[i + 1];
        }
        return bind(function, names, defaults, args, kwargs);
    }

    /** For functions without parameters. */
    static void none(String function, List<Object> args, Map<String, Object> kwargs) {
        bind(function, List.of(), new Object[0], args, kwargs);
    }
}
