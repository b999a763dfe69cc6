package minimind4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * One request and its response: the Jetty objects, the CORS origin the response names when the request's origin is
 * allowed (null otherwise), and the ways a whole response is sent (a streamed one is {@link SseWriter}).
 */
record Exchange(Request request, Response response, Callback callback, String corsOrigin) {

    /** The CORS headers, on every response to an allowed origin (a browser drops a response without them). */
    void corsHeaders() {
        if (corsOrigin == null) return;
        HttpFields.Mutable h = response.getHeaders();
        h.put(HttpHeader.ACCESS_CONTROL_ALLOW_ORIGIN, corsOrigin);
        h.put(HttpHeader.VARY, "Origin");
    }

    void sendJson(int status, JsonNode json) {
        send(status, "application/json", OpenAiWire.bytes(json));
    }

    /** The whole response; {@code contentType} null for none (a 204). */
    void send(int status, String contentType, byte[] bytes) {
        if (response.isCommitted()) {
            callback.failed(new IOException("response already started"));
            return;
        }
        response.setStatus(status);
        if (contentType != null) response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        corsHeaders();
        // HEAD: Jetty sends the headers (Content-Length included) and drops the body
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    /** OpenAI's error body, with the headers the error carries (Allow, Retry-After, ...). */
    void sendError(ApiError e) {
        for (Map.Entry<String, String> h : e.headers().entrySet()) response.getHeaders().put(h.getKey(), h.getValue());
        sendJson(e.status(), e.body());
    }

    /** A bug or a native failure: logged here, one line for the client, and the server keeps serving. */
    void failed(Throwable e) {
        System.err.println("minimind serve: " + request.getMethod() + " " + request.getHttpURI().getPath()
                + " failed: " + e);
        sendError(ApiError.server("The server had an error processing the request."));
    }
}
