package minimind4j.serve;

import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What Jetty's idle timeout does not cover. The header timeout: a connection must present a complete request head
 * within {@code headerTimeoutMillis} of opening (or of its previous response ending), however slowly it trickles
 * bytes; otherwise it is closed. A slow client costs a socket, never a thread (Jetty reads asynchronously), and the
 * timeout gives the socket back.
 */
final class ConnectionGuard implements Connection.Listener, AutoCloseable {
    private final long headerTimeoutNanos;
    /** Open connections and since when each has been waiting for a request head (0 while a request runs). */
    private final Map<Connection, Long> waiting = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "minimind-http-guard");
        t.setDaemon(true);
        return t;
    });

    ConnectionGuard(long headerTimeoutMillis) {
        this.headerTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(headerTimeoutMillis);
        long every = Math.max(50, Math.min(1000, headerTimeoutMillis / 4));
        sweeper.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public void onOpened(Connection c) { waiting.put(c, System.nanoTime()); }

    @Override
    public void onClosed(Connection c) { waiting.remove(c); }

    /** A request head arrived on {@code c}: it is busy until {@link #requestDone}. */
    void requestStarted(Connection c) { waiting.computeIfPresent(c, (k, v) -> 0L); }

    void requestDone(Connection c) { waiting.computeIfPresent(c, (k, v) -> System.nanoTime()); }

    int openConnections() { return waiting.size(); }

    private void sweep() {
        long now = System.nanoTime();
        for (Map.Entry<Connection, Long> e : waiting.entrySet()) {
            long since = e.getValue();
            if (since != 0 && now - since > headerTimeoutNanos) {
                waiting.remove(e.getKey());
                e.getKey().getEndPoint().close(new TimeoutException("no complete request head in time"));
            }
        }
    }

    @Override
    public void close() { sweeper.shutdownNow(); }

    /**
     * Notices a client that goes away while its request waits or generates without writing: the connection reads
     * nothing while a request is handled, so this asks the endpoint to report the next readable event; end of stream
     * means the client is gone. A pipelined next request (bytes, not end of stream) ends the watch and the response
     * closes the connection, since those bytes cannot be given back to the parser.
     */
    static final class DisconnectWatch implements Callback {
        private final EndPoint endPoint;
        private final Runnable onGone;
        private final AtomicBoolean done = new AtomicBoolean();
        private volatile boolean registered;
        private volatile boolean readAhead;

        private DisconnectWatch(EndPoint endPoint, Runnable onGone) {
            this.endPoint = endPoint;
            this.onGone = onGone;
        }

        static DisconnectWatch start(EndPoint endPoint, Runnable onGone) {
            DisconnectWatch w = new DisconnectWatch(endPoint, onGone);
            w.register();
            return w;
        }

        private synchronized void register() {
            if (done.get()) return;
            registered = endPoint.tryFillInterested(this);
        }

        @Override
        public void succeeded() {
            synchronized (this) {
                registered = false;
            }
            if (done.get()) return;
            ByteBuffer one = BufferUtil.allocate(1);
            int read;
            try {
                read = endPoint.fill(one);
            } catch (IOException e) {
                read = -1;
            }
            if (read < 0) gone();
            else if (read > 0) {
                readAhead = true;
                done.set(true);
            } else register();
        }

        @Override
        public void failed(Throwable x) {
            synchronized (this) {
                registered = false;
            }
            if (done.get()) return;
            if (x instanceof TimeoutException && endPoint.isOpen()) register(); // idle, not gone
            else gone();
        }

        private void gone() {
            if (done.compareAndSet(false, true)) onGone.run();
        }

        /** Stops watching (before the response is written, so the connection can read its next request). */
        void stop() {
            synchronized (this) {
                if (!done.compareAndSet(false, true)) return;
                if (registered && endPoint instanceof org.eclipse.jetty.io.AbstractEndPoint a) {
                    registered = false;
                    a.getFillInterest().onFail(new java.util.concurrent.CancellationException("response ready"));
                }
            }
        }

        /** Whether bytes of a next request were read (the response must then close the connection). */
        boolean readAhead() { return readAhead; }
    }
}
