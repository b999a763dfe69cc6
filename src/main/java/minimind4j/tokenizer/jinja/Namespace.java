package minimind4j.tokenizer.jinja;

import java.util.LinkedHashMap;
import java.util.Map;

/** The object {@code namespace(...)} returns: the one thing {@code {% set ns.attr = ... %}} may assign to. */
final class Namespace {
    final Map<String, Object> attributes = new LinkedHashMap<>();
}
