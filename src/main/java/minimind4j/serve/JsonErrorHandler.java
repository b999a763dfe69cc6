package minimind4j.serve;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;

/**
 * Errors Jetty answers itself (a malformed request line, a header too large, a URI too long, ...): OpenAI's JSON
 * error body instead of Jetty's HTML page.
 */
final class JsonErrorHandler extends ErrorHandler {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        Object s = request.getAttribute(ERROR_STATUS);
        int status = s instanceof Integer i ? i : response.getStatus() >= 400 ? response.getStatus() : 500;
        Object m = request.getAttribute(ERROR_MESSAGE);
        String message = m instanceof String text && !text.isEmpty() ? text : HttpStatus.getMessage(status);
        byte[] bytes = OpenAiWire.bytes(OpenAiWire.errorBody(status, message));
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
        return true;
    }
}
