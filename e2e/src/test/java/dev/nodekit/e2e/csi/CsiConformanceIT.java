package dev.nodekit.e2e.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
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

/**
 * The whole CSI conformance suite against {@code nodekit csi --backend local}, started through the
 * launcher (production JVM flags) and reached over its real unix socket, with real loop devices,
 * mkfs and mounts, three times: XFS mount volumes (every check), raw block volumes, and ext4 mount
 * volumes. The ext4 run leaves out {@code csi.expansion.node.expand}: on a host whose plugin lacks
 * CAP_SYS_RESOURCE (this one) ext4 cannot grow while mounted, the driver answers
 * FAILED_PRECONDITION and grows it at the next stage, which CsiNodeServiceTest covers. Afterwards
 * the driver's RSS must be within its budget and nothing of the test may be left mounted or
 * attached.
 */
@Requires({Requirement.ROOT, Requirement.LOOP_DEVICES, Requirement.XFS})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CsiConformanceIT {
    static final long RSS_BUDGET_KIB = 96 * 1024;

    static Path work;
    static CsiDriverProcess driver;

    @BeforeAll
    static void start() throws Exception {
        work = Files.createTempDirectory("nodekit-csi-conf-");
        driver = CsiDriverProcess.start(CsiDriverProcess.Spec.in(work.resolve("driver"), "conformance-node"),
                Duration.ofSeconds(90));
    }

    /** A target on the driver; the suite creates and removes its staging and target dirs below these. */
    static CsiTarget target(String name, CsiTarget.AccessType type, String fs, long size) {
        return CsiTarget.connect(new CsiTarget.Config(driver.endpoint(), Optional.empty(),
                work.resolve(name + "/staging"), work.resolve(name + "/target"), Map.of(), Map.of(), size, type, fs,
                Duration.ofSeconds(120)));
    }

    static Stream<DynamicTest> run(String name, CsiTarget target, RunOptions options) {
        long start = System.nanoTime();
        return Stream.concat(JUnitSuites.dynamicTests(CsiSuites.all(), () -> target, options),
                Stream.of(DynamicTest.dynamicTest(name + "-done", () -> {
                    target.close();
                    System.out.printf("CSI suite (%s) ran in %.1f s%n", name, (System.nanoTime() - start) / 1e9);
                })));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (driver != null) {
                // The JVM exits 143 (128 + SIGTERM) after its shutdown hook drained the server.
                assertThat(driver.stop(Duration.ofSeconds(20))).as("driver exit status after SIGTERM").isIn(0, 143);
                assertThat(driver.logTail(20)).contains("gRPC server stopped");
            }
            if (work != null) {
                HostState.assertClean(work);
            }
        } finally {
            if (work != null) {
                HostState.forceClean(work);
                HostState.deleteTree(work);
            }
        }
    }

    @Order(1)
    @TestFactory
    Stream<DynamicTest> xfsMountVolumes() {
        return run("xfs", target("xfs", CsiTarget.AccessType.MOUNT, "xfs", 320L << 20), RunOptions.defaults());
    }

    @Order(2)
    @TestFactory
    Stream<DynamicTest> blockVolumes() {
        return run("block", target("block", CsiTarget.AccessType.BLOCK, "ext4", 64L << 20), RunOptions.defaults());
    }

    @Order(3)
    @TestFactory
    Stream<DynamicTest> ext4MountVolumes() {
        return run("ext4", target("ext4", CsiTarget.AccessType.MOUNT, "ext4", 64L << 20),
                RunOptions.defaults().withSkip("^csi\\.expansion\\.node\\.expand$"));
    }

    @Order(4)
    @Test
    void driverRssAfterTheSuiteIsWithinItsBudget() throws Exception {
        assertThat(driver.isAlive()).as("driver alive after the suite; log:\n%s", driver.logTail(30)).isTrue();
        long rss = driver.rssKiB();
        System.out.printf("driver RSS after the CSI suite: %.1f MiB (budget %d MiB)%n", rss / 1024.0,
                RSS_BUDGET_KIB / 1024);
        assertThat(rss).as("VmRSS of the driver in KiB").isLessThanOrEqualTo(RSS_BUDGET_KIB);
    }
}
