package minimind4j.tokenizer.jinja;

import java.util.List;
import java.util.Map;

/** Something a template can call: a global function, a macro, or a bound method such as {@code 'a'.upper}. */
@FunctionalInterface
interface JinjaCallable {
    Object call(Interpreter interpreter, List<Object> args, Map<String, Object> kwargs);
}
