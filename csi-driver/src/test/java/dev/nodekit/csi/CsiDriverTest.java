package dev.nodekit.csi;

import static dev.nodekit.csi.Statuses.expect;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.common.metrics.Metrics;
import dev.nodekit.common.testing.FakeMountTable;
import dev.nodekit.common.testing.RecordingCommandRunner;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.Health;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.ImageSpec;
import dev.nodekit.spec.csi.v1.ControllerGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.ControllerGrpc;
import dev.nodekit.spec.csi.v1.GetPluginCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.GetPluginInfoRequest;
import dev.nodekit.spec.csi.v1.IdentityGrpc;
import dev.nodekit.spec.csi.v1.NodeGetInfoRequest;
import dev.nodekit.spec.csi.v1.NodeGrpc;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.spec.csi.v1.ProbeRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status.Code;

/** The assembled driver on a real unix socket, with a fake backend and a fake host. */
@SuppressWarnings("try") // drivers are held, not used
class CsiDriverTest {
    @TempDir
    Path tmp;

    CsiConfig config(CsiConfig.Mode mode) {
        return new CsiConfig(tmp.resolve("csi.sock"), "node-a", "fake", tmp.resolve("data"), mode,
                CsiConfig.DEFAULT_DRIVER_NAME, 7, CsiConfig.defaultTopologyKey(CsiConfig.DEFAULT_DRIVER_NAME),
                Optional.of("127.0.0.1:0"), 2);
    }

    CsiDriver.Environment env() {
        RecordingCommandRunner runner = new RecordingCommandRunner();
        FakeMountTable table = FakeMountTable.withRoot();
        table.scriptOn(runner);
        return new CsiDriver.Environment(runner, table.mounts(), Clock.systemUTC(), Metrics.create());
    }

    @Test
    void allModeServesEveryServiceAndProbeFollowsTheBackendsHealth() throws Exception {
        FakeBackend backend = new FakeBackend("node-a", tmp.resolve("dev"));
        CsiDriver driver = CsiDriver.start(config(CsiConfig.Mode.ALL), backend, env());
        ManagedChannel ch = UdsChannels.forTarget("unix://" + tmp.resolve("csi.sock"));
        try {
            IdentityGrpc.IdentityBlockingStub id = IdentityGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS);
            assertThat(id.getPluginInfo(GetPluginInfoRequest.getDefaultInstance()).getName())
                    .isEqualTo("local.csi.nodekit.dev");
            assertThat(id.getPluginCapabilities(GetPluginCapabilitiesRequest.getDefaultInstance()).getCapabilitiesList())
                    .extracting(c -> c.hasService() ? c.getService().getType().name() : c.getVolumeExpansion().getType().name())
                    .containsExactly("CONTROLLER_SERVICE", "VOLUME_ACCESSIBILITY_CONSTRAINTS", "ONLINE");
            assertThat(id.probe(ProbeRequest.getDefaultInstance()).getReady().getValue()).isTrue();
            backend.setHealth(Health.unhealthy("data dir unwritable"));
            assertThat(expect(Code.FAILED_PRECONDITION, () -> id.probe(ProbeRequest.getDefaultInstance())))
                    .contains("data dir unwritable");
            assertThat(ControllerGrpc.newBlockingStub(ch).controllerGetCapabilities(
                    ControllerGetCapabilitiesRequest.getDefaultInstance()).getCapabilitiesCount()).isPositive();
            var info = NodeGrpc.newBlockingStub(ch).nodeGetInfo(NodeGetInfoRequest.getDefaultInstance());
            assertThat(info.getMaxVolumesPerNode()).isEqualTo(7);
            assertThat(info.getAccessibleTopology().getSegmentsMap())
                    .containsEntry("topology.local.csi.nodekit.dev/node", "node-a");
            assertThat(driver.metricsPort()).isPresent();
        } finally {
            ch.shutdownNow();
            driver.close();
        }
        assertThat(backend.closed()).isTrue();
        assertThat(tmp.resolve("csi.sock")).doesNotExist();
    }

    @Test
    void rolesDecideWhichServicesAreRegistered() throws Exception {
        FakeBackend backend = new FakeBackend("node-a", tmp.resolve("dev"));
        try (CsiDriver driver = CsiDriver.start(config(CsiConfig.Mode.NODE), backend, env())) {
            ManagedChannel ch = UdsChannels.forTarget("unix://" + tmp.resolve("csi.sock"));
            try {
                expect(Code.UNIMPLEMENTED, () -> ControllerGrpc.newBlockingStub(ch).controllerGetCapabilities(
                        ControllerGetCapabilitiesRequest.getDefaultInstance()));
                assertThat(IdentityGrpc.newBlockingStub(ch).getPluginCapabilities(
                        GetPluginCapabilitiesRequest.getDefaultInstance()).getCapabilitiesList())
                        .noneMatch(c -> c.getService().getType() == PluginCapability.Service.Type.CONTROLLER_SERVICE);
                NodeGrpc.newBlockingStub(ch).nodeGetInfo(NodeGetInfoRequest.getDefaultInstance());
            } finally {
                ch.shutdownNow();
            }
        }
        try (CsiDriver driver = CsiDriver.start(config(CsiConfig.Mode.CONTROLLER),
                new FakeBackend("node-a", tmp.resolve("dev")), env())) {
            ManagedChannel ch = UdsChannels.forTarget("unix://" + tmp.resolve("csi.sock"));
            try {
                expect(Code.UNIMPLEMENTED, () -> NodeGrpc.newBlockingStub(ch).nodeGetInfo(
                        NodeGetInfoRequest.getDefaultInstance()));
                ControllerGrpc.newBlockingStub(ch).controllerGetCapabilities(
                        ControllerGetCapabilitiesRequest.getDefaultInstance());
            } finally {
                ch.shutdownNow();
            }
        }
    }

    @Test
    void startingTheNodeReattachesWhatTheKernelLost() throws Exception {
        FakeBackend backend = new FakeBackend("node-a", tmp.resolve("dev"));
        ObjectId id = backend.createImage(new ImageSpec("v", Optional.empty(), 1 << 20, Optional.empty(),
                java.util.Map.of(), java.util.Map.of()), Credentials.none()).id();
        backend.attach(id, false, Credentials.none());
        backend.loseDevice(id);
        try (CsiDriver driver = CsiDriver.start(config(CsiConfig.Mode.NODE), backend, env())) {
            assertThat(backend.findAttachment(id)).isPresent();
        }
    }
}
