package minimind4j.serve;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A request the server refuses, answered with OpenAI's error body
 * {@code {"error": {"message", "type", "param", "code"}}} so that OpenAI clients raise their usual exceptions.
 */
final class ApiError extends Exception {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final Map<String, String> headers = new LinkedHashMap<>();

    ApiError(int status, String type, String message, String param, String code) {
        super(message, null, false, false); // a client error: no stack trace to collect, none to leak
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: the request is wrong; {@code param} names the offending field (JSON-path style), {@code code} the rule. */
    static ApiError invalid(String message, String param, String code) {
        return new ApiError(400, "invalid_request_error", message, param, code);
    }

    static ApiError invalidType(String param, String expected, String got) {
        return invalid("Invalid type for '" + param + "': expected " + expected + ", but got " + got + " instead.",
                param, "invalid_type");
    }

    static ApiError missing(String param) {
        return invalid("Missing required parameter: '" + param + "'.", param, "missing_required_parameter");
    }

    static ApiError server(String message) {
        return new ApiError(500, "server_error", message, null, null);
    }

    int status() { return status; }

    /** A response header this error carries (Allow, Retry-After, WWW-Authenticate, Connection: close). */
    ApiError withHeader(String name, String value) {
        headers.put(name, value);
        return this;
    }

    Map<String, String> headers() { return headers; }

    ObjectNode body() {
        ObjectNode error = JsonNodeFactory.instance.objectNode();
        error.put("message", getMessage());
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.set("error", error);
        return root;
    }
}
