package dev.nodekit.conformance.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.google.protobuf.BoolValue;

import dev.nodekit.conformance.Check;
import dev.nodekit.conformance.CheckResult;
import dev.nodekit.conformance.Outcome;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.SuiteRunner;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.GetPluginInfoResponse;
import dev.nodekit.spec.csi.v1.NodeGetInfoResponse;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.spec.csi.v1.ProbeResponse;
import io.grpc.Status;

/** Every Identity check passes on a healthy fake and fails on a fake with one injected defect. */
class CsiIdentityChecksTest {
    private final FakeCsi fake = new FakeCsi();

    @AfterEach
    void close() {
        fake.close();
    }

    private CheckResult run(String id) throws Exception {
        Check<CsiTarget> check = CsiIdentityChecks.suite().checks().stream().filter(c -> c.id().equals(id)).findFirst()
                .orElseThrow();
        return new SuiteRunner(RunOptions.defaults().withStrict(false)).runOne(check, fake.target());
    }

    private void assertFailsWith(String id, Consumer<FakeCsi> defect, String reasonPart) throws Exception {
        defect.accept(fake);
        CheckResult r = run(id);
        assertThat(r.outcome()).as(id + " with defect, reason: " + r.reason()).isEqualTo(Outcome.FAIL);
        assertThat(r.reason()).contains(reasonPart);
    }

    @Test
    void healthyFakePassesEveryCheck() throws Exception {
        for (Check<CsiTarget> c : CsiIdentityChecks.suite().checks()) {
            CheckResult r = run(c.id());
            assertThat(r.outcome()).as(c.id() + ": " + r.reason()).isEqualTo(Outcome.PASS);
        }
    }

    @Test
    void nameEmpty() throws Exception {
        assertFailsWith("csi.identity.plugin-info-name",
                f -> f.info = () -> GetPluginInfoResponse.newBuilder().setVendorVersion("1").build(), "empty");
    }

    @Test
    void nameTooLong() throws Exception {
        assertFailsWith("csi.identity.plugin-info-name", f -> f.info = () -> GetPluginInfoResponse.newBuilder()
                .setName("a".repeat(64)).setVendorVersion("1").build(), "64 characters");
    }

    @Test
    void nameBadCharacters() throws Exception {
        assertFailsWith("csi.identity.plugin-info-name", f -> f.info = () -> GetPluginInfoResponse.newBuilder()
                .setName("-my_driver").setVendorVersion("1").build(), "must begin and end");
    }

    @Test
    void versionEmpty() throws Exception {
        assertFailsWith("csi.identity.plugin-info-version", f -> f.info = () -> GetPluginInfoResponse.newBuilder()
                .setName("a.b").build(), "vendor_version is empty");
    }

    @Test
    void versionTooLong() throws Exception {
        assertFailsWith("csi.identity.plugin-info-version", f -> f.info = () -> GetPluginInfoResponse.newBuilder()
                .setName("a.b").setVendorVersion("v".repeat(129)).build(), "129 bytes");
    }

    @Test
    void infoChangesBetweenCalls() throws Exception {
        AtomicInteger n = new AtomicInteger();
        assertFailsWith("csi.identity.plugin-info-stable", f -> f.info = () -> GetPluginInfoResponse.newBuilder()
                .setName("a.b").setVendorVersion("1." + n.incrementAndGet()).build(), "GetPluginInfo call 2");
    }

    @Test
    void capabilityWithoutType() throws Exception {
        assertFailsWith("csi.identity.capabilities-valid",
                f -> f.pluginCaps = () -> List.of(PluginCapability.getDefaultInstance()), "has no type set");
    }

    @Test
    void capabilityUnknownType() throws Exception {
        assertFailsWith("csi.identity.capabilities-valid",
                f -> f.pluginCaps = () -> List.of(FakeCsi.service(PluginCapability.Service.Type.UNKNOWN)), "UNKNOWN");
    }

    @Test
    void capabilityRepeated() throws Exception {
        assertFailsWith("csi.identity.capabilities-valid", f -> f.pluginCaps = () -> List.of(
                FakeCsi.service(PluginCapability.Service.Type.CONTROLLER_SERVICE),
                FakeCsi.service(PluginCapability.Service.Type.CONTROLLER_SERVICE)), "repeats");
    }

    @Test
    void controllerServiceAdvertisedButMissing() throws Exception {
        assertFailsWith("csi.identity.controller-service-consistent", f -> f.controllerCaps = () -> {
            throw Status.UNIMPLEMENTED.asRuntimeException();
        }, "expected OK, got UNIMPLEMENTED");
    }

    @Test
    void expansionAdvertisedWithoutExpandVolume() throws Exception {
        assertFailsWith("csi.identity.expansion-consistent",
                f -> f.controllerCaps = () -> List.of(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME),
                "neither the controller nor the node");
    }

    @Test
    void accessibilityAdvertisedWithoutTopology() throws Exception {
        assertFailsWith("csi.identity.accessibility-consistent",
                f -> f.nodeInfo = () -> NodeGetInfoResponse.newBuilder().setNodeId("n").build(), "no accessible_topology");
    }

    @Test
    void probeFails() throws Exception {
        assertFailsWith("csi.identity.probe", f -> f.probe = () -> {
            throw Status.FAILED_PRECONDITION.withDescription("backend down").asRuntimeException();
        }, "FAILED_PRECONDITION");
    }

    @Test
    void probeNeverReady() throws Exception {
        assertFailsWith("csi.identity.probe",
                f -> f.probe = () -> ProbeResponse.newBuilder().setReady(BoolValue.of(false)).build(), "ready=false");
    }

    @Test
    void probeFailsWhenRepeated() throws Exception {
        AtomicInteger n = new AtomicInteger();
        assertFailsWith("csi.identity.probe-repeatable", f -> f.probe = () -> {
            if (n.incrementAndGet() > 3) {
                throw Status.UNAVAILABLE.withDescription("too many probes").asRuntimeException();
            }
            return ProbeResponse.getDefaultInstance();
        }, "UNAVAILABLE");
    }

    @Test
    void probeFailsUnderConcurrency() throws Exception {
        AtomicInteger inFlight = new AtomicInteger();
        assertFailsWith("csi.identity.probe-repeatable", f -> f.probe = () -> {
            try {
                if (inFlight.incrementAndGet() > 1) {
                    throw Status.ABORTED.withDescription("busy").asRuntimeException();
                }
                Thread.sleep(20);
                return ProbeResponse.getDefaultInstance();
            } catch (InterruptedException e) {
                throw Status.CANCELLED.asRuntimeException();
            } finally {
                inFlight.decrementAndGet();
            }
        }, "parallel call");
    }
}
