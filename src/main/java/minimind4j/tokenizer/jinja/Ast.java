package minimind4j.tokenizer.jinja;

import java.util.List;

/** The parsed template: statements ({@link Stmt}) and expressions ({@link Expr}), each remembering its line. */
final class Ast {
    private Ast() {}

    interface Stmt {
        int line();
    }

    interface Expr {
        int line();
    }

    // ---- statements

    record Text(String text, int line) implements Stmt {}

    record Output(Expr expr, int line) implements Stmt {}

    record IfBranch(Expr test, List<Stmt> body) {}

    record If(List<IfBranch> branches, List<Stmt> orElse, int line) implements Stmt {}

    record For(Target target, Expr iterable, Expr filter, List<Stmt> body, List<Stmt> orElse, int line)
            implements Stmt {}

    record Set(Target target, Expr value, int line) implements Stmt {}

    /** {@code {% set x %}...{% endset %}}, optionally piped through filters. */
    record SetBlock(Target target, List<FilterCall> filters, List<Stmt> body, int line) implements Stmt {}

    record Param(String name, Expr defaultValue) {}

    record Macro(String name, List<Param> params, List<Stmt> body, int line) implements Stmt {}

    /** {@code {% call(params) macro(args) %}body{% endcall %}}: the body becomes {@code caller}. */
    record CallBlock(Call call, List<Param> callerParams, List<Stmt> body, int line) implements Stmt {}

    record FilterBlock(List<FilterCall> filters, List<Stmt> body, int line) implements Stmt {}

    record With(List<Target> targets, List<Expr> values, List<Stmt> body, int line) implements Stmt {}

    /** A block that renders its body in place: transformers' {@code {% generation %}}. */
    record Block(List<Stmt> body, int line) implements Stmt {}

    record Break(int line) implements Stmt {}

    record Continue(int line) implements Stmt {}

    // ---- assignment targets

    interface Target {}

    record NameTarget(String name) implements Target {}

    record TupleTarget(List<Target> items) implements Target {}

    /** {@code ns.attr} in {@code {% set ns.attr = ... %}}. */
    record AttrTarget(String name, String attr) implements Target {}

    // ---- expressions

    record Const(Object value, int line) implements Expr {}

    record Name(String name, int line) implements Expr {}

    record ListLit(List<Expr> items, int line) implements Expr {}

    record TupleLit(List<Expr> items, int line) implements Expr {}

    record DictLit(List<Expr> keys, List<Expr> values, int line) implements Expr {}

    record GetAttr(Expr target, String attr, int line) implements Expr {}

    record GetItem(Expr target, Expr key, int line) implements Expr {}

    record Slice(Expr start, Expr stop, Expr step, int line) implements Expr {}

    record Kwarg(String name, Expr value) {}

    record Call(Expr callee, List<Expr> args, List<Kwarg> kwargs, int line) implements Expr {}

    record FilterCall(String name, List<Expr> args, List<Kwarg> kwargs, int line) {}

    record Filter(Expr target, FilterCall filter, int line) implements Expr {}

    record Test(Expr target, String name, List<Expr> args, List<Kwarg> kwargs, int line) implements Expr {}

    /** Unary {@code -}, {@code +} or {@code not}. */
    record Unary(String op, Expr operand, int line) implements Expr {}

    /** Arithmetic: {@code + - * / // % **}. */
    record Binary(String op, Expr left, Expr right, int line) implements Expr {}

    /** {@code a ~ b ~ c}: string concatenation of str() of each. */
    record Concat(List<Expr> parts, int line) implements Expr {}

    record CompareOp(String op, Expr right) {}

    /** Chained comparison {@code a < b <= c}, including {@code in} and {@code not in}. */
    record Compare(Expr first, List<CompareOp> ops, int line) implements Expr {}

    record And(Expr left, Expr right, int line) implements Expr {}

    record Or(Expr left, Expr right, int line) implements Expr {}

    /** {@code then if test else orElse}; a missing else gives undefined. */
    record CondExpr(Expr test, Expr then, Expr orElse, int line) implements Expr {}
}
