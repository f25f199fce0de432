package dev.nodekit.conformance.cri;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

import dev.nodekit.conformance.cri.StreamProtocol.Frame;
import dev.nodekit.conformance.cri.StreamProtocol.ProtocolException;

/**
 * One WebSocket connection to a CRI streaming URL with subprotocol {@value StreamProtocol#V4}, read
 * as a queue of whole {@link Frame}s (java.net.http delivers messages in parts). The server closing
 * the connection ends the stream.
 */
final class StreamSession implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** The server closed the connection. */
    private record End(int code, String reason) {
    }

    /** Nothing arrived in time. */
    static final class Timeout extends IOException {
        private static final long serialVersionUID = 1L;

        Timeout(String message) {
            super(message);
        }
    }

    private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private final WebSocket ws;
    private boolean ended;

    private StreamSession(URI uri, Duration timeout) throws ProtocolException, IOException, InterruptedException {
        try {
            ws = HTTP.newWebSocketBuilder().subprotocols(StreamProtocol.V4).connectTimeout(timeout)
                    .buildAsync(uri, new Listener()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof WebSocketHandshakeException h) {
                throw new ProtocolException("WebSocket upgrade of " + redact(uri) + " refused: HTTP "
                        + h.getResponse().statusCode() + " " + StreamProtocol.abbreviate(String.valueOf(h.getResponse().body())));
            }
            throw new IOException("cannot open WebSocket " + redact(uri) + ": " + c, c);
        } catch (TimeoutException e) {
            throw new IOException("WebSocket " + redact(uri) + " did not open within " + timeout.toMillis() + " ms");
        }
    }

    /** Opens the stream; fails when the server does not agree to {@value StreamProtocol#V4}. */
    static StreamSession open(URI uri, Duration timeout) throws ProtocolException, IOException, InterruptedException {
        StreamSession s = new StreamSession(uri, timeout);
        String sub = s.ws.getSubprotocol();
        if (!StreamProtocol.V4.equals(sub)) {
            s.close();
            throw new ProtocolException("server chose subprotocol '" + sub + "' instead of " + StreamProtocol.V4);
        }
        return s;
    }

    /** The next frame, empty once the server closed; throws when nothing arrives within {@code timeout}. */
    Optional<Frame> next(Duration timeout) throws ProtocolException, IOException, InterruptedException {
        if (ended) {
            return Optional.empty();
        }
        Object e = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (e == null) {
            throw new Timeout("no message within " + timeout.toMillis() + " ms");
        }
        if (e instanceof Frame f) {
            return Optional.of(f);
        }
        if (e instanceof End) {
            ended = true;
            return Optional.empty();
        }
        if (e instanceof ProtocolException p) {
            throw p;
        }
        throw new IOException("WebSocket error: " + e, (Throwable) e);
    }

    /** Every frame until the server closes; fails if that takes longer than {@code timeout}. */
    List<Frame> readToEnd(Duration timeout) throws ProtocolException, IOException, InterruptedException {
        return readUntil(timeout, frames -> false);
    }

    /** Frames until {@code done} holds for what was read so far, or the server closes. */
    List<Frame> readUntil(Duration timeout, Predicate<List<Frame>> done)
            throws ProtocolException, IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Frame> frames = new ArrayList<>();
        while (true) {
            long left = deadline - System.nanoTime();
            Optional<Frame> f;
            try {
                if (left <= 0) {
                    throw new Timeout("timed out");
                }
                f = next(Duration.ofNanos(left));
            } catch (Timeout e) {
                throw new IOException("the stream neither ended nor delivered what was expected within "
                        + timeout.toMillis() + " ms; received: " + summary(frames), e);
            } catch (IOException e) {
                throw new IOException(e.getMessage() + "; received so far: " + summary(frames), e);
            }
            if (f.isEmpty()) {
                return frames;
            }
            frames.add(f.get());
            if (done.test(frames)) {
                return frames;
            }
        }
    }

    /** Sends {@code data} on {@code channel}. */
    void send(int channel, byte[] data) throws IOException, InterruptedException {
        try {
            ws.sendBinary(ByteBuffer.wrap(new Frame(channel, data).encode()), true).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot send on channel " + channel + ": " + e, e);
        }
    }

    @Override
    public void close() {
        if (!ws.isOutputClosed()) {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "");
        }
        ws.abort();
    }

    /** {@code ch1: 12 B "hello..." | ch3: ...} for failure messages. */
    static String summary(List<Frame> frames) {
        if (frames.isEmpty()) {
            return "nothing";
        }
        StringBuilder b = new StringBuilder();
        for (Frame f : frames) {
            if (b.length() > 0) {
                b.append(" | ");
            }
            b.append("ch").append(f.channel()).append(": ").append(f.data().length).append(" B \"")
                    .append(StreamProtocol.abbreviate(f.text().replace("\n", "\\n"))).append('"');
            if (b.length() > 600) {
                return b.append(" ...").toString();
            }
        }
        return b.toString();
    }

    /** The URL without its single-use token, for messages. */
    static String redact(URI uri) {
        String p = Optional.ofNullable(uri.getPath()).orElse("");
        int slash = p.lastIndexOf('/');
        return uri.getScheme() + "://" + uri.getAuthority() + (slash > 0 ? p.substring(0, slash) + "/<token>" : p);
    }

    private final class Listener implements WebSocket.Listener {
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

        @Override
        public void onOpen(WebSocket webSocket) {
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            partial.writeBytes(b);
            if (last) {
                try {
                    events.add(Frame.decode(partial.toByteArray()));
                } catch (ProtocolException e) {
                    events.add(e);
                }
                partial.reset();
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            events.add(new ProtocolException("text message on a binary " + StreamProtocol.V4 + " stream: \""
                    + StreamProtocol.abbreviate(data.toString()) + "\""));
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            events.add(new End(statusCode, reason));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            // An abrupt end after the server is done (no close frame) still ends the stream.
            events.add(error instanceof IOException ? new End(-1, String.valueOf(error.getMessage())) : error);
        }
    }
}
