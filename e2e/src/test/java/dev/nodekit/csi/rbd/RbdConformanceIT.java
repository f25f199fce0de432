package dev.nodekit.csi.rbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestMethodOrder;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.conformance.JUnitSuites;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.csi.CsiSuites;
import dev.nodekit.conformance.csi.CsiTarget;
import dev.nodekit.e2e.CsiDriverProcess;
import dev.nodekit.e2e.ceph.CephCluster;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;

/**
 * The whole CSI conformance suite against {@code nodekit csi --backend rbd --ceph-config FILE}
 * started through the launcher, on the shared Ceph fixture: volumes are RBD images, stage and
 * publish go through rbd-fuse and loop devices with real mkfs and mounts. The secrets of the
 * restricted user go with every request that has a secrets field; the config also names a
 * credential file, so ListVolumes and GetCapacity are offered and tested too. The volumes are XFS
 * (512 MiB: mkfs.xfs refuses less than 300 MB) because the expansion check grows the filesystem
 * online, which ext4 cannot do without CAP_SYS_RESOURCE on this host. Afterwards nothing
 * of the run may be left: no mount, loop device or rbd-fuse daemon, no image in the pool.
 */
@Requires({Requirement.ROOT, Requirement.CEPH, Requirement.RBD_FUSE, Requirement.LOOP_DEVICES, Requirement.XFS})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RbdConformanceIT {
    static CephCluster cluster;
    static Path work;
    static CsiDriverProcess driver;
    static CsiTarget target;

    @BeforeAll
    static void start() throws Exception {
        cluster = CephCluster.shared();
        work = Files.createTempDirectory("nodekit-rbd-conf-");
        Path config = RbdTestCluster.writeYaml(RbdTestCluster.config(cluster, RbdTestCluster.credentialDir(cluster, work)),
                work.resolve("ceph.yaml"));
        driver = CsiDriverProcess.start(CsiDriverProcess.Spec.in(work.resolve("driver"), "rbd-conformance-node")
                .withArgs("--backend", "rbd", "--ceph-config", config.toString(), "--driver-name", "rbd.csi.nodekit.dev"),
                Duration.ofSeconds(90));
        target = CsiTarget.connect(new CsiTarget.Config(driver.endpoint(), Optional.empty(), work.resolve("staging"),
                work.resolve("target"), RbdTestCluster.parameters(cluster), RbdTestCluster.secrets(cluster), 512L << 20,
                CsiTarget.AccessType.MOUNT, "xfs", Duration.ofSeconds(120)));
    }

    @AfterAll
    static void stop() throws Exception {
        if (target != null) {
            target.close();
        }
        try {
            if (driver != null) {
                // 143 is the JVM's own status after SIGTERM once the shutdown hooks ran (a graceful stop);
                // 137 would mean the grace ran out and the driver was killed.
                assertThat(driver.stop(Duration.ofSeconds(20))).as("driver exit status after SIGTERM").isIn(0, 143);
            }
        } finally {
            if (work != null) {
                try {
                    RbdHost.assertNothingLeft(work);
                } finally {
                    RbdHost.deleteTree(work);
                }
            }
        }
    }

    @Order(1)
    @Test
    void advertisesTheReadsThatNeedTheCredentialFileAndNoTopology() {
        assertThat(target.controllerCapabilities()).contains(ControllerServiceCapability.RPC.Type.LIST_VOLUMES,
                ControllerServiceCapability.RPC.Type.GET_CAPACITY, ControllerServiceCapability.RPC.Type.CLONE_VOLUME,
                ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT,
                ControllerServiceCapability.RPC.Type.EXPAND_VOLUME);
        assertThat(target.hasService(dev.nodekit.spec.csi.v1.PluginCapability.Service.Type
                .VOLUME_ACCESSIBILITY_CONSTRAINTS)).as("RBD volumes are reachable from every node").isFalse();
    }

    @Order(2)
    @TestFactory
    Stream<DynamicTest> csiSuite() {
        long start = System.nanoTime();
        return Stream.concat(JUnitSuites.dynamicTests(CsiSuites.all(), () -> target, RunOptions.defaults()),
                Stream.of(DynamicTest.dynamicTest("suite-duration", () ->
                        System.out.printf("CSI suite on rbd ran in %.1f s%n", (System.nanoTime() - start) / 1e9))));
    }

    @Order(3)
    @Test
    void theSuiteLeftNoImageInThePool() throws Exception {
        String images = cluster.adminOk("rbd", "ls", "-p", cluster.pool());
        assertThat(images.lines().filter(l -> l.startsWith("csi-"))).as("images of the suite left in %s; driver log:%n%s",
                cluster.pool(), driver.logTail(20)).isEmpty();
    }
}
