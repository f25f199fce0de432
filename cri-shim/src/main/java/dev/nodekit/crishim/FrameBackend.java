package dev.nodekit.crishim;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.grpc.netty.shaded.io.netty.bootstrap.Bootstrap;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoop;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;

/**
 * The frame front's one shared HTTP/2 connection to a backend (the runtime, or the shim's own gRPC
 * server for intercepted calls), made again whenever it is gone: on the next call, and every
 * {@link FrameFront#TICK} without calls. While the backend cannot be reached, calls fail at once
 * with UNAVAILABLE naming it; a call arriving while the connection is being made waits for it.
 * Event-loop code only.
 */
final class FrameBackend {
    /** After a failed connect, calls within this time fail at once instead of trying again. */
    static final long RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final int CONNECT_TIMEOUT_MILLIS = 2000;
    private static final Logger log = LoggerFactory.getLogger(FrameBackend.class);

    private final FrameFront front;
    private final String name;
    private final String description;
    private final Path socket;
    private final EventLoop loop;
    private final List<FrameRelay> waiting = new ArrayList<>();
    private final List<FrameLink> links = new ArrayList<>();
    private FrameLink link;
    private volatile boolean connected;
    private boolean connecting;
    private boolean closed;
    private Boolean up;
    private String lastError = "not connected yet";
    private long lastFailureNanos;

    /**
     * @param name        the upstream's name, as observers see it ("" for the shim's own server)
     * @param description how UNAVAILABLE messages and logs name it: {@code runtime 'default' at unix:///...}
     */
    FrameBackend(FrameFront front, String name, String description, Path socket, EventLoop loop) {
        this.front = front;
        this.name = name;
        this.description = description;
        this.socket = socket;
        this.loop = loop;
    }

    String name() {
        return name;
    }

    String describe() {
        return description;
    }

    /** Whether a connection to the backend is up (any thread). */
    boolean isConnected() {
        return connected;
    }

    /** Starts {@code relay}'s backend stream now, once connected, or fails it with UNAVAILABLE. */
    void open(FrameRelay relay) {
        if (link != null && link.usable()) {
            if (relay.attach(link)) {
                return;
            }
            retire(link); // stream ids used up: a new connection takes the call
        }
        if (closed) {
            relay.failUnavailable("cri-shim: shutting down");
            return;
        }
        if (!connecting && lastFailureNanos != 0 && System.nanoTime() - lastFailureNanos < RETRY_NANOS) {
            relay.failUnavailable(unavailable());
            return;
        }
        waiting.add(relay);
        connect();
    }

    /** Streams open on the current connection (event loop only). */
    int openStreams() {
        return link == null ? 0 : link.openStreams();
    }

    /** Connects if not connected (the front's tick): a runtime that comes back is used without waiting for a call. */
    void ensureConnected() {
        if (!closed && (link == null || !link.usable()) && !connecting) {
            connect();
        }
    }

    private String unavailable() {
        return "cri-shim: " + description + " is unavailable: " + lastError;
    }

    private void connect() {
        if (connecting || closed) {
            return;
        }
        connecting = true;
        Bootstrap b = new Bootstrap().group(loop).channel(EpollDomainSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(FrameLink.forBackend(front, FrameBackend.this));
                    }
                });
        ChannelFuture f = b.connect(new DomainSocketAddress(socket.toString()));
        f.addListener(done -> {
            if (!done.isSuccess()) {
                connecting = false;
                connectFailed(reason(done.cause()));
            }
        });
    }

    private static String reason(Throwable t) {
        if (t == null) {
            return "connect failed";
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    private void connectFailed(String error) {
        lastError = error;
        lastFailureNanos = System.nanoTime();
        if (!Boolean.FALSE.equals(up)) {
            log.atWarn().addKeyValue("backend", description).addKeyValue("error", error)
                    .log("frame connection to backend failed; pass-through calls fail with UNAVAILABLE until it is back");
            up = false;
        }
        List<FrameRelay> failed = new ArrayList<>(waiting);
        waiting.clear();
        for (FrameRelay r : failed) {
            r.failUnavailable(unavailable());
        }
    }

    /** The link's preface is out: calls can start on it. */
    void linkActive(FrameLink l) {
        connecting = false;
        if (closed) {
            l.context().close();
            return;
        }
        link = l;
        connected = true;
        links.add(l);
        lastFailureNanos = 0;
        if (!Boolean.TRUE.equals(up)) {
            log.atInfo().addKeyValue("backend", description).log("frame connection to backend up");
            up = true;
        }
        List<FrameRelay> ready = new ArrayList<>(waiting);
        waiting.clear();
        for (FrameRelay r : ready) {
            open(r);
        }
    }

    /** The backend said GOAWAY: the link finishes its calls, new ones get a new connection. */
    void linkRetired(FrameLink l) {
        if (link == l) {
            link = null;
            connected = false;
        }
    }

    private void retire(FrameLink l) {
        l.retire();
        linkRetired(l);
    }

    void linkInactive(FrameLink l) {
        links.remove(l);
        if (link == l) {
            link = null;
            connected = false;
            if (!closed) {
                lastError = "the connection closed (" + l.failure() + ")";
                lastFailureNanos = System.nanoTime();
                if (Boolean.TRUE.equals(up)) {
                    log.atWarn().addKeyValue("backend", description).addKeyValue("reason", l.failure())
                            .log("frame connection to backend lost; reconnecting");
                    up = false;
                }
            }
        }
    }

    /** Fails waiting calls and closes the connections (their calls get UNAVAILABLE or finish, as the front decides). */
    void close() {
        closed = true;
        for (FrameRelay r : new ArrayList<>(waiting)) {
            r.failUnavailable("cri-shim: shutting down");
        }
        waiting.clear();
        for (FrameLink l : new ArrayList<>(links)) {
            l.context().close();
        }
        link = null;
    }

    @Override
    public String toString() {
        return description;
    }
}
