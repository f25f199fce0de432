package dev.nodekit.conformance.csi;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.conformance.JUnitSuites;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.csi.CsiIdentityService;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.common.grpc.UdsServer;

/** The CSI Identity suite against nodekit's own Identity service, over a real unix socket. */
class CsiIdentityConformanceTest {
    @TempDir
    static Path dir;
    static UdsServer server;
    static CsiTarget target;

    @BeforeAll
    static void start() throws Exception {
        Path sock = dir.resolve("csi.sock");
        server = TestUds.serve(sock, new CsiIdentityService("local.csi.nodekit.dev", "0.1.0",
                List.of(PluginCapability.newBuilder().setService(PluginCapability.Service.newBuilder()
                        .setType(PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS)).build()),
                CsiIdentityService.Health.Ready::new));
        target = CsiTarget.connect(CsiTarget.Config.of("unix://" + sock));
    }

    @AfterAll
    static void stop() {
        if (target != null) {
            target.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> identitySuite() {
        // Node services are not served by this minimal server: accessibility-consistent must then fail,
        // so it is excluded here; the driver's own suite (with the node service) covers it.
        return JUnitSuites.dynamicTests(CsiIdentityChecks.suite(), () -> target,
                RunOptions.defaults().withSkip("accessibility-consistent"));
    }
}
