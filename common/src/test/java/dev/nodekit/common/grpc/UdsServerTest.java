package dev.nodekit.common.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.metrics.Metrics;
import dev.nodekit.spec.csi.v1.GetPluginInfoRequest;
import dev.nodekit.spec.csi.v1.IdentityGrpc;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;

class UdsServerTest {
    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private UdsServer started(UdsServer.Builder b) throws Exception {
        UdsServer s = b.shutdownHook(false).shutdownGrace(Duration.ofSeconds(2)).build().start();
        cleanup.add(s);
        return s;
    }

    private static UdsServer.Builder identity(Path socket) {
        return UdsServer.builder(socket).addService(new TestServices.SlowIdentity(0))
                .interceptors(StandardInterceptors.standard(Metrics.create(), InterceptorOptions.defaults()));
    }

    private ManagedChannel channel(Path socket) {
        ManagedChannel c = UdsChannels.forTarget("unix://" + socket);
        cleanup.add(() -> c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        return c;
    }

    private String pluginName(Path socket) {
        return IdentityGrpc.newBlockingStub(channel(socket)).withDeadlineAfter(30, TimeUnit.SECONDS)
                .getPluginInfo(GetPluginInfoRequest.getDefaultInstance()).getName();
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void servesOverTheSocketWithMode0660AndRemovesItOnClose() throws Exception {
        Path socket = dir.resolve("csi.sock");
        UdsServer server = started(identity(socket));
        assertThat(server.socketPath()).isEqualTo(socket);
        assertThat(UdsServer.fileKind(socket)).isEqualTo("socket");
        assertThat(mode(socket)).isEqualTo("rw-rw----");
        assertThat(pluginName(socket)).isEqualTo(TestServices.PLUGIN_NAME);

        server.close();
        assertThat(server.isTerminated()).isTrue();
        assertThat(socket).doesNotExist();
        assertThatThrownBy(() -> pluginName(socket)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        server.close(); // idempotent
    }

    @Test
    void socketModeIsConfigurable() throws Exception {
        Path socket = dir.resolve("private.sock");
        started(identity(socket).socketMode("0600"));
        assertThat(mode(socket)).isEqualTo("rw-------");
        assertThat(pluginName(socket)).isEqualTo(TestServices.PLUGIN_NAME);

        Path open = dir.resolve("open.sock");
        started(identity(open).socketMode("666")); // the leading 0 is optional
        assertThat(mode(open)).isEqualTo("rw-rw-rw-");
    }

    @Test
    void missingParentDirectoriesAreCreatedWith0750() throws Exception {
        Path socket = dir.resolve("plugins/nodekit.dev/csi.sock");
        started(identity(socket));
        assertThat(mode(dir.resolve("plugins"))).isEqualTo("rwxr-x---");
        assertThat(mode(dir.resolve("plugins/nodekit.dev"))).isEqualTo("rwxr-x---");
        assertThat(pluginName(socket)).isEqualTo(TestServices.PLUGIN_NAME);
    }

    @Test
    void aStaleSocketNobodyListensOnIsReplaced() throws Exception {
        Path socket = dir.resolve("stale.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        } // closed: the file stays behind, as after a crash
        assertThat(UdsServer.fileKind(socket)).isEqualTo("socket");
        assertThat(UdsServer.isServed(socket)).isFalse();

        started(identity(socket));
        assertThat(pluginName(socket)).isEqualTo(TestServices.PLUGIN_NAME);
    }

    @Test
    void aSocketSomeoneServesIsNeverTakenOver() throws Exception {
        Path socket = dir.resolve("live.sock");
        try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            live.bind(UnixDomainSocketAddress.of(socket));
            Object before = Files.readAttributes(socket, BasicFileAttributes.class).fileKey();
            assertThatThrownBy(() -> identity(socket).shutdownHook(false).build().start())
                    .isInstanceOfSatisfying(UdsServerException.class, e -> {
                        assertThat(e.socketPath()).isEqualTo(socket);
                        assertThat(e).hasMessageContaining("another process is accepting connections");
                    });
            assertThat(Files.readAttributes(socket, BasicFileAttributes.class).fileKey()).isEqualTo(before);
        }
    }

    @Test
    void aSecondServerOnTheSamePathFailsAndTheFirstKeepsServing() throws Exception {
        Path socket = dir.resolve("csi.sock");
        started(identity(socket));
        UdsServer second = identity(socket).shutdownHook(false).build();
        assertThatThrownBy(second::start).isInstanceOf(UdsServerException.class)
                .hasMessageContaining("refusing to take it over");
        assertThat(pluginName(socket)).isEqualTo(TestServices.PLUGIN_NAME);
    }

    @Test
    void aRegularFileOrDirectoryAtThePathIsNeverReplaced() throws Exception {
        Path file = dir.resolve("file.sock");
        Files.writeString(file, "not a socket");
        assertThatThrownBy(() -> identity(file).shutdownHook(false).build().start())
                .isInstanceOf(UdsServerException.class).hasMessageContaining("is a regular file, not a unix socket");
        assertThat(file).hasContent("not a socket");

        Path directory = Files.createDirectory(dir.resolve("dir.sock"));
        assertThatThrownBy(() -> identity(directory).shutdownHook(false).build().start())
                .isInstanceOf(UdsServerException.class).hasMessageContaining("is a directory");
        assertThat(directory).isDirectory();

        Path link = Files.createSymbolicLink(dir.resolve("link.sock"), file);
        assertThatThrownBy(() -> identity(link).shutdownHook(false).build().start())
                .isInstanceOf(UdsServerException.class).hasMessageContaining("symbolic link");
        assertThat(file).hasContent("not a socket");
    }

    @Test
    void messagesUpTo16MiBAreAcceptedAndLargerOnesRejected() throws Exception {
        Path socket = dir.resolve("big.sock");
        started(UdsServer.builder(socket).addService(TestServices.bytesService()));
        ManagedChannel c = channel(socket);
        int limit = UdsChannels.MAX_MESSAGE_BYTES;
        assertThat(limit).isEqualTo(16 * 1024 * 1024);

        byte[] answer = ClientCalls.blockingUnaryCall(c, TestServices.SIZE,
                CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[limit]);
        assertThat(ByteBuffer.wrap(answer).getInt()).isEqualTo(limit);

        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(c, TestServices.SIZE,
                CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[limit + 1]))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    }

    @Test
    void builderRejectsBadSettingsWithClearMessages() {
        assertThatThrownBy(() -> UdsServer.builder(Path.of("relative.sock")))
                .hasMessageContaining("must be absolute");
        assertThatThrownBy(() -> UdsServer.builder(Path.of("/tmp/" + "x".repeat(120) + ".sock")))
                .hasMessageContaining("at most 107");
        assertThatThrownBy(() -> identity(dir.resolve("a.sock")).socketMode("rw-rw----"))
                .hasMessageContaining("octal");
        assertThatThrownBy(() -> identity(dir.resolve("a.sock")).socketMode("0668"))
                .hasMessageContaining("octal");
        assertThatThrownBy(() -> identity(dir.resolve("a.sock")).socketMode("4755"))
                .hasMessageContaining("octal");
        assertThatThrownBy(() -> UdsServer.builder(dir.resolve("a.sock")).build())
                .hasMessageContaining("at least one service");
        assertThatThrownBy(() -> identity(dir.resolve("a.sock")).shutdownGrace(Duration.ofSeconds(-1)))
                .hasMessageContaining("negative");
    }

    @Test
    void aFallbackRegistryAnswersAnyMethodOnTheIoThreadsAndRunsTheInterceptors() throws Exception {
        Path socket = dir.resolve("fallback.sock");
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        io.grpc.HandlerRegistry echo = new io.grpc.HandlerRegistry() {
            @Override
            public io.grpc.ServerMethodDefinition<?, ?> lookupMethod(String name, String authority) {
                MethodDescriptor<byte[], byte[]> m = MethodDescriptor.<byte[], byte[]>newBuilder()
                        .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName(name)
                        .setRequestMarshaller(TestServices.RAW).setResponseMarshaller(TestServices.RAW).build();
                return io.grpc.ServerMethodDefinition.create(m, ServerCalls.asyncUnaryCall((byte[] req,
                        io.grpc.stub.StreamObserver<byte[]> out) -> {
                    threads.add(Thread.currentThread().getName());
                    out.onNext(req);
                    out.onCompleted();
                }));
            }
        };
        io.grpc.ServerInterceptor record = new io.grpc.ServerInterceptor() {
            @Override
            public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call,
                    io.grpc.Metadata headers, io.grpc.ServerCallHandler<Q, R> next) {
                seen.add(call.getMethodDescriptor().getFullMethodName());
                return next.startCall(call, headers);
            }
        };
        started(UdsServer.builder(socket).fallbackHandlerRegistry(echo).directExecutor(true)
                .interceptors(List.of(record)));
        MethodDescriptor<byte[], byte[]> any = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("some.future.Service/NewCall")
                .setRequestMarshaller(TestServices.RAW).setResponseMarshaller(TestServices.RAW).build();
        byte[] answer = ClientCalls.blockingUnaryCall(channel(socket), any,
                CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[] {1, 2, 3});
        assertThat(answer).containsExactly(1, 2, 3);
        assertThat(seen).containsExactly("some.future.Service/NewCall");
        assertThat(threads).singleElement().asString().contains("-io-");
    }

    @Test
    void startingTwiceIsAnError() throws Exception {
        UdsServer s = started(identity(dir.resolve("twice.sock")));
        assertThatThrownBy(s::start).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shutdownOfANeverStartedServerJustTerminates() throws Exception {
        UdsServer s = identity(dir.resolve("never.sock")).build();
        s.close();
        assertThat(s.awaitTermination(Duration.ofMillis(1))).isTrue();
        assertThat(dir.resolve("never.sock")).doesNotExist();
    }
}
