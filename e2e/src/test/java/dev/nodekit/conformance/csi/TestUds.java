package dev.nodekit.conformance.csi;

import java.nio.file.Path;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;

/** Serves services on a unix socket for tests. */
final class TestUds {
    private TestUds() {
    }

    static Server serve(Path socket, BindableService... services) throws Exception {
        EpollEventLoopGroup group = new EpollEventLoopGroup(1);
        NettyServerBuilder b = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class).bossEventLoopGroup(group).workerEventLoopGroup(group);
        for (BindableService s : services) {
            b.addService(s);
        }
        return b.build().start();
    }
}
