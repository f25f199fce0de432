package dev.nodekit.conformance.cri;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import org.java_websocket.WebSocket;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.protocols.Protocol;
import org.java_websocket.server.WebSocketServer;

import com.google.protobuf.Message;

import dev.nodekit.spec.cri.v1.AttachRequest;
import dev.nodekit.spec.cri.v1.ExecRequest;
import dev.nodekit.spec.cri.v1.PortForwardRequest;

/**
 * The fake's streaming server: single-use tokens, WebSocket with {@value StreamProtocol#V4} only,
 * exec (a host process, or a command the fake answers itself), attach (the container's output) and
 * port-forward (to the pod's virtual HTTP server), each honouring {@link FakeCri}'s stream defects.
 */
final class FakeStreams extends WebSocketServer {
    private final FakeCri cri;
    private final Map<String, Message> tokens = new ConcurrentHashMap<>();
    private final CountDownLatch started = new CountDownLatch(1);

    private FakeStreams(FakeCri cri) {
        super(new InetSocketAddress("127.0.0.1", 0),
                List.of(new Draft_6455(List.of(), List.of(new Protocol(StreamProtocol.V4)))));
        this.cri = cri;
        setReuseAddr(true);
    }

    static FakeStreams start(FakeCri cri) throws InterruptedException {
        FakeStreams s = new FakeStreams(cri);
        s.start();
        if (!s.started.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("fake streaming server did not start");
        }
        return s;
    }

    String url(String kind, Message request) {
        String token = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        tokens.put(kind + "/" + token, request);
        return "http://127.0.0.1:" + getPort() + "/" + kind + "/" + token;
    }

    @Override
    public void onStart() {
        started.countDown();
    }

    @Override
    public void onOpen(WebSocket conn, ClientHandshake handshake) {
        String path = handshake.getResourceDescriptor().substring(1);
        Message req = tokens.remove(path);
        if (req == null) {
            conn.close(1008, "unknown or used token");
            return;
        }
        if (req instanceof PortForwardRequest p) {
            portForward(conn, p); // synchronously: the session must exist before the client's first message
            return;
        }
        Thread t = new Thread(() -> {
            try {
                if (req instanceof ExecRequest e) {
                    exec(conn, e);
                } else if (req instanceof AttachRequest a) {
                    attach(conn, a);
                }
            } catch (Exception e) {
                send(conn, StreamProtocol.STATUS, ("{\"status\":\"Failure\",\"message\":\"" + e + "\"}")
                        .getBytes(StandardCharsets.UTF_8));
                conn.close();
            }
        }, "fake-stream-" + path.substring(0, path.indexOf('/')));
        t.setDaemon(true);
        t.start();
    }

    private static void send(WebSocket conn, int channel, byte[] data) {
        if (conn.isOpen()) {
            conn.send(new StreamProtocol.Frame(channel, data).encode());
        }
    }

    private void exec(WebSocket conn, ExecRequest req) throws Exception {
        FakeCri.FakeContainer c = cri.container(req.getContainerId());
        send(conn, StreamProtocol.STDOUT, new byte[0]); // "ready", as the kubelet streaming server does
        int code;
        Optional<FakeCri.Ran> virtual = cri.virtual(c, req.getCmdList());
        if (virtual.isPresent()) {
            send(conn, StreamProtocol.STDOUT, virtual.get().stdout());
            send(conn, StreamProtocol.STDERR, virtual.get().stderr());
            code = virtual.get().exitCode();
        } else {
            Process p = cri.spawn(req.getCmdList());
            Thread out = pump(p.getInputStream(), conn, StreamProtocol.STDOUT);
            Thread err = pump(p.getErrorStream(), conn, StreamProtocol.STDERR);
            code = p.waitFor();
            out.join();
            err.join();
        }
        int reported = cri.streamExitCode.applyAsInt(code);
        if (!cri.streamOmitsStatus) {
            String status = reported == 0 ? "{\"metadata\":{},\"status\":\"Success\"}"
                    : "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero exit code: "
                            + "exit code " + reported + "\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":"
                            + "[{\"reason\":\"ExitCode\",\"message\":\"" + reported + "\"}]}}";
            send(conn, StreamProtocol.STATUS, status.getBytes(StandardCharsets.UTF_8));
        }
        conn.close(1000);
    }

    private static Thread pump(InputStream in, WebSocket conn, int channel) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[4096];
            try (in) {
                for (int n; (n = in.read(buf)) > 0;) {
                    send(conn, channel, java.util.Arrays.copyOf(buf, n));
                }
            } catch (IOException e) {
                // process gone
            }
        }, "fake-stream-pump");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void attach(WebSocket conn, AttachRequest req) throws InterruptedException {
        FakeCri.FakeContainer c = cri.container(req.getContainerId());
        send(conn, StreamProtocol.STDOUT, new byte[0]);
        BiConsumer<Integer, byte[]> sub = (stream, bytes) -> {
            int ch = stream == 1 && cri.attachSendsStdoutOnStderr ? StreamProtocol.STDERR : stream;
            if ((ch == StreamProtocol.STDOUT && req.getStdout()) || (ch == StreamProtocol.STDERR && req.getStderr())) {
                send(conn, ch, bytes);
            }
        };
        c.attached.add(sub);
        try {
            while (conn.isOpen() && !conn.isClosing()) {
                Thread.sleep(20);
            }
        } finally {
            c.attached.remove(sub);
        }
    }

    private void portForward(WebSocket conn, PortForwardRequest req) {
        FakeCri.FakePod pod = cri.pod(req.getPodSandboxId());
        int port = req.getPort(0) + cri.portForwardPortOffset;
        conn.setAttachment(new PortForwardSession(pod, port));
        if (!cri.portForwardWithoutPortPrefix) {
            byte[] p = {(byte) (req.getPort(0) & 0xff), (byte) (req.getPort(0) >> 8)};
            send(conn, 0, p);
            send(conn, 1, p);
        }
    }

    /** Bytes the client sent on the data channel, until a whole HTTP request is there. */
    private final class PortForwardSession {
        final FakeCri.FakePod pod;
        final int port;
        final ByteArrayOutputStream request = new ByteArrayOutputStream();

        PortForwardSession(FakeCri.FakePod pod, int port) {
            this.pod = pod;
            this.port = port;
        }

        synchronized void data(WebSocket conn, byte[] b) {
            request.writeBytes(b);
            if (!request.toString(StandardCharsets.US_ASCII).contains("\r\n\r\n")) {
                return;
            }
            Optional<String> answer = cri.httpAnswer(pod, port);
            if (answer.isPresent()) {
                send(conn, 0, answer.get().getBytes(StandardCharsets.UTF_8));
            } else {
                send(conn, 1, ("error forwarding port " + port + ": connection refused").getBytes(StandardCharsets.UTF_8));
            }
            conn.close(1000);
        }
    }

    @Override
    public void onMessage(WebSocket conn, ByteBuffer message) {
        byte[] b = new byte[message.remaining()];
        message.get(b);
        if (conn.getAttachment() instanceof PortForwardSession s && b.length > 0 && b[0] == 0) {
            s.data(conn, java.util.Arrays.copyOfRange(b, 1, b.length));
        }
    }

    @Override
    public void onMessage(WebSocket conn, String message) {
        conn.close(1003, "text messages are not part of " + StreamProtocol.V4);
    }

    @Override
    public void onClose(WebSocket conn, int code, String reason, boolean remote) {
        // sessions notice through conn.isOpen()
    }

    @Override
    public void onError(WebSocket conn, Exception ex) {
        if (conn == null) {
            started.countDown();
        }
    }

    void close() {
        try {
            stop(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
