package minimind4j.serve;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Set;

/**
 * What a request must pass before it is routed: the Host check against DNS rebinding, the CORS origin rules and
 * their preflight, the API key, the method and the Content-Type. Each check throws the {@link ApiError} the client
 * gets.
 */
final class RequestGuards {
    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "[::1]", "::1");
    private static final String METHODS = "GET, HEAD, POST, OPTIONS";

    private final ChatServer.Access access;
    private final boolean loopback;

    /** @param loopback whether the server is bound to a loopback address (then only loopback Host names are answered) */
    RequestGuards(ChatServer.Access access, boolean loopback) {
        this.access = access;
        this.loopback = loopback;
    }

    /** The request's Origin when --cors_origin allows it (its response then carries CORS headers), else null. */
    String corsOrigin(Request req) {
        String origin = req.getHeaders().get(HttpHeader.ORIGIN);
        return origin != null && access.allowsOrigin(origin) ? origin : null;
    }

    /**
     * DNS rebinding: a page on evil.example whose name later resolves to 127.0.0.1 still sends Host: evil.example.
     * A server bound to loopback answers only requests addressed to a loopback name.
     */
    void checkHost(Request req) throws ApiError {
        if (!loopback) return;
        String host = req.getHeaders().get(HttpHeader.HOST);
        String name = host == null ? "" : hostName(host.trim().toLowerCase(Locale.ROOT));
        if (!(LOOPBACK_NAMES.contains(name) || name.startsWith("127.") && name.matches("127(\\.\\d{1,3}){3}"))) {
            throw new ApiError(403, "invalid_request_error", "Host '" + host + "' is not allowed: this server listens on"
                    + " loopback and answers only localhost, 127.0.0.1 or [::1]; use --host to serve other names.",
                    null, "host_not_allowed");
        }
    }

    /** "name:port", "[v6]:port", "name" -> the name ("[v6]" keeps its brackets). */
    private static String hostName(String host) {
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            return end < 0 ? host : host.substring(0, end + 1);
        }
        int colon = host.lastIndexOf(':');
        return colon < 0 ? host : host.substring(0, colon);
    }

    /**
     * A request from a web page of another origin is refused unless --cors_origin allows it; the server's own page
     * (same origin) may always call.
     */
    void checkOrigin(Request req, String corsOrigin) throws ApiError {
        String origin = req.getHeaders().get(HttpHeader.ORIGIN);
        if (origin != null && corsOrigin == null && !sameOrigin(origin, req)) {
            throw new ApiError(403, "invalid_request_error", "Cross-origin requests from " + origin + " are not allowed;"
                    + " start the server with --cors_origin " + origin + " to allow them.", null, "origin_not_allowed");
        }
    }

    /** The page at / calling the API: its Origin is this very server, as the Host header names it. */
    private static boolean sameOrigin(String origin, Request req) {
        String host = req.getHeaders().get(HttpHeader.HOST);
        return host != null && origin.equalsIgnoreCase("http://" + host.trim());
    }

    /**
     * The headers of the 204 answering an OPTIONS request: a CORS preflight from an allowed origin gets the methods
     * and headers it may use; any other OPTIONS gets Allow.
     */
    static void preflightHeaders(Request req, String corsOrigin, HttpFields.Mutable h) {
        if (corsOrigin == null || req.getHeaders().get(HttpHeader.ACCESS_CONTROL_REQUEST_METHOD) == null) {
            h.put(HttpHeader.ALLOW, METHODS);
            return;
        }
        h.put(HttpHeader.ACCESS_CONTROL_ALLOW_METHODS, METHODS);
        String asked = req.getHeaders().get(HttpHeader.ACCESS_CONTROL_REQUEST_HEADERS);
        h.put(HttpHeader.ACCESS_CONTROL_ALLOW_HEADERS, asked != null ? asked : "Authorization, Content-Type");
        h.put(HttpHeader.ACCESS_CONTROL_MAX_AGE, "600");
    }

    /** With --api_key, {@code Authorization: Bearer <key>}, compared in constant time. */
    void checkApiKey(Request req) throws ApiError {
        if (access.apiKey() == null) return;
        String auth = req.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new ApiError(401, "invalid_request_error", "You didn't provide an API key. You need to provide your"
                    + " API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    null, "missing_api_key").withHeader("WWW-Authenticate", "Bearer");
        }
        byte[] given = auth.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, access.apiKey().getBytes(StandardCharsets.UTF_8))) {
            throw new ApiError(401, "invalid_request_error", "Incorrect API key provided. The key is the one given to"
                    + " this server with --api_key or MINIMIND_API_KEY.", null, "invalid_api_key")
                    .withHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        }
    }

    /** 405 with Allow unless the request's method is one of {@code methods}. */
    static void requireMethod(Request req, String... methods) throws ApiError {
        String m = req.getMethod();
        for (String allowed : methods) if (allowed.equals(m)) return;
        String allow = String.join(", ", methods);
        throw new ApiError(405, "invalid_request_error", "Method " + m + " is not allowed for "
                + req.getHttpURI().getPath() + "; use " + String.join(" or ", methods) + ".", null,
                "method_not_allowed").withHeader("Allow", allow);
    }

    /** A body must be declared JSON, if its type is declared at all. */
    static void requireJson(Request req) throws ApiError {
        String type = req.getHeaders().get(HttpHeader.CONTENT_TYPE);
        if (type == null) return;
        String mime = type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        // text/plain and form posts are what a web page may send cross-origin without asking: never JSON here
        if (!(mime.equals("application/json") || mime.endsWith("+json"))) {
            throw new ApiError(415, "invalid_request_error", "Unsupported Content-Type '" + type + "': send the"
                    + " request body as application/json.", null, "unsupported_media_type");
        }
    }
}
