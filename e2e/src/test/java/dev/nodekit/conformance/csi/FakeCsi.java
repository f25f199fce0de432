package dev.nodekit.conformance.csi;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

import dev.nodekit.spec.csi.v1.ControllerGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.ControllerGetCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.ControllerGrpc;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.GetPluginCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.GetPluginCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.GetPluginInfoRequest;
import dev.nodekit.spec.csi.v1.GetPluginInfoResponse;
import dev.nodekit.spec.csi.v1.IdentityGrpc;
import dev.nodekit.spec.csi.v1.NodeGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.NodeGetCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.NodeGetInfoRequest;
import dev.nodekit.spec.csi.v1.NodeGetInfoResponse;
import dev.nodekit.spec.csi.v1.NodeGrpc;
import dev.nodekit.spec.csi.v1.NodeServiceCapability;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.spec.csi.v1.ProbeRequest;
import dev.nodekit.spec.csi.v1.ProbeResponse;
import dev.nodekit.spec.csi.v1.Topology;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;

/**
 * A CSI plugin made of answer functions, healthy by default, for injecting one defect at a time
 * into the conformance checks. Runs in-process.
 */
final class FakeCsi implements AutoCloseable {
    Supplier<GetPluginInfoResponse> info = () -> GetPluginInfoResponse.newBuilder()
            .setName("fake.csi.nodekit.dev").setVendorVersion("1.0.0").build();
    Supplier<List<PluginCapability>> pluginCaps = () -> List.of(service(PluginCapability.Service.Type.CONTROLLER_SERVICE),
            service(PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS),
            PluginCapability.newBuilder().setVolumeExpansion(PluginCapability.VolumeExpansion.newBuilder()
                    .setType(PluginCapability.VolumeExpansion.Type.ONLINE)).build());
    Supplier<ProbeResponse> probe = () -> ProbeResponse.getDefaultInstance();
    Supplier<List<ControllerServiceCapability.RPC.Type>> controllerCaps =
            () -> List.of(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME,
                    ControllerServiceCapability.RPC.Type.EXPAND_VOLUME);
    Supplier<List<NodeServiceCapability.RPC.Type>> nodeCaps =
            () -> List.of(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME);
    Supplier<NodeGetInfoResponse> nodeInfo = () -> NodeGetInfoResponse.newBuilder().setNodeId("node-1")
            .setAccessibleTopology(Topology.newBuilder().putSegments("topology.nodekit.dev/node", "node-1")).build();

    private final List<Server> servers = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();

    static PluginCapability service(PluginCapability.Service.Type t) {
        return PluginCapability.newBuilder().setService(PluginCapability.Service.newBuilder().setType(t)).build();
    }

    /** Serves the fake (or {@code identity} instead of the fake Identity) and returns a target for it. */
    CsiTarget target(Optional<BindableService> identity) throws Exception {
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder b = InProcessServerBuilder.forName(name).directExecutor();
        b.addService(identity.orElseGet(this::identityService));
        b.addService(controllerService());
        b.addService(nodeService());
        servers.add(b.build().start());
        ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
        channels.add(ch);
        CsiTarget.Config config = new CsiTarget.Config("unix:///fake.sock", Optional.empty(), java.nio.file.Path.of("/tmp/s"),
                java.nio.file.Path.of("/tmp/t"), Map.of(), Map.of(), 1 << 30, CsiTarget.AccessType.MOUNT, "ext4",
                Duration.ofSeconds(5)); // 1 s was too tight for a first call on a loaded 2-core CI machine
        return CsiTarget.of(config, ch, ch);
    }

    CsiTarget target() throws Exception {
        return target(Optional.empty());
    }

    private static <T> void answer(StreamObserver<T> out, Supplier<T> s) {
        try {
            out.onNext(s.get());
            out.onCompleted();
        } catch (StatusRuntimeException e) {
            out.onError(e);
        }
    }

    private BindableService identityService() {
        return new IdentityGrpc.IdentityImplBase() {
            @Override
            public void getPluginInfo(GetPluginInfoRequest request, StreamObserver<GetPluginInfoResponse> out) {
                answer(out, info);
            }

            @Override
            public void getPluginCapabilities(GetPluginCapabilitiesRequest request,
                    StreamObserver<GetPluginCapabilitiesResponse> out) {
                answer(out, () -> GetPluginCapabilitiesResponse.newBuilder().addAllCapabilities(pluginCaps.get()).build());
            }

            @Override
            public void probe(ProbeRequest request, StreamObserver<ProbeResponse> out) {
                answer(out, probe);
            }
        };
    }

    private BindableService controllerService() {
        Function<ControllerServiceCapability.RPC.Type, ControllerServiceCapability> cap = t -> ControllerServiceCapability
                .newBuilder().setRpc(ControllerServiceCapability.RPC.newBuilder().setType(t)).build();
        return new ControllerGrpc.ControllerImplBase() {
            @Override
            public void controllerGetCapabilities(ControllerGetCapabilitiesRequest request,
                    StreamObserver<ControllerGetCapabilitiesResponse> out) {
                answer(out, () -> ControllerGetCapabilitiesResponse.newBuilder()
                        .addAllCapabilities(controllerCaps.get().stream().map(cap).toList()).build());
            }
        };
    }

    private BindableService nodeService() {
        Function<NodeServiceCapability.RPC.Type, NodeServiceCapability> cap = t -> NodeServiceCapability.newBuilder()
                .setRpc(NodeServiceCapability.RPC.newBuilder().setType(t)).build();
        return new NodeGrpc.NodeImplBase() {
            @Override
            public void nodeGetCapabilities(NodeGetCapabilitiesRequest request,
                    StreamObserver<NodeGetCapabilitiesResponse> out) {
                answer(out, () -> NodeGetCapabilitiesResponse.newBuilder()
                        .addAllCapabilities(nodeCaps.get().stream().map(cap).toList()).build());
            }

            @Override
            public void nodeGetInfo(NodeGetInfoRequest request, StreamObserver<NodeGetInfoResponse> out) {
                answer(out, nodeInfo);
            }
        };
    }

    @Override
    public void close() {
        channels.forEach(ManagedChannel::shutdownNow);
        servers.forEach(Server::shutdownNow);
    }
}
