package dev.nodekit.conformance.csi;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.spec.csi.v1.ControllerGrpc;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.ControllerGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.GetPluginCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.IdentityGrpc;
import dev.nodekit.spec.csi.v1.NodeGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.NodeGrpc;
import dev.nodekit.spec.csi.v1.NodeServiceCapability;
import dev.nodekit.spec.csi.v1.PluginCapability;
import io.grpc.Channel;
import io.grpc.ManagedChannel;

/**
 * A CSI plugin under test: the endpoint(s) and what the run may use (staging and target dirs,
 * StorageClass parameters, secrets, volume size, access type). Stubs carry a per-call deadline so
 * a hung plugin fails a check instead of hanging the run.
 */
public final class CsiTarget implements AutoCloseable {
    /** Mount or raw block volumes. */
    public enum AccessType { MOUNT, BLOCK }

    /** What the run is told about the plugin. */
    public record Config(String endpoint, Optional<String> controllerEndpoint, Path stagingDir, Path targetDir,
            Map<String, String> params, Map<String, String> secrets, long volumeSize, AccessType accessType,
            String fsType, Duration callTimeout) {
        public Config {
            Objects.requireNonNull(endpoint, "endpoint");
            Objects.requireNonNull(controllerEndpoint, "controllerEndpoint");
            Objects.requireNonNull(stagingDir, "stagingDir");
            Objects.requireNonNull(targetDir, "targetDir");
            params = Map.copyOf(params);
            secrets = Map.copyOf(secrets);
            if (volumeSize <= 0) {
                throw new IllegalArgumentException("--volume-size must be positive, got " + volumeSize);
            }
            Objects.requireNonNull(accessType, "accessType");
            Objects.requireNonNull(fsType, "fsType");
            Objects.requireNonNull(callTimeout, "callTimeout");
        }

        /** Defaults for an endpoint: dirs under the temp dir, 1 GiB mount volumes, ext4, 60 s per call. */
        public static Config of(String endpoint) {
            Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
            return new Config(endpoint, Optional.empty(), tmp.resolve("nodekit-csi-staging"),
                    tmp.resolve("nodekit-csi-target"), Map.of(), Map.of(), 1L << 30, AccessType.MOUNT, "ext4",
                    Duration.ofSeconds(60));
        }
    }

    private final Config config;
    private final Channel node;
    private final Channel controller;
    private final List<ManagedChannel> owned;

    private CsiTarget(Config config, Channel node, Channel controller, List<ManagedChannel> owned) {
        this.config = config;
        this.node = node;
        this.controller = controller;
        this.owned = owned;
    }

    /** Connects to the endpoint(s) of {@code config} over unix sockets. */
    public static CsiTarget connect(Config config) {
        ManagedChannel n = UdsChannels.forTarget(config.endpoint());
        if (config.controllerEndpoint().isEmpty()) {
            return new CsiTarget(config, n, n, List.of(n));
        }
        ManagedChannel c = UdsChannels.forTarget(config.controllerEndpoint().get());
        return new CsiTarget(config, n, c, List.of(n, c));
    }

    /** A target on existing channels (tests; the caller closes them). */
    public static CsiTarget of(Config config, Channel node, Channel controller) {
        return new CsiTarget(config, node, controller, List.of());
    }

    public Config config() {
        return config;
    }

    /** Identity on the node endpoint (every CSI process serves Identity). */
    public IdentityGrpc.IdentityBlockingStub identity() {
        return IdentityGrpc.newBlockingStub(node).withDeadlineAfter(config.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Identity on the controller endpoint. */
    public IdentityGrpc.IdentityBlockingStub controllerIdentity() {
        return IdentityGrpc.newBlockingStub(controller)
                .withDeadlineAfter(config.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    public ControllerGrpc.ControllerBlockingStub controller() {
        return ControllerGrpc.newBlockingStub(controller)
                .withDeadlineAfter(config.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    public NodeGrpc.NodeBlockingStub node() {
        return NodeGrpc.newBlockingStub(node).withDeadlineAfter(config.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The plugin capabilities as the plugin reports them now. */
    public List<PluginCapability> pluginCapabilities() {
        return identity().getPluginCapabilities(GetPluginCapabilitiesRequest.getDefaultInstance()).getCapabilitiesList();
    }

    /** True when the plugin advertises the plugin service capability {@code s}. */
    public boolean hasService(PluginCapability.Service.Type s) {
        return pluginCapabilities().stream().anyMatch(c -> c.hasService() && c.getService().getType() == s);
    }

    /** True when the controller advertises {@code rpc}. */
    public boolean hasController(ControllerServiceCapability.RPC.Type rpc) {
        return controller().controllerGetCapabilities(ControllerGetCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList().stream().anyMatch(c -> c.hasRpc() && c.getRpc().getType() == rpc);
    }

    /** True when the node service advertises {@code rpc}. */
    public boolean hasNode(NodeServiceCapability.RPC.Type rpc) {
        return node().nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList().stream().anyMatch(c -> c.hasRpc() && c.getRpc().getType() == rpc);
    }

    @Override
    public void close() {
        for (ManagedChannel c : owned) {
            c.shutdownNow();
        }
        for (ManagedChannel c : owned) {
            try {
                c.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
