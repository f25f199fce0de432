package dev.nodekit.conformance.csi;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.conformance.CheckSkipped;
import dev.nodekit.spec.csi.v1.CapacityRange;
import dev.nodekit.spec.csi.v1.ControllerGrpc;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.ControllerGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.DeleteVolumeRequest;
import dev.nodekit.spec.csi.v1.GetPluginCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.IdentityGrpc;
import dev.nodekit.spec.csi.v1.NodeGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.NodeGetInfoRequest;
import dev.nodekit.spec.csi.v1.NodeGetInfoResponse;
import dev.nodekit.spec.csi.v1.NodeGrpc;
import dev.nodekit.spec.csi.v1.NodeServiceCapability;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.spec.csi.v1.TopologyRequirement;
import dev.nodekit.spec.csi.v1.Volume;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import io.grpc.Channel;
import io.grpc.ManagedChannel;

/**
 * A CSI plugin under test: the endpoint(s) and what the run may use (staging and target dirs,
 * StorageClass parameters, secrets, volume size, access type). Stubs carry a per-call deadline so
 * a hung plugin fails a check instead of hanging the run.
 *
 * <p>Besides the stubs it offers what every check needs to talk to a plugin the way a CO does:
 * the {@link VolumeCapability} of the run ({@link #capability}), a default {@link CreateVolumeRequest}
 * that carries the run's parameters, secrets and the node's topology ({@link #createVolumeRequest}),
 * unique names ({@link #uniqueName}), capability gates that skip with the capability's name
 * ({@link #requireController}, {@link #requireNode}) and {@link #withVolume}, which creates a
 * uniquely named volume and always deletes it. The run's secrets go with every request that has a
 * {@code secrets} field; they are never logged or printed.
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

    /** The run's secrets, sent with every request that carries a {@code secrets} field. */
    public Map<String, String> secrets() {
        return config.secrets();
    }

    /**
     * A unique request name: {@code prefix}, a dash and 12 random hex digits (e.g.
     * {@code csi-create-3f9a0c2b71de}); unique enough that runs against a shared plugin never collide.
     */
    public String uniqueName(String prefix) {
        byte[] b = new byte[6];
        ThreadLocalRandom.current().nextBytes(b);
        return prefix + "-" + HexFormat.of().formatHex(b);
    }

    /**
     * A unique name of exactly {@code bytes} UTF-8 bytes (CSI names may be up to 128 bytes; csi-sanity
     * sends a 128-byte one), starting with {@code prefix}.
     */
    public String uniqueNameOfLength(String prefix, int bytes) {
        String base = uniqueName(prefix);
        int have = base.getBytes(StandardCharsets.UTF_8).length;
        if (have > bytes) {
            throw new IllegalArgumentException("prefix too long for a " + bytes + "-byte name");
        }
        return base + "x".repeat(bytes - have);
    }

    /** A capability of the run's access type (mount with the run's fs type, or block) and {@code mode}. */
    public VolumeCapability capability(VolumeCapability.AccessMode.Mode mode) {
        return capability(config.accessType(), mode);
    }

    /** A capability of access type {@code type} (mount volumes get the run's fs type) and {@code mode}. */
    public VolumeCapability capability(AccessType type, VolumeCapability.AccessMode.Mode mode) {
        VolumeCapability.Builder b = VolumeCapability.newBuilder()
                .setAccessMode(VolumeCapability.AccessMode.newBuilder().setMode(mode));
        if (type == AccessType.BLOCK) {
            b.setBlock(VolumeCapability.BlockVolume.getDefaultInstance());
        } else {
            b.setMount(VolumeCapability.MountVolume.newBuilder().setFsType(config.fsType()));
        }
        return b.build();
    }

    /** The run's capability with SINGLE_NODE_WRITER, the mode csi-sanity and Kubernetes' RWO use. */
    public VolumeCapability capability() {
        return capability(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER);
    }

    /**
     * A CreateVolume request as a CO sends it: {@code name}, the run's capability, {@code required_bytes}
     * = the run's volume size, the run's parameters and secrets, and, when the plugin advertises
     * VOLUME_ACCESSIBILITY_CONSTRAINTS, the node's topology as requisite and preferred (the test volume
     * must be usable on this node).
     */
    public CreateVolumeRequest.Builder createVolumeRequest(String name) {
        CreateVolumeRequest.Builder b = CreateVolumeRequest.newBuilder().setName(name)
                .addVolumeCapabilities(capability())
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(config.volumeSize()))
                .putAllParameters(config.params())
                .putAllSecrets(config.secrets());
        if (hasService(PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS)) {
            NodeGetInfoResponse info = node().nodeGetInfo(NodeGetInfoRequest.getDefaultInstance());
            if (info.hasAccessibleTopology()) {
                b.setAccessibilityRequirements(TopologyRequirement.newBuilder()
                        .addRequisite(info.getAccessibleTopology()).addPreferred(info.getAccessibleTopology()));
            }
        }
        return b;
    }

    /** Something done with a volume that {@link #withVolume} creates and deletes. */
    @FunctionalInterface
    public interface VolumeBody<R> {
        R run(Volume volume) throws Exception;
    }

    /**
     * Creates a uniquely named volume with the default request, runs {@code body} and deletes the
     * volume in {@code finally}, whatever happened.
     */
    public <R> R withVolume(String prefix, VolumeBody<R> body) throws Exception {
        Volume v = controller().createVolume(createVolumeRequest(uniqueName(prefix)).build()).getVolume();
        Throwable failure = null;
        try {
            return body.run(v);
        } catch (Exception | Error e) {
            failure = e;
            throw e;
        } finally {
            try {
                controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(v.getVolumeId())
                        .putAllSecrets(config.secrets()).build());
            } catch (RuntimeException e) {
                if (failure == null) {
                    throw e;
                }
                failure.addSuppressed(e);
            }
        }
    }

    /** Skips the check unless the plugin advertises CONTROLLER_SERVICE and every controller RPC in {@code rpcs}. */
    public void requireController(ControllerServiceCapability.RPC.Type... rpcs) {
        if (!hasService(PluginCapability.Service.Type.CONTROLLER_SERVICE)) {
            throw new CheckSkipped("plugin does not advertise CONTROLLER_SERVICE");
        }
        List<ControllerServiceCapability.RPC.Type> have = controllerCapabilities();
        for (ControllerServiceCapability.RPC.Type rpc : rpcs) {
            if (!have.contains(rpc)) {
                throw new CheckSkipped("controller does not advertise " + rpc);
            }
        }
    }

    /** Skips the check unless the node service advertises every RPC in {@code rpcs}. */
    public void requireNode(NodeServiceCapability.RPC.Type... rpcs) {
        List<NodeServiceCapability.RPC.Type> have = nodeCapabilities();
        for (NodeServiceCapability.RPC.Type rpc : rpcs) {
            if (!have.contains(rpc)) {
                throw new CheckSkipped("node does not advertise " + rpc);
            }
        }
    }

    /** The controller RPC capabilities as the plugin reports them now. */
    public List<ControllerServiceCapability.RPC.Type> controllerCapabilities() {
        return controller().controllerGetCapabilities(ControllerGetCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList().stream().filter(ControllerServiceCapability::hasRpc)
                .map(c -> c.getRpc().getType()).toList();
    }

    /** The node RPC capabilities as the plugin reports them now. */
    public List<NodeServiceCapability.RPC.Type> nodeCapabilities() {
        return node().nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList().stream().filter(NodeServiceCapability::hasRpc)
                .map(c -> c.getRpc().getType()).toList();
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
