package dev.nodekit.crishim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.crishim.api.CriMethods;
import dev.nodekit.spec.cri.v1.VersionRequest;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Error;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2FrameAdapter;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Headers;
import io.grpc.stub.ClientCalls;

/** What only the frame front does: its internal socket, and runtimes that speak HTTP/2 the way grpc-go does. */
class FrameFrontTest {
    @TempDir
    Path dir;

    ShimHarness h;
    EventLoopGroup rawLoop;
    Channel rawServer;

    @AfterEach
    void stop() throws Exception {
        if (h != null) {
            h.close();
        }
        if (rawServer != null) {
            rawServer.close().awaitUninterruptibly();
        }
        if (rawLoop != null) {
            rawLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    @Test
    void theGrpcServerListensOnAHiddenOwnerOnlySocketThatCloseRemoves() throws Exception {
        h = new ShimHarness(dir);
        FakeCri rt = h.fake("rt");
        h.start(Optional.of(rt.endpoint()), null);
        Path internal = CriShim.internalSocket(h.socket("shim"));
        assertThat(internal.getFileName().toString()).isEqualTo(".shim.sock.grpc");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(internal))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(h.socket("shim")))).isEqualTo("rw-rw----");
        assertThat(h.runtime().version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("rt");
        h.shim.close();
        assertThat(internal).doesNotExist();
        assertThat(h.socket("shim")).doesNotExist();
    }

    @Test
    void aShimKilledWithoutCleanupLeavesSocketsTheNextOneTakesOver() throws Exception {
        h = new ShimHarness(dir);
        FakeCri rt = h.fake("rt");
        // What a kill -9 leaves: both socket files, nobody accepting on them.
        for (Path p : new Path[] {h.socket("shim"), CriShim.internalSocket(h.socket("shim"))}) {
            try (var ch = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
                ch.bind(java.net.UnixDomainSocketAddress.of(p));
            }
            assertThat(p).exists();
        }
        h.start(Optional.of(rt.endpoint()), null);
        assertThat(h.runtime().version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("rt");
    }

    /**
     * grpc-go answers a unary call as soon as the request message is in, and when the client's
     * END_STREAM comes after that, it follows its trailers with RST_STREAM(NO_ERROR). That reset
     * must not reach the client: it would overtake the response and read as UNAVAILABLE.
     */
    @Test
    void aResetAfterTheRuntimesTrailersDoesNotSpoilTheAnswer() throws Exception {
        callTheRawRuntime("interceptors: [{type: metrics}]\n", CriMethods.VERSION.fullName(), 50);
        assertThat(h.metrics.scrapeText())
                .contains("cri_shim_rpc_duration_seconds_count{code=\"OK\",method=\"Version\"} 50");
    }

    /**
     * Answered on the request's HEADERS and not reset: no stream may stay open at the runtime. (The
     * client's whole request usually reaches the runtime before the answer is back; when its
     * END_STREAM comes after the answer, the relay still passes it on, so the stream closes too.)
     */
    @Test
    void anEarlyAnswerWithoutResetLeavesNoStreamOpenAtTheRuntime() throws Exception {
        callTheRawRuntime("interceptors: []\n", CriMethods.IMAGE_FS_INFO.fullName(), 20);
        FrameFront front = h.shim.frameFront().orElseThrow();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> front.openRuntimeStreams() == 0);
    }

    /**
     * A client that sends past the stream window the shim granted (here while the runtime reads
     * nothing, so nothing is acknowledged) gets RST_STREAM(FLOW_CONTROL_ERROR): the shim holds no more
     * than it granted, resets the runtime's stream and goes on serving.
     */
    @Test
    void aClientThatSendsPastItsWindowIsResetAndTheShimGoesOn() throws Exception {
        shimBeforeTheRawRuntime("interceptors: []\n");
        try (RawClient c = new RawClient(h.socket("shim"))) {
            c.headers(1, "/runtime.v1.RuntimeService/Hold", false);
            byte[] chunk = new byte[16 * 1024];
            for (int sent = 0; sent <= FrameLink.STREAM_WINDOW; sent += chunk.length) {
                c.data(1, chunk, false);
            }
            c.send();
            assertThat(c.awaitResetAndEnds(1).resets()).containsEntry(1, Http2Error.FLOW_CONTROL_ERROR.code());
        }
        FrameFront front = h.shim.frameFront().orElseThrow();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> front.openRuntimeStreams() == 0);
        callTheRawRuntimeAgain(CriMethods.IMAGE_FS_INFO.fullName());
    }

    /**
     * A stream error (a connection-specific header, which HTTP/2 forbids) resets that stream only:
     * its DATA that follows is dropped, and another call in the same socket read is answered.
     */
    @Test
    void aStreamErrorResetsThatStreamAndTheCallsBehindItInTheSameReadAreServed() throws Exception {
        shimBeforeTheRawRuntime("interceptors: []\n");
        try (RawClient c = new RawClient(h.socket("shim"))) {
            c.headers(1, "/" + CriMethods.IMAGE_FS_INFO.fullName(), false, "connection", "close");
            c.data(1, new byte[] {0, 0, 0, 0, 0}, true);
            c.headers(3, "/" + CriMethods.IMAGE_FS_INFO.fullName(), false);
            c.data(3, new byte[] {0, 0, 0, 0, 0}, true);
            c.send(); // one write: the shim reads all four frames at once
            RawClient.Seen seen = c.awaitResetAndEnds(1, 3);
            assertThat(seen.resets()).containsEntry(1, Http2Error.PROTOCOL_ERROR.code()).doesNotContainKey(3);
            assertThat(seen.ended()).contains(3);
        }
        callTheRawRuntimeAgain(CriMethods.IMAGE_FS_INFO.fullName());
    }

    /** Bytes that are not HTTP/2 (an HTTP/1.1 request) close only their own connection. */
    @Test
    void aClientThatDoesNotSpeakHttp2IsDisconnectedAlone() throws Exception {
        shimBeforeTheRawRuntime("interceptors: []\n");
        try (var ch = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(h.socket("shim")))) {
            ch.write(java.nio.ByteBuffer.wrap("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4096);
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                while (ch.read(buf) >= 0) {
                    buf.clear(); // the shim's SETTINGS and GOAWAY, then the end
                }
            });
        }
        callTheRawRuntimeAgain(CriMethods.IMAGE_FS_INFO.fullName());
    }

    @Test
    void aRuntimeResetIsPassedOnAndCountedWithItsCode() throws Exception {
        shimBeforeTheRawRuntime("interceptors: [{type: metrics}]\n");
        MethodDescriptor<byte[], byte[]> status = ShimHarness.rawMethod(CriMethods.STATUS.fullName(),
                MethodDescriptor.MethodType.UNARY);
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(h.channel, status,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {1}))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
        assertThat(h.metrics.scrapeText()).contains(
                "cri_shim_rpc_errors_total{code=\"RESOURCE_EXHAUSTED\",method=\"Status\",origin=\"upstream\"} 1.0");
    }

    @Test
    void aDeadlineThatPassesIsCountedAsDeadlineExceeded() throws Exception {
        h = new ShimHarness(dir);
        FakeCri rt = h.fake("rt");
        rt.on(CriMethods.VERSION, r -> FakeCri.Reply.ok(dev.nodekit.spec.cri.v1.VersionResponse.getDefaultInstance())
                .withDelay(Duration.ofSeconds(3)));
        h.start(Optional.of(rt.endpoint()), null);
        assertThatThrownBy(() -> h.runtime().withDeadlineAfter(200, TimeUnit.MILLISECONDS)
                .version(VersionRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> h.metrics.scrapeText()
                .contains("cri_shim_rpc_errors_total{code=\"DEADLINE_EXCEEDED\",method=\"Version\""));
    }

    @Test
    void grpcMessagesArePercentCodedBothWaysAndTimeoutsRead() {
        String m = "cri-shim: runtime 'ä' at 100% \n";
        assertThat(GrpcHeaders.percentEncode(m)).isEqualTo("cri-shim: runtime '%C3%A4' at 100%25 %0A");
        assertThat(GrpcHeaders.percentDecode(GrpcHeaders.percentEncode(m))).isEqualTo(m);
        assertThat(GrpcHeaders.percentDecode("bad %G1 and %")).isEqualTo("bad %G1 and %");
        assertThat(GrpcHeaders.timeoutNanos("250m")).isEqualTo(TimeUnit.MILLISECONDS.toNanos(250));
        assertThat(GrpcHeaders.timeoutNanos("2S")).isEqualTo(TimeUnit.SECONDS.toNanos(2));
        assertThat(GrpcHeaders.timeoutNanos("12x")).isEqualTo(-1);
        assertThat(GrpcHeaders.timeoutNanos(null)).isEqualTo(-1);
        assertThat(GrpcHeaders.code("0")).isEqualTo(Status.Code.OK);
        assertThat(GrpcHeaders.code("14")).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(GrpcHeaders.code("99")).isEqualTo(Status.Code.UNKNOWN);
        assertThat(GrpcHeaders.code(null)).isEqualTo(Status.Code.UNKNOWN);
    }

    /**
     * A runtime written on raw HTTP/2 frames: Version is answered on the request HEADERS (before the
     * client's DATA), followed by RST_STREAM(NO_ERROR), as grpc-go does when the client has not
     * half-closed yet; ImageFsInfo the same way without the reset; Status is answered with
     * RST_STREAM(ENHANCE_YOUR_CALM).
     */
    /** Starts the go-like raw runtime and a shim with {@code config} in front of it. */
    private void shimBeforeTheRawRuntime(String config) throws Exception {
        Path rt = dir.resolve("go-like.sock");
        startRawRuntime(rt);
        h = new ShimHarness(dir);
        h.start(Optional.of("unix://" + rt), config);
    }

    /** A shim with {@code config} in front of the go-like raw runtime; {@code calls} unary calls of {@code method}, each answered "answer". */
    private void callTheRawRuntime(String config, String method, int calls) throws Exception {
        shimBeforeTheRawRuntime(config);
        MethodDescriptor<byte[], byte[]> m = ShimHarness.rawMethod(method, MethodDescriptor.MethodType.UNARY);
        for (int i = 0; i < calls; i++) {
            byte[] answer = ClientCalls.blockingUnaryCall(h.channel, m,
                    CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {1, 2, 3});
            assertThat(new String(answer, StandardCharsets.US_ASCII)).isEqualTo("answer");
        }
    }

    private void callTheRawRuntimeAgain(String method) {
        MethodDescriptor<byte[], byte[]> m = ShimHarness.rawMethod(method, MethodDescriptor.MethodType.UNARY);
        byte[] answer = ClientCalls.blockingUnaryCall(h.channel, m,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {1, 2, 3});
        assertThat(new String(answer, StandardCharsets.US_ASCII)).isEqualTo("answer");
    }

    /**
     * An HTTP/2 client on raw frames over a blocking unix socket: it sends what it is told, whatever
     * the windows, and reads frames only when asked.
     */
    private static final class RawClient implements AutoCloseable {
        private final java.nio.channels.SocketChannel ch;
        private final io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder hpack =
                new io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder();

        private final ByteBuf out = Unpooled.buffer();

        /** What came back: RST_STREAM codes by stream, and the streams the shim ended (END_STREAM). */
        record Seen(java.util.Map<Integer, Long> resets, java.util.Set<Integer> ended) {
        }

        RawClient(Path socket) throws Exception {
            ch = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(socket));
            out.writeBytes(io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2CodecUtil.connectionPrefaceBuf());
            frame(4, 0, 0, Unpooled.EMPTY_BUFFER); // SETTINGS, none changed
            send();
        }

        /** Queues a HEADERS frame for {@code path} with {@code extra} name/value pairs; {@link #send} writes. */
        void headers(int stream, String path, boolean end, String... extra) throws Exception {
            Http2Headers h = new DefaultHttp2Headers(false).method("POST").scheme("http").path(path)
                    .authority("localhost").set("content-type", "application/grpc").set("te", "trailers");
            for (int i = 0; i + 1 < extra.length; i += 2) {
                h.add(extra[i], extra[i + 1]);
            }
            ByteBuf block = Unpooled.buffer();
            hpack.encodeHeaders(stream, h, block);
            frame(1, 0x4 | (end ? 0x1 : 0), stream, block);
        }

        /** Writes what was queued, in one write. */
        void send() throws Exception {
            java.nio.ByteBuffer nio = out.nioBuffer();
            while (nio.hasRemaining()) {
                ch.write(nio);
            }
            out.clear();
        }

        void data(int stream, byte[] bytes, boolean end) throws Exception {
            frame(0, end ? 0x1 : 0, stream, Unpooled.wrappedBuffer(bytes));
        }

        /** Reads frames until each of {@code streams} was reset or ended by the shim. */
        Seen awaitResetAndEnds(int... streams) {
            return org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                java.util.Map<Integer, Long> resets = new java.util.HashMap<>();
                java.util.Set<Integer> ended = new java.util.HashSet<>();
                while (!java.util.Arrays.stream(streams).allMatch(s -> resets.containsKey(s) || ended.contains(s))) {
                    java.nio.ByteBuffer head = readFully(9);
                    int length = ((head.get(0) & 0xff) << 16) | ((head.get(1) & 0xff) << 8) | (head.get(2) & 0xff);
                    int type = head.get(3);
                    int flags = head.get(4);
                    int id = head.getInt(5) & 0x7fffffff;
                    java.nio.ByteBuffer payload = readFully(length);
                    if (type == 3) {
                        resets.put(id, payload.getInt(0) & 0xffffffffL);
                    } else if ((type == 0 || type == 1) && (flags & 0x1) != 0) {
                        ended.add(id);
                    }
                }
                return new Seen(resets, ended);
            });
        }

        private java.nio.ByteBuffer readFully(int n) throws java.io.IOException {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(n);
            while (b.hasRemaining()) {
                if (ch.read(b) < 0) {
                    throw new java.io.EOFException("the shim closed the connection");
                }
            }
            return b.flip();
        }

        private void frame(int type, int flags, int stream, ByteBuf payload) {
            out.writeMedium(payload.readableBytes()).writeByte(type).writeByte(flags).writeInt(stream).writeBytes(payload);
            payload.release();
        }

        @Override
        public void close() throws Exception {
            ch.close();
        }
    }

    private void startRawRuntime(Path socket) {
        rawLoop = UdsChannels.newEventLoopGroup(1, "raw-runtime");
        rawServer = new ServerBootstrap().group(rawLoop).channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new RawRuntime.Builder().build());
                    }
                })
                .bind(new DomainSocketAddress(socket.toString())).syncUninterruptibly().channel();
    }

    /** The raw runtime's connection handler. */
    private static final class RawRuntime extends Http2ConnectionHandler {
        private final java.util.Set<Integer> held = new java.util.HashSet<>();

        RawRuntime(io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionDecoder decoder,
                io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionEncoder encoder,
                io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Settings settings) {
            super(decoder, encoder, settings);
            decoder.frameListener(new Http2FrameAdapter() {
                @Override
                public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                        boolean endOfStream) {
                    if (headers.path().toString().endsWith("/Hold")) {
                        held.add(streamId); // neither answered nor read: its window fills
                        return;
                    }
                    boolean reset = !headers.path().toString().endsWith("/ImageFsInfo");
                    if (headers.path().toString().endsWith("/Status")) {
                        encoder().writeRstStream(ctx, streamId, Http2Error.ENHANCE_YOUR_CALM.code(), ctx.newPromise());
                        ctx.flush();
                        return;
                    }
                    Http2Headers h = new DefaultHttp2Headers().status("200").set("content-type", "application/grpc");
                    encoder().writeHeaders(ctx, streamId, h, 0, false, ctx.newPromise());
                    byte[] msg = "answer".getBytes(StandardCharsets.US_ASCII);
                    ByteBuf framed = Unpooled.buffer().writeByte(0).writeInt(msg.length).writeBytes(msg);
                    encoder().writeData(ctx, streamId, framed, 0, false, ctx.newPromise());
                    encoder().writeHeaders(ctx, streamId, new DefaultHttp2Headers().set("grpc-status", "0"), 0, true,
                            ctx.newPromise());
                    flush(ctx); // the queued DATA and trailers first: a reset written now would overtake them
                    if (reset) {
                        encoder().writeRstStream(ctx, streamId, Http2Error.NO_ERROR.code(), ctx.newPromise());
                    }
                    ctx.flush();
                }

                @Override
                public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers,
                        int streamDependency, short weight, boolean exclusive, int padding, boolean endOfStream) {
                    onHeadersRead(ctx, streamId, headers, padding, endOfStream);
                }

                @Override
                public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
                        boolean endOfStream) {
                    return held.contains(streamId) ? 0 : data.readableBytes() + padding;
                }
            });
        }

        /** Builds it. */
        static final class Builder
                extends io.grpc.netty.shaded.io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder<RawRuntime, Builder> {
            @Override
            protected RawRuntime build() {
                return super.build();
            }

            @Override
            protected RawRuntime build(io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionDecoder decoder,
                    io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionEncoder encoder,
                    io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Settings initialSettings) {
                return new RawRuntime(decoder, encoder, initialSettings);
            }
        }
    }
}
