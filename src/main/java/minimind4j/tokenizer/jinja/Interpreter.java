package minimind4j.tokenizer.jinja;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import minimind4j.tokenizer.jinja.Ast.*;

/**
 * Walks the parsed template. Scoping follows Jinja2: {@code if} shares its enclosing scope, while each loop
 * iteration, macro call, {@code with}, filter and set block gets a fresh scope that reads through to its parent, so a
 * {@code {% set %}} inside a loop is gone at the next iteration and after the loop (use a namespace to carry state).
 */
final class Interpreter {

    private static final Object MISSING = new Object();
    /** Jinja's sandbox refuses ranges longer than this (jinja2.sandbox.MAX_RANGE). */
    private static final int MAX_RANGE = 100_000;

    private enum Flow { NORMAL, BREAK, CONTINUE }

    private static final class Scope {
        final Map<String, Object> vars = new HashMap<>();
        final Scope parent;

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object lookup(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                Object v = s.vars.getOrDefault(name, MISSING);
                if (v != MISSING) return v;
            }
            return MISSING;
        }
    }

    /** A {@code {% macro %}} (or the body of a {@code {% call %}} block, as {@code caller}). */
    private final class Macro implements JinjaCallable {
        final String name;
        final List<Param> params;
        final List<Stmt> body;
        final Scope closure;

        Macro(String name, List<Param> params, List<Stmt> body, Scope closure) {
            this.name = name;
            this.params = params;
            this.body = body;
            this.closure = closure;
        }

        @Override
        public Object call(Interpreter interp, List<Object> args, Map<String, Object> kwargs) {
            Scope scope = new Scope(closure);
            Map<String, Object> extraKwargs = new LinkedHashMap<>(kwargs);
            for (int i = 0; i < params.size(); i++) {
                Param p = params.get(i);
                Object value;
                if (i < args.size()) {
                    if (extraKwargs.containsKey(p.name())) {
                        throw TemplateException.type("macro '" + name + "' got multiple values for argument '"
                                + p.name() + "'");
                    }
                    value = args.get(i);
                } else if (extraKwargs.containsKey(p.name())) {
                    value = extraKwargs.remove(p.name());
                } else if (p.defaultValue() != null) {
                    value = eval(p.defaultValue(), scope);
                } else {
                    value = Undefined.of("parameter '" + p.name() + "' was not provided");
                }
                scope.vars.put(p.name(), value);
            }
            if (extraKwargs.containsKey("caller")) scope.vars.put("caller", extraKwargs.remove("caller"));
            scope.vars.put("varargs", new PyTuple(args.size() > params.size() ? args.subList(params.size(), args.size())
                    : List.of()));
            scope.vars.put("kwargs", extraKwargs);
            StringBuilder out = new StringBuilder();
            exec(body, scope, out);
            return out.toString();
        }
    }

    /** Jinja's default globals that chat templates use, plus the two transformers adds. */
    private static final Map<String, Object> GLOBALS = Map.of(
            "range", (JinjaCallable) (interp, args, kwargs) -> range(args, kwargs),
            "namespace", (JinjaCallable) (interp, args, kwargs) -> namespace(args, kwargs),
            "dict", (JinjaCallable) (interp, args, kwargs) -> dict(args, kwargs),
            "raise_exception", (JinjaCallable) (interp, args, kwargs) -> {
                Object message = Args.bind("raise_exception", List.of("message"), new Object[] {Args.REQUIRED}, args,
                        kwargs)[0];
                throw new TemplateException(TemplateException.Kind.RAISED, 0, Py.str(message));
            },
            "strftime_now", (JinjaCallable) (interp, args, kwargs) -> {
                Object format = Args.bind("strftime_now", List.of("format"), new Object[] {Args.REQUIRED}, args,
                        kwargs)[0];
                return strftime(Py.str(format), LocalDateTime.now());
            });

    String render(List<Stmt> body, Map<String, ?> context) {
        Scope root = new Scope(null);
        root.vars.putAll(GLOBALS);
        Scope top = new Scope(root);
        if (context != null) top.vars.putAll(context);
        StringBuilder out = new StringBuilder();
        exec(body, top, out);
        return out.toString();
    }

    // ---------------------------------------------------------------- statements

    private Flow exec(List<Stmt> body, Scope scope, StringBuilder out) {
        for (Stmt stmt : body) {
            Flow flow;
            try {
                flow = execOne(stmt, scope, out);
            } catch (TemplateException e) {
                throw e.atLine(stmt.line());
            }
            if (flow != Flow.NORMAL) return flow;
        }
        return Flow.NORMAL;
    }

    private Flow execOne(Stmt stmt, Scope scope, StringBuilder out) {
        if (stmt instanceof Text t) {
            out.append(t.text());
        } else if (stmt instanceof Output o) {
            out.append(Py.str(eval(o.expr(), scope)));
        } else if (stmt instanceof If s) {
            for (IfBranch branch : s.branches()) {
                if (Py.truthy(eval(branch.test(), scope))) return exec(branch.body(), scope, out);
            }
            return exec(s.orElse(), scope, out);
        } else if (stmt instanceof For f) {
            return execFor(f, scope, out);
        } else if (stmt instanceof Ast.Set s) {
            assign(s.target(), eval(s.value(), scope), scope);
        } else if (stmt instanceof SetBlock s) {
            StringBuilder captured = new StringBuilder();
            exec(s.body(), new Scope(scope), captured);
            assign(s.target(), applyFilters(s.filters(), captured.toString(), scope), scope);
        } else if (stmt instanceof Ast.Macro m) {
            scope.vars.put(m.name(), new Macro(m.name(), m.params(), m.body(), scope));
        } else if (stmt instanceof CallBlock c) {
            Macro caller = new Macro("caller", c.callerParams(), c.body(), scope);
            Map<String, Object> kwargs = evalKwargs(c.call().kwargs(), scope);
            kwargs.put("caller", caller);
            out.append(Py.str(call(eval(c.call().callee(), scope), evalArgs(c.call().args(), scope), kwargs)));
        } else if (stmt instanceof FilterBlock f) {
            StringBuilder captured = new StringBuilder();
            exec(f.body(), new Scope(scope), captured);
            out.append(Py.str(applyFilters(f.filters(), captured.toString(), scope)));
        } else if (stmt instanceof With w) {
            Scope inner = new Scope(scope);
            List<Object> values = new ArrayList<>();
            for (Expr e : w.values()) values.add(eval(e, scope));
            for (int i = 0; i < values.size(); i++) assign(w.targets().get(i), values.get(i), inner);
            return exec(w.body(), inner, out);
        } else if (stmt instanceof Block b) {
            return exec(b.body(), new Scope(scope), out);
        } else if (stmt instanceof Break) {
            return Flow.BREAK;
        } else if (stmt instanceof Continue) {
            return Flow.CONTINUE;
        } else {
            throw new IllegalStateException("unknown statement " + stmt);
        }
        return Flow.NORMAL;
    }

    private Flow execFor(For f, Scope scope, StringBuilder out) {
        List<Object> items = Py.iterate(eval(f.iterable(), scope));
        if (f.filter() != null) {
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Scope s = new Scope(scope);
                assign(f.target(), item, s);
                if (Py.truthy(eval(f.filter(), s))) kept.add(item);
            }
            items = kept;
        }
        Object[] changedState = new Object[1];
        // Jinja marks the loop as "ran" at the end of a body; a body left by break or continue does not count, so
        // the else block also runs when every iteration was cut short
        boolean bodyCompleted = false;
        for (int i = 0; i < items.size(); i++) {
            Scope s = new Scope(scope);
            assign(f.target(), items.get(i), s);
            s.vars.put("loop", new LoopContext(items, i, changedState));
            Flow flow = exec(f.body(), s, out);
            if (flow == Flow.BREAK) break;
            if (flow == Flow.NORMAL) bodyCompleted = true;
        }
        if (!bodyCompleted) exec(f.orElse(), new Scope(scope), out);
        return Flow.NORMAL;
    }

    private void assign(Target target, Object value, Scope scope) {
        if (target instanceof NameTarget n) {
            scope.vars.put(n.name(), value);
        } else if (target instanceof TupleTarget t) {
            if (value instanceof Undefined u) throw u.error();
            List<Object> values = Py.iterate(value);
            int expected = t.items().size();
            if (values.size() < expected) {
                throw TemplateException.value("not enough values to unpack (expected " + expected + ", got "
                        + values.size() + ")");
            }
            if (values.size() > expected) {
                throw TemplateException.value("too many values to unpack (expected " + expected + ")");
            }
            for (int i = 0; i < expected; i++) assign(t.items().get(i), values.get(i), scope);
        } else if (target instanceof AttrTarget a) {
            Object ns = scope.lookup(a.name());
            if (!(ns instanceof Namespace namespace)) {
                throw new TemplateException(TemplateException.Kind.RUNTIME, 0,
                        "cannot assign attribute on non-namespace object");
            }
            namespace.attributes.put(a.attr(), value);
        }
    }

    private Object applyFilters(List<FilterCall> filters, Object value, Scope scope) {
        for (FilterCall f : filters) value = applyFilter(f, value, scope);
        return value;
    }

    private Object applyFilter(FilterCall f, Object value, Scope scope) {
        try {
            return Filters.apply(this, f.name(), value, evalArgs(f.args(), scope), evalKwargs(f.kwargs(), scope));
        } catch (TemplateException e) {
            throw e.atLine(f.line());
        }
    }

    // ---------------------------------------------------------------- expressions

    private Object eval(Expr expr, Scope scope) {
        try {
            return evalInner(expr, scope);
        } catch (TemplateException e) {
            throw e.atLine(expr.line());
        }
    }

    private Object evalInner(Expr expr, Scope scope) {
        if (expr instanceof Const c) return c.value();
        if (expr instanceof Name n) {
            Object v = scope.lookup(n.name());
            return v == MISSING ? Undefined.named(n.name()) : v;
        }
        if (expr instanceof GetAttr g) return getAttr(eval(g.target(), scope), g.attr());
        if (expr instanceof GetItem g) {
            Object target = eval(g.target(), scope);
            if (g.key() instanceof Slice s) {
                return slice(target, evalOpt(s.start(), scope), evalOpt(s.stop(), scope), evalOpt(s.step(), scope));
            }
            return getItem(target, eval(g.key(), scope));
        }
        if (expr instanceof Call c) {
            Object callee = eval(c.callee(), scope);
            return call(callee, evalArgs(c.args(), scope), evalKwargs(c.kwargs(), scope));
        }
        if (expr instanceof Filter f) return applyFilter(f.filter(), eval(f.target(), scope), scope);
        if (expr instanceof Test t) {
            return Tests.apply(t.name(), eval(t.target(), scope), evalArgs(t.args(), scope), evalKwargs(t.kwargs(), scope));
        }
        if (expr instanceof And a) {
            Object left = eval(a.left(), scope);
            return Py.truthy(left) ? eval(a.right(), scope) : left;
        }
        if (expr instanceof Or o) {
            Object left = eval(o.left(), scope);
            return Py.truthy(left) ? left : eval(o.right(), scope);
        }
        if (expr instanceof Unary u) {
            Object v = eval(u.operand(), scope);
            return switch (u.op()) {
                case "not" -> !Py.truthy(v);
                case "-" -> Py.negate(v);
                default -> Py.plus(v);
            };
        }
        if (expr instanceof Binary b) {
            Object left = eval(b.left(), scope);
            Object right = eval(b.right(), scope);
            return switch (b.op()) {
                case "+" -> Py.add(left, right);
                case "-" -> Py.sub(left, right);
                case "*" -> Py.mul(left, right);
                case "/" -> Py.truediv(left, right);
                case "//" -> Py.floordiv(left, right);
                case "%" -> Py.mod(left, right);
                case "**" -> Py.pow(left, right);
                default -> throw new IllegalStateException(b.op());
            };
        }
        if (expr instanceof Concat c) {
            StringBuilder sb = new StringBuilder();
            for (Expr part : c.parts()) sb.append(Py.str(eval(part, scope)));
            return sb.toString();
        }
        if (expr instanceof Compare c) {
            Object left = eval(c.first(), scope);
            for (CompareOp op : c.ops()) {
                Object right = eval(op.right(), scope);
                if (!compare(op.op(), left, right)) return false;
                left = right;
            }
            return true;
        }
        if (expr instanceof CondExpr c) {
            if (Py.truthy(eval(c.test(), scope))) return eval(c.then(), scope);
            if (c.orElse() == null) {
                return Undefined.of("the inline if-expression on line " + c.line()
                        + " evaluated to false and no else section was defined.");
            }
            return eval(c.orElse(), scope);
        }
        if (expr instanceof ListLit l) {
            List<Object> items = new ArrayList<>();
            for (Expr e : l.items()) items.add(eval(e, scope));
            return items;
        }
        if (expr instanceof TupleLit t) {
            List<Object> items = new ArrayList<>();
            for (Expr e : t.items()) items.add(eval(e, scope));
            return new PyTuple(items);
        }
        if (expr instanceof DictLit d) {
            Map<Object, Object> map = new LinkedHashMap<>();
            for (int i = 0; i < d.keys().size(); i++) {
                Object key = eval(d.keys().get(i), scope);
                if (key instanceof List && !(key instanceof PyTuple) || key instanceof Map) {
                    throw TemplateException.type("unhashable type: '" + Py.typeName(key) + "'");
                }
                Object existing = Py.findKey(map, key);
                map.put(Py.hasKey(map, key) ? existing : key, eval(d.values().get(i), scope));
            }
            return map;
        }
        if (expr instanceof Slice) throw new TemplateException(TemplateException.Kind.SYNTAX, 0, "slice outside subscript");
        throw new IllegalStateException("unknown expression " + expr);
    }

    private Object evalOpt(Expr e, Scope scope) {
        return e == null ? null : eval(e, scope);
    }

    private List<Object> evalArgs(List<Expr> args, Scope scope) {
        List<Object> values = new ArrayList<>(args.size());
        for (Expr a : args) values.add(eval(a, scope));
        return values;
    }

    private Map<String, Object> evalKwargs(List<Kwarg> kwargs, Scope scope) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Kwarg k : kwargs) values.put(k.name(), eval(k.value(), scope));
        return values;
    }

    private static boolean compare(String op, Object left, Object right) {
        return switch (op) {
            case "==" -> Py.eq(left, right);
            case "!=" -> !Py.eq(left, right);
            case "<" -> Py.compare(left, right, op) < 0;
            case "<=" -> Py.compare(left, right, op) <= 0;
            case ">" -> Py.compare(left, right, op) > 0;
            case ">=" -> Py.compare(left, right, op) >= 0;
            case "in" -> Py.contains(right, left);
            case "not in" -> !Py.contains(right, left);
            default -> throw new IllegalStateException(op);
        };
    }

    // ---------------------------------------------------------------- attribute, item, call (sandboxed)

    /** {@code obj.name}: Python attribute first (so {@code dict.items} is the method), then {@code obj['name']}. */
    Object getAttr(Object obj, String name) {
        if (obj instanceof Undefined u) throw u.error();
        if (obj instanceof LoopContext loop) return loop.attribute(name);
        if (obj instanceof Namespace ns) {
            return ns.attributes.containsKey(name) ? ns.attributes.get(name) : Undefined.missingAttribute(obj, name);
        }
        if (Methods.isMutating(obj, name)) {
            return Undefined.unsafe(obj, name);
        }
        JinjaCallable method = Methods.bind(obj, name);
        if (method != null) return method;
        if (obj instanceof Map<?, ?> m && Py.hasKey(m, name)) return m.get(Py.findKey(m, name));
        return Undefined.missingAttribute(obj, name);
    }

    /** {@code obj[key]}: item first, then (for string keys) the attribute; a miss is undefined. */
    Object getItem(Object obj, Object key) {
        if (obj instanceof Undefined u) throw u.error();
        if (obj instanceof List<?> l && Py.isIntLike(key)) {
            long i = Py.toLong(key);
            if (i < 0) i += l.size();
            if (i >= 0 && i < l.size()) return l.get((int) i);
            return Undefined.of(Py.typeName(obj) + " object has no element " + Py.toLong(key));
        }
        if (obj instanceof String s && Py.isIntLike(key)) {
            String c = PyStrings.charAt(s, Py.toLong(key));
            return c != null ? c : Undefined.of("str object has no element " + Py.toLong(key));
        }
        if (obj instanceof Map<?, ?> m && Py.hasKey(m, key)) return m.get(Py.findKey(m, key));
        if (key instanceof String name) {
            Object attr = obj instanceof Map ? attributeOnly(obj, name) : getAttr(obj, name);
            if (!(attr instanceof Undefined)) return attr;
        }
        return Undefined.of(Py.typeName(obj) + " object has no element " + Py.repr(key));
    }

    /** The Python attribute of a dict (its methods), without falling back to its items. */
    private static Object attributeOnly(Object obj, String name) {
        if (Methods.isMutating(obj, name)) return Undefined.unsafe(obj, name);
        JinjaCallable method = Methods.bind(obj, name);
        return method != null ? method : Undefined.of("no attribute");
    }

    private static Object slice(Object target, Object start, Object stop, Object step) {
        if (target instanceof Undefined u) throw u.error();
        if (target instanceof String s) return PyStrings.slice(s, start, stop, step);
        if (target instanceof List<?> l) {
            int[] idx = PyStrings.sliceIndices(l.size(), start, stop, step);
            List<Object> out = new ArrayList<>(idx[3]);
            for (int i = idx[0], n = 0; n < idx[3]; i += idx[2], n++) out.add(l.get(i));
            return target instanceof PyTuple ? new PyTuple(out) : out;
        }
        return Undefined.of(Py.typeName(target) + " object is not subscriptable");
    }

    Object call(Object callee, List<Object> args, Map<String, Object> kwargs) {
        if (callee instanceof Undefined u) throw u.error();
        if (callee instanceof JinjaCallable c) return c.call(this, args, kwargs);
        throw TemplateException.type("'" + Py.typeName(callee) + "' object is not callable");
    }

    // ---------------------------------------------------------------- globals

    private static Object range(List<Object> args, Map<String, Object> kwargs) {
        if (!kwargs.isEmpty()) throw TemplateException.type("range() takes no keyword arguments");
        if (args.isEmpty() || args.size() > 3) throw TemplateException.type("range expected 1 to 3 arguments");
        long start = 0;
        long stop;
        long step = 1;
        if (args.size() == 1) {
            stop = integer(args.get(0));
        } else {
            start = integer(args.get(0));
            stop = integer(args.get(1));
            if (args.size() == 3) step = integer(args.get(2));
        }
        if (step == 0) throw TemplateException.value("range() arg 3 must not be zero");
        long count = step > 0 ? (stop > start ? (stop - start - 1) / step + 1 : 0)
                : (start > stop ? (start - stop - 1) / -step + 1 : 0);
        if (count > MAX_RANGE) {
            throw new TemplateException(TemplateException.Kind.RUNTIME, 0,
                    "Range too big. The sandbox blocks ranges larger than MAX_RANGE (" + MAX_RANGE + ").");
        }
        List<Object> out = new ArrayList<>((int) count);
        for (long i = 0, v = start; i < count; i++, v += step) out.add(v);
        return out;
    }

    private static long integer(Object v) {
        if (!Py.isIntLike(v)) {
            throw TemplateException.type("'" + Py.typeName(v) + "' object cannot be interpreted as an integer");
        }
        return Py.toLong(v);
    }

    private static Object dict(List<Object> args, Map<String, Object> kwargs) {
        Map<Object, Object> d = new LinkedHashMap<>();
        for (Object a : args) {
            if (!(a instanceof Map<?, ?> m)) throw TemplateException.type("dict() positional argument must be a mapping");
            d.putAll(m);
        }
        d.putAll(kwargs);
        return d;
    }

    private static Object namespace(List<Object> args, Map<String, Object> kwargs) {
        Namespace ns = new Namespace();
        for (Object a : args) {
            if (!(a instanceof Map<?, ?> m)) throw TemplateException.type("namespace() positional argument must be a mapping");
            m.forEach((k, v) -> ns.attributes.put(Py.str(k), v));
        }
        ns.attributes.putAll(kwargs);
        return ns;
    }

    /** Python's strftime for the directives chat templates use (dates in system prompts). */
    static String strftime(String format, LocalDateTime t) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            switch (d) {
                case 'Y' -> out.append(t.getYear());
                case 'y' -> out.append(String.format("%02d", t.getYear() % 100));
                case 'm' -> out.append(String.format("%02d", t.getMonthValue()));
                case 'd' -> out.append(String.format("%02d", t.getDayOfMonth()));
                case 'e' -> out.append(String.format("%2d", t.getDayOfMonth()));
                case 'H' -> out.append(String.format("%02d", t.getHour()));
                case 'I' -> out.append(String.format("%02d", (t.getHour() + 11) % 12 + 1));
                case 'M' -> out.append(String.format("%02d", t.getMinute()));
                case 'S' -> out.append(String.format("%02d", t.getSecond()));
                case 'p' -> out.append(t.getHour() < 12 ? "AM" : "PM");
                case 'j' -> out.append(String.format("%03d", t.getDayOfYear()));
                case 'B' -> out.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'b', 'h' -> out.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'w' -> out.append(t.getDayOfWeek().getValue() % 7);
                case 'u' -> out.append(t.getDayOfWeek().getValue());
                case 'F' -> out.append(String.format("%d-%02d-%02d", t.getYear(), t.getMonthValue(), t.getDayOfMonth()));
                case 'T' -> out.append(String.format("%02d:%02d:%02d", t.getHour(), t.getMinute(), t.getSecond()));
                case '%' -> out.append('%');
                default -> out.append('%').append(d);
            }
        }
        return out.toString();
    }
}
