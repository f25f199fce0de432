package dev.nodekit.crishim;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.crishim.api.UpstreamView;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;

/**
 * One runtime and the shim's channel to it. The channel never waits for the runtime to be ready
 * (calls fail at once with UNAVAILABLE while it is down), does not retry (kubelet does), runs its
 * callbacks on its I/O thread, which is the shim server's too, and never idles out (kubelet calls
 * every second anyway).
 */
final class Upstream implements UpstreamView {
    private final UpstreamConfig config;
    private final ManagedChannel channel;
    private volatile java.util.function.BooleanSupplier frames;

    Upstream(UpstreamConfig config, EventLoopGroup loop) {
        this.config = config;
        this.channel = UdsChannels.builder(config.socket())
                .eventLoopGroup(loop)
                .directExecutor()
                .disableRetry()
                .idleTimeout(30, TimeUnit.DAYS)
                .build();
    }

    @Override
    public String name() {
        return config.name();
    }

    @Override
    public String endpoint() {
        return config.endpoint();
    }

    Path socket() {
        return config.socket();
    }

    ManagedChannel channel() {
        return channel;
    }

    /**
     * Up when the connection that serves pass-through calls is: the frame front's, once it relays
     * to this runtime ({@link #servesFrames}), else the gRPC channel.
     */
    @Override
    public boolean isUp() {
        java.util.function.BooleanSupplier f = frames;
        return f != null ? f.getAsBoolean() : channel.getState(false) == ConnectivityState.READY;
    }

    /** The frame front relays pass-through calls to this runtime; {@code connected} tells whether its connection is up. */
    void servesFrames(java.util.function.BooleanSupplier connected) {
        this.frames = connected;
    }

    /** A call to the runtime; {@code options} carry the client's deadline. */
    ClientCall<byte[], byte[]> newCall(MethodDescriptor<byte[], byte[]> method, CallOptions options) {
        return channel.newCall(method, options);
    }

    /**
     * Keeps the connection up: asks for one when idle, and when the channel sits in its reconnect
     * backoff (grpc-java waits up to two minutes between attempts) while the socket accepts
     * connections again, skips the rest of the backoff. This is the backoff cap: a runtime that
     * comes back is used within one monitor tick.
     *
     * @return the state seen before acting
     */
    ConnectivityState tick() {
        ConnectivityState s = channel.getState(true);
        if (s == ConnectivityState.TRANSIENT_FAILURE && socketAccepts(config.socket())) {
            channel.resetConnectBackoff();
        }
        return s;
    }

    void shutdown() {
        channel.shutdownNow();
    }

    boolean awaitTermination(long millis) throws InterruptedException {
        return channel.awaitTermination(millis, TimeUnit.MILLISECONDS);
    }

    /** Whether something accepts connections on {@code socket}: non-blocking, so it cannot hang. */
    static boolean socketAccepts(Path socket) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.configureBlocking(false);
            ch.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return config.name() + "(" + config.endpoint() + ")";
    }
}
