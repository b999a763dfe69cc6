package minimind4j.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import minimind4j.tokenizer.jinja.Ast.*;
import minimind4j.tokenizer.jinja.Token.Type;

/**
 * Recursive-descent parser following Jinja2's grammar and operator precedence:
 * conditional expression &lt; or &lt; and &lt; not &lt; comparison (incl. {@code in}) &lt; {@code + -} &lt;
 * {@code ~} &lt; {@code * / // %} &lt; {@code **} &lt; unary &lt; postfix ({@code .attr [item] (call)}),
 * then filters {@code |f} and tests {@code is t}.
 */
final class Parser {

    private static final Set<String> COMPARE_OPS = Set.of("==", "!=", "<", "<=", ">", ">=");

    private final List<Token> tokens;
    private int index;
    private int loopDepth;
    /**
     * Inside an {@code if} (test and bodies) or a conditional expression, Jinja compiles an unknown filter or test
     * to a runtime error, so templates can probe for optional filters; elsewhere it is a compile error. Loop, macro
     * and other block bodies start a new frame that is not soft again.
     */
    private boolean soft;
    /** Unknown filter/test errors, reported after the whole template parsed, as Jinja reports them when compiling. */
    private final List<TemplateException> unknownNames = new ArrayList<>();

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Stmt> parse(String source) {
        Parser parser = new Parser(Lexer.tokenize(source));
        List<Stmt> body = parser.subparse(Set.of());
        parser.expect(Type.EOF);
        if (!parser.unknownNames.isEmpty()) throw parser.unknownNames.get(0);
        return body;
    }

    // ---------------------------------------------------------------- token stream

    private Token current() {
        return tokens.get(index);
    }

    private Token look() {
        return tokens.get(Math.min(index + 1, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(index);
        if (index < tokens.size() - 1) index++;
        return t;
    }

    private Token expect(Type type) {
        Token t = current();
        if (!t.is(type)) throw fail(t, "expected " + describe(type) + ", got " + t.describe());
        return next();
    }

    private Token expectOperator(String op) {
        Token t = current();
        if (!t.isOperator(op)) throw fail(t, "expected '" + op + "', got " + t.describe());
        return next();
    }

    private Token expectName(String name) {
        Token t = current();
        if (!t.isName(name)) throw fail(t, "expected '" + name + "', got " + t.describe());
        return next();
    }

    private boolean skipOperator(String op) {
        if (current().isOperator(op)) {
            next();
            return true;
        }
        return false;
    }

    private boolean skipName(String name) {
        if (current().isName(name)) {
            next();
            return true;
        }
        return false;
    }

    private static String describe(Type type) {
        return switch (type) {
            case NAME -> "name";
            case BLOCK_END -> "end of statement block";
            case VARIABLE_END -> "end of print statement";
            case EOF -> "end of template";
            default -> type.name().toLowerCase();
        };
    }

    private static TemplateException fail(Token at, String message) {
        return new TemplateException(TemplateException.Kind.SYNTAX, at.line(), message);
    }

    // ---------------------------------------------------------------- statements

    /** Statements until EOF or a block whose first name is one of {@code endNames} (left as current token). */
    private List<Stmt> subparse(Set<String> endNames) {
        List<Stmt> body = new ArrayList<>();
        while (true) {
            Token t = current();
            switch (t.type()) {
                case DATA -> {
                    next();
                    body.add(new Text(t.text(), t.line()));
                }
                case VARIABLE_BEGIN -> {
                    next();
                    body.add(new Output(parseTuple(false, true, Set.of(), false), t.line()));
                    expect(Type.VARIABLE_END);
                }
                case BLOCK_BEGIN -> {
                    next();
                    Token name = current();
                    if (name.is(Type.NAME) && endNames.contains(name.text())) return body;
                    body.add(parseStatement());
                    expect(Type.BLOCK_END);
                }
                case EOF -> {
                    if (!endNames.isEmpty()) {
                        throw fail(t, "unexpected end of template, Jinja was looking for "
                                + String.join(" or ", endNames.stream().sorted().map(n -> "'" + n + "'").toList()));
                    }
                    return body;
                }
                default -> throw fail(t, "unexpected " + t.describe());
            }
        }
    }

    /** Expects the end of the opening tag, then the body up to one of {@code endNames}. */
    private List<Stmt> parseStatements(Set<String> endNames, boolean dropNeedle) {
        skipOperator(":");
        expect(Type.BLOCK_END);
        List<Stmt> body = subparse(endNames);
        if (dropNeedle) next();
        return body;
    }

    private Stmt parseStatement() {
        Token t = current();
        if (!t.is(Type.NAME)) throw fail(t, "tag name expected");
        return switch (t.text()) {
            case "if" -> parseIf();
            case "for" -> parseFor();
            case "set" -> parseSet();
            case "macro" -> parseMacro();
            case "call" -> parseCallBlock();
            case "filter" -> parseFilterBlock();
            case "with" -> parseWith();
            case "print" -> {
                next();
                yield new Output(parseTuple(false, true, Set.of(), false), t.line());
            }
            case "generation" -> {
                next();
                yield new Block(parseFrameBody(Set.of("endgeneration"), true), t.line());
            }
            case "break", "continue" -> {
                next();
                if (loopDepth == 0) throw fail(t, "'" + t.text() + "' outside of a loop");
                yield t.text().equals("break") ? new Break(t.line()) : new Continue(t.line());
            }
            case "block", "extends", "include", "import", "from", "autoescape", "do" ->
                    throw fail(t, "the '" + t.text() + "' tag is not supported by this chat-template interpreter");
            default -> throw fail(t, "Encountered unknown tag '" + t.text() + "'");
        };
    }

    private Stmt parseIf() {
        Token start = next();
        List<IfBranch> branches = new ArrayList<>();
        List<Stmt> orElse = List.of();
        boolean outerSoft = soft;
        soft = true;
        try {
            while (true) {
                Expr test = parseTuple(false, false, Set.of(), false);
                List<Stmt> body = parseStatements(Set.of("elif", "else", "endif"), false);
                branches.add(new IfBranch(test, body));
                Token needle = next();
                if (needle.text().equals("elif")) continue;
                if (needle.text().equals("else")) orElse = parseStatements(Set.of("endif"), true);
                break;
            }
        } finally {
            soft = outerSoft;
        }
        return new If(branches, orElse, start.line());
    }

    /** Parses a block body in a new (not soft) frame. */
    private List<Stmt> parseFrameBody(Set<String> endNames, boolean dropNeedle) {
        boolean outerSoft = soft;
        soft = false;
        try {
            return parseStatements(endNames, dropNeedle);
        } finally {
            soft = outerSoft;
        }
    }

    private Stmt parseFor() {
        Token start = next();
        Target target = parseAssignTarget(false, Set.of("in"));
        expectName("in");
        Expr iterable = parseTuple(false, false, Set.of("recursive"), false);
        Expr filter = null;
        if (skipName("if")) filter = parseExpression(true);
        if (current().isName("recursive")) throw fail(current(), "recursive loops are not supported");
        loopDepth++;
        List<Stmt> body;
        try {
            body = parseFrameBody(Set.of("endfor", "else"), false);
        } finally {
            loopDepth--;
        }
        List<Stmt> orElse = List.of();
        if (next().text().equals("else")) orElse = parseStatements(Set.of("endfor"), true);
        return new For(target, iterable, filter, body, orElse, start.line());
    }

    private Stmt parseSet() {
        Token start = next();
        Target target = parseAssignTarget(true, Set.of());
        if (skipOperator("=")) {
            return new Ast.Set(target, parseTuple(false, true, Set.of(), false), start.line());
        }
        List<FilterCall> filters = parseFilterChain(false);
        return new SetBlock(target, filters, parseFrameBody(Set.of("endset"), true), start.line());
    }

    private Stmt parseMacro() {
        Token start = next();
        String name = expect(Type.NAME).text();
        List<Param> params = parseSignature();
        int savedLoopDepth = loopDepth;
        loopDepth = 0;
        try {
            return new Macro(name, params, parseFrameBody(Set.of("endmacro"), true), start.line());
        } finally {
            loopDepth = savedLoopDepth;
        }
    }

    private Stmt parseCallBlock() {
        Token start = next();
        List<Param> params = current().isOperator("(") ? parseSignature() : List.of();
        Expr call = parseExpression(true);
        if (!(call instanceof Call c)) throw fail(start, "expected call");
        int savedLoopDepth = loopDepth;
        loopDepth = 0;
        try {
            return new CallBlock(c, params, parseFrameBody(Set.of("endcall"), true), start.line());
        } finally {
            loopDepth = savedLoopDepth;
        }
    }

    private Stmt parseFilterBlock() {
        Token start = next();
        List<FilterCall> filters = parseFilterChain(true);
        return new FilterBlock(filters, parseFrameBody(Set.of("endfilter"), true), start.line());
    }

    private Stmt parseWith() {
        Token start = next();
        List<Target> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!current().is(Type.BLOCK_END)) {
            if (!targets.isEmpty()) expectOperator(",");
            targets.add(parseAssignTarget(false, Set.of()));
            expectOperator("=");
            values.add(parseExpression(true));
        }
        return new With(targets, values, parseFrameBody(Set.of("endwith"), true), start.line());
    }

    private List<Param> parseSignature() {
        List<Param> params = new ArrayList<>();
        expectOperator("(");
        while (!current().isOperator(")")) {
            if (!params.isEmpty()) expectOperator(",");
            if (current().isOperator(")")) break;
            String name = expect(Type.NAME).text();
            Expr defaultValue = skipOperator("=") ? parseExpression(true) : null;
            if (defaultValue == null && !params.isEmpty() && params.get(params.size() - 1).defaultValue() != null) {
                throw fail(current(), "non-default argument follows default argument");
            }
            params.add(new Param(name, defaultValue));
        }
        expectOperator(")");
        return params;
    }

    private Target parseAssignTarget(boolean withNamespace, Set<String> extraEndNames) {
        if (withNamespace && current().is(Type.NAME) && look().isOperator(".")) {
            String name = next().text();
            next();
            return new AttrTarget(name, expect(Type.NAME).text());
        }
        List<Target> items = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!items.isEmpty()) expectOperator(",");
            if (isTupleEnd(extraEndNames) || current().isOperator("=")) break;
            items.add(parseTargetPrimary());
            if (current().isOperator(",")) isTuple = true;
            else break;
        }
        if (items.isEmpty()) throw fail(current(), "expected an assignment target, got " + current().describe());
        return isTuple ? new TupleTarget(items) : items.get(0);
    }

    private Target parseTargetPrimary() {
        Token t = current();
        if (t.is(Type.NAME)) {
            if (Set.of("true", "false", "none", "True", "False", "None").contains(t.text())) {
                throw fail(t, "can't assign to constant '" + t.text() + "'");
            }
            next();
            return new NameTarget(t.text());
        }
        if (t.isOperator("(")) {
            next();
            Target inner = parseAssignTarget(false, Set.of());
            expectOperator(")");
            return inner;
        }
        throw fail(t, "can't assign to " + t.describe());
    }

    private boolean isTupleEnd(Set<String> extraEndNames) {
        Token t = current();
        if (t.is(Type.VARIABLE_END) || t.is(Type.BLOCK_END) || t.is(Type.EOF) || t.isOperator(")")) return true;
        return t.is(Type.NAME) && extraEndNames.contains(t.text());
    }

    // ---------------------------------------------------------------- expressions

    private Expr parseTuple(boolean simplified, boolean withCondExpr, Set<String> extraEndNames,
                            boolean explicitParentheses) {
        int line = current().line();
        List<Expr> items = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!items.isEmpty()) expectOperator(",");
            if (isTupleEnd(extraEndNames)) break;
            items.add(simplified ? parsePrimary() : parseExpression(withCondExpr));
            if (current().isOperator(",")) isTuple = true;
            else break;
        }
        if (!isTuple) {
            if (!items.isEmpty()) return items.get(0);
            if (!explicitParentheses) throw fail(current(), "expected an expression, got " + current().describe());
        }
        return new TupleLit(items, line);
    }

    private Expr parseExpression(boolean withCondExpr) {
        return withCondExpr ? parseCondExpr() : parseOr();
    }

    private Expr parseCondExpr() {
        int line = current().line();
        int unknownBefore = unknownNames.size();
        Expr expr = parseOr();
        if (!current().isName("if")) return expr;
        // all parts of a conditional expression are soft: unknown names in the value just parsed are forgiven
        unknownNames.subList(unknownBefore, unknownNames.size()).clear();
        boolean outerSoft = soft;
        soft = true;
        try {
            while (skipName("if")) {
                Expr test = parseOr();
                Expr orElse = skipName("else") ? parseCondExpr() : null;
                expr = new CondExpr(test, expr, orElse, line);
                line = current().line();
            }
        } finally {
            soft = outerSoft;
        }
        return expr;
    }

    private Expr parseOr() {
        int line = current().line();
        Expr left = parseAnd();
        while (skipName("or")) {
            left = new Or(left, parseAnd(), line);
            line = current().line();
        }
        return left;
    }

    private Expr parseAnd() {
        int line = current().line();
        Expr left = parseNot();
        while (skipName("and")) {
            left = new And(left, parseNot(), line);
            line = current().line();
        }
        return left;
    }

    private Expr parseNot() {
        if (current().isName("not")) {
            Token t = next();
            return new Unary("not", parseNot(), t.line());
        }
        return parseCompare();
    }

    private Expr parseCompare() {
        int line = current().line();
        Expr first = parseMath1();
        List<CompareOp> ops = new ArrayList<>();
        while (true) {
            Token t = current();
            if (t.is(Type.OPERATOR) && COMPARE_OPS.contains(t.text())) {
                next();
                ops.add(new CompareOp(t.text(), parseMath1()));
            } else if (t.isName("in")) {
                next();
                ops.add(new CompareOp("in", parseMath1()));
            } else if (t.isName("not") && look().isName("in")) {
                next();
                next();
                ops.add(new CompareOp("not in", parseMath1()));
            } else {
                break;
            }
        }
        return ops.isEmpty() ? first : new Compare(first, ops, line);
    }

    private Expr parseMath1() {
        int line = current().line();
        Expr left = parseConcat();
        while (current().isOperator("+") || current().isOperator("-")) {
            String op = next().text();
            left = new Binary(op, left, parseConcat(), line);
            line = current().line();
        }
        return left;
    }

    private Expr parseConcat() {
        int line = current().line();
        List<Expr> parts = new ArrayList<>();
        parts.add(parseMath2());
        while (skipOperator("~")) parts.add(parseMath2());
        return parts.size() == 1 ? parts.get(0) : new Concat(parts, line);
    }

    private Expr parseMath2() {
        int line = current().line();
        Expr left = parsePow();
        while (current().isOperator("*") || current().isOperator("/") || current().isOperator("//")
                || current().isOperator("%")) {
            String op = next().text();
            left = new Binary(op, left, parsePow(), line);
            line = current().line();
        }
        return left;
    }

    private Expr parsePow() {
        int line = current().line();
        Expr left = parseUnary(true);
        while (skipOperator("**")) {
            left = new Binary("**", left, parseUnary(true), line);
            line = current().line();
        }
        return left;
    }

    private Expr parseUnary(boolean withFilter) {
        Token t = current();
        Expr node;
        if (t.isOperator("-") || t.isOperator("+")) {
            next();
            node = new Unary(t.text(), parseUnary(false), t.line());
        } else {
            node = parsePrimary();
        }
        node = parsePostfix(node);
        if (withFilter) node = parseFilterExpr(node);
        return node;
    }

    private Expr parsePrimary() {
        Token t = current();
        switch (t.type()) {
            case NAME -> {
                next();
                return switch (t.text()) {
                    case "true", "True" -> new Const(Boolean.TRUE, t.line());
                    case "false", "False" -> new Const(Boolean.FALSE, t.line());
                    case "none", "None" -> new Const(null, t.line());
                    default -> new Name(t.text(), t.line());
                };
            }
            case STRING -> {
                next();
                StringBuilder text = new StringBuilder((String) t.value());
                while (current().is(Type.STRING)) text.append((String) next().value()); // 'a' 'b' == 'ab'
                return new Const(text.toString(), t.line());
            }
            case INTEGER, FLOAT -> {
                next();
                return new Const(t.value(), t.line());
            }
            case OPERATOR -> {
                switch (t.text()) {
                    case "(" -> {
                        next();
                        Expr inner = parseTuple(false, true, Set.of(), true);
                        expectOperator(")");
                        return inner;
                    }
                    case "[" -> {
                        return parseList();
                    }
                    case "{" -> {
                        return parseDict();
                    }
                    default -> { }
                }
            }
            default -> { }
        }
        throw fail(t, "unexpected " + t.describe());
    }

    private Expr parseList() {
        Token start = expectOperator("[");
        List<Expr> items = new ArrayList<>();
        while (!current().isOperator("]")) {
            if (!items.isEmpty()) expectOperator(",");
            if (current().isOperator("]")) break;
            items.add(parseExpression(true));
        }
        expectOperator("]");
        return new ListLit(items, start.line());
    }

    private Expr parseDict() {
        Token start = expectOperator("{");
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!current().isOperator("}")) {
            if (!keys.isEmpty()) expectOperator(",");
            if (current().isOperator("}")) break;
            keys.add(parseExpression(true));
            expectOperator(":");
            values.add(parseExpression(true));
        }
        expectOperator("}");
        return new DictLit(keys, values, start.line());
    }

    private Expr parsePostfix(Expr node) {
        while (true) {
            Token t = current();
            if (t.isOperator(".") || t.isOperator("[")) node = parseSubscript(node);
            else if (t.isOperator("(")) node = parseCall(node);
            else return node;
        }
    }

    private Expr parseFilterExpr(Expr node) {
        while (true) {
            Token t = current();
            if (t.isOperator("|")) {
                for (FilterCall f : parseFilterChain(false)) node = new Filter(node, f, f.line());
            } else if (t.isName("is")) {
                node = parseTest(node);
            } else if (t.isOperator("(")) {
                node = parseCall(node);
            } else {
                return node;
            }
        }
    }

    private Expr parseSubscript(Expr node) {
        Token t = next();
        if (t.isOperator(".")) {
            Token attr = next();
            if (attr.is(Type.NAME)) return new GetAttr(node, attr.text(), t.line());
            if (!attr.is(Type.INTEGER)) throw fail(attr, "expected name or number");
            return new GetItem(node, new Const(attr.value(), attr.line()), t.line());
        }
        List<Expr> args = new ArrayList<>();
        while (!current().isOperator("]")) {
            if (!args.isEmpty()) expectOperator(",");
            args.add(parseSubscribed());
        }
        expectOperator("]");
        Expr key = args.size() == 1 ? args.get(0) : new TupleLit(args, t.line());
        return new GetItem(node, key, t.line());
    }

    private Expr parseSubscribed() {
        int line = current().line();
        Expr start = null;
        if (!skipOperator(":")) {
            Expr node = parseExpression(true);
            if (!skipOperator(":")) return node;
            start = node;
        }
        Expr stop = null;
        if (!current().isOperator(":") && !current().isOperator("]") && !current().isOperator(",")) {
            stop = parseExpression(true);
        }
        Expr step = null;
        if (skipOperator(":")) {
            if (!current().isOperator("]") && !current().isOperator(",")) step = parseExpression(true);
        }
        return new Slice(start, stop, step, line);
    }

    private record CallArgs(List<Expr> args, List<Kwarg> kwargs) {}

    private CallArgs parseCallArgs() {
        Token start = expectOperator("(");
        List<Expr> args = new ArrayList<>();
        List<Kwarg> kwargs = new ArrayList<>();
        boolean requireComma = false;
        while (!current().isOperator(")")) {
            if (requireComma) {
                expectOperator(",");
                if (current().isOperator(")")) break;
            }
            if (current().isOperator("*") || current().isOperator("**")) {
                throw fail(current(), "*args and **kwargs in calls are not supported");
            }
            if (current().is(Type.NAME) && look().isOperator("=")) {
                String key = next().text();
                next();
                kwargs.add(new Kwarg(key, parseExpression(true)));
            } else {
                if (!kwargs.isEmpty()) throw fail(start, "invalid syntax for function call expression");
                args.add(parseExpression(true));
            }
            requireComma = true;
        }
        expectOperator(")");
        return new CallArgs(args, kwargs);
    }

    private Expr parseCall(Expr callee) {
        int line = current().line();
        CallArgs a = parseCallArgs();
        return new Call(callee, a.args(), a.kwargs(), line);
    }

    /** {@code |name(args)|name2 ...}; with {@code startInline} the first filter has no leading pipe. */
    private List<FilterCall> parseFilterChain(boolean startInline) {
        List<FilterCall> filters = new ArrayList<>();
        while (current().isOperator("|") || startInline) {
            if (!startInline) next();
            startInline = false;
            Token name = expect(Type.NAME);
            String filterName = name.text();
            while (skipOperator(".")) filterName += "." + expect(Type.NAME).text();
            if (!soft && !Filters.exists(filterName)) unknownNames.add(fail(name, "No filter named '" + filterName + "'."));
            CallArgs a = current().isOperator("(") ? parseCallArgs() : new CallArgs(List.of(), List.of());
            filters.add(new FilterCall(filterName, a.args(), a.kwargs(), name.line()));
        }
        return filters;
    }

    private Expr parseTest(Expr node) {
        Token is = next();
        boolean negated = skipName("not");
        Token name = expect(Type.NAME);
        String testName = name.text();
        while (skipOperator(".")) testName += "." + expect(Type.NAME).text();
        if (!soft && !Tests.exists(testName)) unknownNames.add(fail(name, "No test named '" + testName + "'."));
        List<Expr> args = List.of();
        List<Kwarg> kwargs = List.of();
        Token t = current();
        if (t.isOperator("(")) {
            CallArgs a = parseCallArgs();
            args = a.args();
            kwargs = a.kwargs();
        } else if ((t.is(Type.NAME) || t.is(Type.STRING) || t.is(Type.INTEGER) || t.is(Type.FLOAT)
                || t.isOperator("[") || t.isOperator("{"))
                && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
            if (t.isName("is")) throw fail(t, "You cannot chain multiple tests with is");
            args = List.of(parsePostfix(parsePrimary()));
        }
        Expr test = new Test(node, testName, args, kwargs, is.line());
        return negated ? new Unary("not", test, is.line()) : test;
    }
}
