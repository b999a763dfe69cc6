package minimind4j.tokenizer.jinja;

/** One lexical token; {@code value} holds the decoded string or number for literals. */
record Token(Type type, String text, Object value, int line) {

    enum Type {
        DATA, BLOCK_BEGIN, BLOCK_END, VARIABLE_BEGIN, VARIABLE_END,
        NAME, STRING, INTEGER, FLOAT, OPERATOR, EOF
    }

    boolean is(Type t) {
        return type == t;
    }

    boolean isOperator(String op) {
        return type == Type.OPERATOR && text.equals(op);
    }

    boolean isName(String name) {
        return type == Type.NAME && text.equals(name);
    }

    String describe() {
        return switch (type) {
            case EOF -> "end of template";
            case BLOCK_END -> "end of statement block";
            case VARIABLE_END -> "end of print statement";
            case BLOCK_BEGIN -> "begin of statement block";
            case VARIABLE_BEGIN -> "begin of print statement";
            default -> "'" + text + "'";
        };
    }
}
