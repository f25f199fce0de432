package dev.nodekit.csi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.nodekit.common.grpc.InterceptorOptions;
import dev.nodekit.common.grpc.StandardInterceptors;
import dev.nodekit.common.metrics.Metrics;
import dev.nodekit.common.mount.Mounter;
import dev.nodekit.common.testing.FakeMountTable;
import dev.nodekit.common.testing.RecordingCommandRunner;
import dev.nodekit.spec.csi.v1.ControllerGrpc;
import dev.nodekit.spec.csi.v1.IdentityGrpc;
import dev.nodekit.spec.csi.v1.NodeGrpc;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import dev.nodekit.spec.csi.v1.VolumeCapability.AccessMode.Mode;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;

/**
 * The three services on a {@link FakeBackend} and a {@link FakeNodeHost}, served in-process behind
 * the production interceptor chain, on a thread pool so concurrent calls really overlap.
 */
final class TestDriver implements AutoCloseable {
    static final String NODE = "node-a";
    static final String TOPOLOGY_KEY = "topology.local.csi.nodekit.dev/node";

    final Path root;
    final FakeBackend backend;
    final RecordingCommandRunner runner = new RecordingCommandRunner();
    final FakeMountTable table = FakeMountTable.withRoot();
    final FakeNodeHost host;
    final Metrics metrics = Metrics.create();
    final WorkLimiter limiter;
    final CsiControllerService controllerService;
    final CsiNodeService nodeService;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Server server;
    private final ManagedChannel channel;

    TestDriver(Path root) throws IOException {
        this(root, 4);
    }

    TestDriver(Path root, int heavyLimit) throws IOException {
        this.root = root;
        Files.createDirectories(root);
        backend = new FakeBackend(NODE, root.resolve("dev"));
        host = new FakeNodeHost(backend, table, runner);
        limiter = new WorkLimiter(heavyLimit, Duration.ofSeconds(30), metrics);
        Topology topology = new Topology(TOPOLOGY_KEY, NODE);
        controllerService = new CsiControllerService(backend, topology, limiter, Duration.ZERO);
        nodeService = new CsiNodeService(backend, NODE, 16, topology, new Mounter(runner, table.mounts()),
                table.mounts(), new Filesystems(runner), limiter);
        Supplier<CsiIdentityService.Health> health = () -> backend.health().healthy()
                ? new CsiIdentityService.Health.Ready()
                : new CsiIdentityService.Health.Unhealthy(backend.health().message());
        CsiIdentityService identity = new CsiIdentityService("local.csi.nodekit.dev", "0.0.0-test",
                CsiIdentityService.driverCapabilities(true), health);
        String name = InProcessServerBuilder.generateName();
        var interceptors = StandardInterceptors.standard(metrics,
                InterceptorOptions.defaults().withQuietMethods("csi.v1.Identity/Probe"));
        server = InProcessServerBuilder.forName(name).executor(executor)
                .addService(ServerInterceptors.interceptForward(identity, interceptors))
                .addService(ServerInterceptors.interceptForward(controllerService, interceptors))
                .addService(ServerInterceptors.interceptForward(nodeService, interceptors))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).executor(executor).build();
    }

    ControllerGrpc.ControllerBlockingStub controller() {
        return ControllerGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    NodeGrpc.NodeBlockingStub node() {
        return NodeGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    IdentityGrpc.IdentityBlockingStub identity() {
        return IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    /** The command lines run so far whose argv[0] is one of {@code programs}. */
    List<List<String>> ran(String... programs) {
        List<String> p = List.of(programs);
        return runner.argvs().stream().filter(a -> p.contains(a.get(0))).toList();
    }

    static VolumeCapability mount(String fs, Mode mode, String... flags) {
        return VolumeCapability.newBuilder()
                .setMount(VolumeCapability.MountVolume.newBuilder().setFsType(fs).addAllMountFlags(List.of(flags)))
                .setAccessMode(VolumeCapability.AccessMode.newBuilder().setMode(mode)).build();
    }

    static VolumeCapability mount() {
        return mount("ext4", Mode.SINGLE_NODE_WRITER);
    }

    static VolumeCapability block(Mode mode) {
        return VolumeCapability.newBuilder().setBlock(VolumeCapability.BlockVolume.getDefaultInstance())
                .setAccessMode(VolumeCapability.AccessMode.newBuilder().setMode(mode)).build();
    }

    @Override
    public void close() {
        channel.shutdownNow();
        server.shutdownNow();
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
