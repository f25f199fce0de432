package dev.nodekit.crishim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.common.grpc.UdsServer;
import dev.nodekit.common.grpc.UdsServerException;
import dev.nodekit.crishim.api.CallOutcome;
import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.EventLoop;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.group.ChannelGroup;
import io.grpc.netty.shaded.io.netty.channel.group.DefaultChannelGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Headers;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import io.grpc.netty.shaded.io.netty.util.concurrent.ScheduledFuture;

/**
 * The shim's listening socket in {@code passThrough: frames} mode: an HTTP/2 server that relays
 * each stream as frames ({@link FrameRelay}) either to the runtime, for methods no interceptor
 * reads, or to the shim's gRPC server on an internal socket, for the rest. The choice is made per
 * {@code :path} from the method plans computed at start-up; a path the shim does not know goes to
 * the runtime, as in the gRPC path. Everything runs on one event loop, which the gRPC server and
 * its upstream channels share.
 */
final class FrameFront {
    /** How often a missing backend connection is made again without a call asking for it. */
    static final Duration TICK = Upstreams.TICK;
    private static final Logger log = LoggerFactory.getLogger(FrameFront.class);

    /**
     * Where calls of one path go.
     *
     * @param backend   the runtime or the shim's own gRPC server
     * @param observed  whether the chain's observers hear of its end (pass-through calls only: the
     *                  gRPC server reports the calls it serves itself)
     * @param method    the full method name, as observers see it
     * @param upstreams the upstream names observers see
     */
    record Route(FrameBackend backend, boolean observed, String method, List<String> upstreams) {
        Route {
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(method, "method");
            upstreams = List.copyOf(upstreams);
        }
    }

    private final Engine engine;
    private final EventLoop loop;
    private final Path socket;
    private final Duration grace;
    private final boolean observed;
    private final FrameBackend runtime;
    private final FrameBackend internal;
    private final Map<AsciiString, Route> routes = new HashMap<>();
    private final Route internalRoute;
    private final List<String> runtimeNames;
    private final ChannelGroup clients;
    private List<FrameLink> dirty = new ArrayList<>();
    private List<FrameLink> flushing = new ArrayList<>();
    private boolean flushScheduled;
    private final Runnable flushTask = this::flushDirty;
    private Channel server;
    private Object socketKey;
    private ScheduledFuture<?> tick;
    private int framed;

    private FrameFront(CriShimConfig config, EventLoop loop, Engine engine, Upstream primary, Path internalSocket) {
        this.engine = engine;
        this.loop = loop;
        this.socket = config.listen();
        this.grace = config.shutdownGrace();
        this.observed = !engine.chain.observers().isEmpty();
        this.runtime = new FrameBackend(this, primary.name(),
                "runtime '" + primary.name() + "' at " + primary.endpoint(), primary.socket(), loop);
        this.internal = new FrameBackend(this, "", "the shim's gRPC server at " + internalSocket, internalSocket, loop);
        this.internalRoute = new Route(internal, false, "", List.of());
        this.runtimeNames = List.of(primary.name());
        primary.servesFrames(runtime::isConnected);
        this.clients = new DefaultChannelGroup("nodekit-cri-clients", loop);
    }

    /**
     * Binds {@code config.listen()} (mode from the config, a stale socket removed) and starts
     * relaying. The gRPC server must already listen on {@code internalSocket}.
     */
    static FrameFront start(CriShimConfig config, EventLoop loop, Engine engine, List<MethodPlan> plans,
            Upstream primary, Path internalSocket) throws CriShimException {
        FrameFront f = new FrameFront(config, loop, engine, primary, internalSocket);
        for (MethodPlan p : plans) {
            boolean pass = p.passThrough();
            f.routes.put(AsciiString.of("/" + p.fullName()), pass
                    ? new Route(f.runtime, f.observed, p.fullName(), f.runtimeNames)
                    : new Route(f.internal, false, p.fullName(), List.of()));
            f.framed += pass ? 1 : 0;
        }
        f.bind(config.socketMode());
        return f;
    }

    private void bind(String socketMode) throws CriShimException {
        try {
            UdsServer.prepareSocketPath(socket);
        } catch (UdsServerException e) {
            throw new CriShimException("cannot listen on " + socket + ": " + e.getMessage(), e);
        }
        long graceMillis = grace.toMillis();
        ServerBootstrap sb = new ServerBootstrap().group(loop, loop).channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(FrameLink.forClient(FrameFront.this, graceMillis));
                    }
                });
        var bound = sb.bind(new DomainSocketAddress(socket.toString())).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new CriShimException("cannot listen on " + socket + ": bind failed: " + bound.cause(), bound.cause());
        }
        server = bound.channel();
        try {
            Files.setPosixFilePermissions(socket, UdsServer.socketPermissions(socketMode));
            socketKey = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            server.close().awaitUninterruptibly();
            throw new CriShimException("cannot set mode " + socketMode + " on " + socket + ": " + e, e);
        }
        tick = loop.scheduleWithFixedDelay(() -> {
            runtime.ensureConnected();
            internal.ensureConnected();
        }, 0, TICK.toMillis(), TimeUnit.MILLISECONDS);
        log.atInfo().addKeyValue("socket", socket).addKeyValue("mode", socketMode)
                .addKeyValue("frame_methods", framed).addKeyValue("grpc_methods", routes.size() - framed)
                .log("CRI frame front listening; calls no interceptor reads are relayed as HTTP/2 frames");
    }

    /** A client opened a stream: route it by its path and start relaying. */
    void newCall(FrameLink client, FrameLink.Stream stream, Http2Headers headers, boolean endStream) {
        long t0 = System.nanoTime();
        Route r = route(headers.path());
        FrameRelay relay = new FrameRelay(this, r, client, stream, headers, endStream, t0);
        client.bind(stream, relay);
        r.backend().open(relay);
    }

    private Route route(CharSequence path) {
        if (path == null) {
            return internalRoute; // not a gRPC request; the gRPC server answers it as such
        }
        Route r = routes.get(path instanceof AsciiString a ? a : AsciiString.of(path));
        if (r != null) {
            return r;
        }
        // A method the shim does not know: raw to the runtime, if it looks like /service/method.
        String p = path.toString();
        int slash = p.indexOf('/', 1);
        if (p.startsWith("/") && slash > 1 && slash < p.length() - 1) {
            return new Route(runtime, observed, p.substring(1), runtimeNames);
        }
        return internalRoute;
    }

    /** Streams open on the runtime connection (tests: none may stay behind a finished call). */
    int openRuntimeStreams() throws Exception {
        return loop.submit(runtime::openStreams).get();
    }

    void observe(CallOutcome outcome) {
        engine.observe(outcome);
    }

    void clientConnected(FrameLink link) {
        clients.add(link.context().channel());
    }

    /**
     * Queues a flush of {@code link}: at the end of the read that caused the write (one write per
     * connection per read, before the reading connection's own acknowledgements), else at the end
     * of this event-loop turn (the task also catches a read whose end was never signalled).
     */
    void markDirty(FrameLink link) {
        if (link.markDirty()) {
            dirty.add(link);
            if (!flushScheduled) {
                flushScheduled = true;
                loop.execute(flushTask);
            }
        }
    }

    /** The read of a link is over: what it relayed leaves now. */
    void readComplete() {
        flushDirty();
    }

    private void flushDirty() {
        flushScheduled = false;
        List<FrameLink> now = dirty;
        dirty = flushing;
        flushing = now;
        for (int i = 0; i < now.size(); i++) {
            now.get(i).flushNow();
        }
        now.clear();
    }

    /**
     * Stops accepting connections, sends GOAWAY on every client connection and lets their calls
     * finish for the grace period, then closes the backend connections and removes the socket.
     */
    void close() {
        long t0 = System.nanoTime();
        log.atInfo().addKeyValue("socket", socket).addKeyValue("grace_ms", grace.toMillis())
                .log("frame front stopping: refusing new connections, waiting for in-flight calls");
        server.close().awaitUninterruptibly();
        boolean drained = clients.close().awaitUninterruptibly(grace.toMillis() + 2000);
        loop.submit(() -> {
            tick.cancel(false);
            runtime.close();
            internal.close();
        }).awaitUninterruptibly(2000);
        deleteSocketIfOurs();
        log.atInfo().addKeyValue("socket", socket).addKeyValue("drained", drained)
                .addKeyValue("duration_ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0))
                .log("frame front stopped");
    }

    private void deleteSocketIfOurs() {
        try {
            Object key = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (key != null && key.equals(socketKey)) {
                Files.deleteIfExists(socket);
            }
        } catch (NoSuchFileException e) {
            // netty removed it when the listener closed: the usual case
        } catch (IOException e) {
            log.atWarn().setCause(e).addKeyValue("socket", socket).log("could not delete socket file");
        }
    }
}
