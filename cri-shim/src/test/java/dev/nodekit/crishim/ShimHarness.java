package dev.nodekit.crishim;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.common.metrics.Metrics;
import dev.nodekit.spec.cri.v1.ImageServiceGrpc;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;

/** A shim on a temp socket in front of fakes, with clients; closes everything it started. */
final class ShimHarness implements AutoCloseable {
    final Path dir;
    final Metrics metrics = Metrics.create();
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    final CriShimConfig.PassThrough mode;
    CriShim shim;
    ManagedChannel channel;

    /** A harness whose shims run in {@code mode} whatever their config says. */
    ShimHarness(Path dir, CriShimConfig.PassThrough mode) {
        this.dir = dir;
        this.mode = mode;
    }

    ShimHarness(Path dir) {
        this(dir, CriShimConfig.PassThrough.FRAMES);
    }

    Path socket(String name) {
        return dir.resolve(name + ".sock");
    }

    FakeCri fake(String name) throws Exception {
        FakeCri f = FakeCri.start(name, socket(name));
        cleanup.add(f);
        return f;
    }

    /** Starts a shim on {@code shim.sock} with the config text (YAML), for one --upstream or upstreams: in the text. */
    CriShim start(Optional<String> upstream, String yaml) throws Exception {
        CriShimConfig cfg = yaml == null
                ? CriShimConfig.of(socket("shim"), upstream.orElseThrow())
                : CriShimConfig.fromText(socket("shim"), upstream, "test-config.yaml", yaml, null, Duration.ofSeconds(1));
        return start(cfg);
    }

    CriShim start(CriShimConfig config) throws Exception {
        CriShimConfig cfg = config.withPassThrough(mode);
        shim = CriShim.start(cfg, metrics, Clock.systemUTC(), false, List.of(new TestInterceptors.Provider()));
        if (channel == null) {
            channel = UdsChannels.forTarget("unix://" + cfg.listen());
            cleanup.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        }
        return shim;
    }

    void restartShim() throws Exception {
        CriShimConfig cfg = shim.config();
        shim.close();
        start(cfg);
    }

    RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime() {
        return RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    ImageServiceGrpc.ImageServiceBlockingStub images() {
        return ImageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    byte[] raw(MethodDescriptor<byte[], byte[]> m, byte[] request) {
        return ClientCalls.blockingUnaryCall(channel, m, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS),
                request);
    }

    static MethodDescriptor<byte[], byte[]> rawMethod(String fullName, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setFullMethodName(fullName).setType(type)
                .setRequestMarshaller(RawMarshaller.INSTANCE).setResponseMarshaller(RawMarshaller.INSTANCE).build();
    }

    @Override
    public void close() {
        if (shim != null) {
            shim.close();
        }
        try {
            for (int i = cleanup.size() - 1; i >= 0; i--) {
                cleanup.get(i).close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while cleaning up", e);
        } catch (Exception e) {
            throw new IllegalStateException("cleanup failed: " + e, e);
        } finally {
            TestInterceptors.clear();
        }
    }
}
