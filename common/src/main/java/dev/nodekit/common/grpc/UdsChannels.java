package dev.nodekit.common.grpc;

import java.nio.file.Path;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

/**
 * Client channels to gRPC servers on unix domain sockets, the only transport CSI and CRI use.
 * Targets are written {@code unix:///abs/path.sock} (also accepted: {@code unix:/abs/path} and a
 * bare absolute path). Channels allow {@link #MAX_MESSAGE_BYTES} messages, as kubelet does.
 */
public final class UdsChannels {
    /** 16 MiB, kubelet's limit for CRI; grpc-java's default of 4 MiB breaks big List calls. */
    public static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    private UdsChannels() {
    }

    /** The socket path named by a {@code unix://} target; rejects anything that is not an absolute unix path. */
    public static Path socketPath(String target) {
        if (target == null || target.isBlank()) {
            throw new IllegalArgumentException("endpoint is empty; expected unix:///absolute/path.sock");
        }
        String p;
        if (target.startsWith("unix://")) {
            p = target.substring("unix://".length());
        } else if (target.startsWith("unix:")) {
            p = target.substring("unix:".length());
        } else if (target.startsWith("/")) {
            p = target;
        } else {
            throw new IllegalArgumentException("endpoint '" + target
                    + "' is not a unix socket; expected unix:///absolute/path.sock");
        }
        if (!p.startsWith("/") || p.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("endpoint '" + target + "' must name an absolute socket path");
        }
        return Path.of(p).normalize();
    }

    /** A plaintext channel to the socket named by {@code target}. */
    public static ManagedChannel forTarget(String target) {
        return builder(socketPath(target)).build();
    }

    /** A channel builder for {@code socket}, for callers that need more settings (interceptors, deadlines). */
    public static NettyChannelBuilder builder(Path socket) {
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(SharedLoop.GROUP)
                // grpc sets TCP keepalive on every channel; a unix socket has none and netty would log
                // a WARN per connection. Null removes the option (grpc-java#10408).
                .withOption(ChannelOption.SO_KEEPALIVE, null)
                .usePlaintext()
                .overrideAuthority("localhost")
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                .maxInboundMetadataSize(1024 * 1024);
    }

    /** One small epoll loop shared by all client channels of the process; daemon threads. */
    static final class SharedLoop {
        static final EventLoopGroup GROUP = epollGroup(2, "nodekit-uds-client");

        private SharedLoop() {
        }
    }

    /**
     * An epoll event loop group of {@code threads} named daemon threads ({@code prefix-N}), for a
     * {@link #builder} channel's {@code eventLoopGroup(...)} and {@link UdsServer.Builder#eventLoopGroup}.
     * The caller shuts it down.
     */
    public static EventLoopGroup newEventLoopGroup(int threads, String prefix) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        return epollGroup(threads, prefix);
    }

    /** An epoll event loop group of {@code threads} named daemon threads (netty 4.2's replacement for EpollEventLoopGroup). */
    static EventLoopGroup epollGroup(int threads, String prefix) {
        return new MultiThreadIoEventLoopGroup(threads, daemonThreads(prefix), EpollIoHandler.newFactory());
    }

    static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
