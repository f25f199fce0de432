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
 * mkfs and mounts. Afterwards the driver's RSS must be within its budget and nothing of the test
 * may be left mounted or attached.
 */
@Requires({Requirement.ROOT, Requirement.LOOP_DEVICES, Requirement.XFS})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CsiConformanceIT {
    static final long RSS_BUDGET_KIB = 96 * 1024;

    static Path work;
    static CsiDriverProcess driver;
    static CsiTarget target;
    static long suiteNanos;

    @BeforeAll
    static void start() throws Exception {
        work = Files.createTempDirectory("nodekit-csi-conf-");
        driver = CsiDriverProcess.start(CsiDriverProcess.Spec.in(work.resolve("driver"), "conformance-node"),
                Duration.ofSeconds(90));
        target = CsiTarget.connect(new CsiTarget.Config(driver.endpoint(), Optional.empty(), work.resolve("staging"),
                work.resolve("target"), Map.of(), Map.of(), 64L << 20, CsiTarget.AccessType.MOUNT, "ext4",
                Duration.ofSeconds(120)));
    }

    @AfterAll
    static void stop() throws Exception {
        if (target != null) {
            target.close();
        }
        if (driver != null) {
            assertThat(driver.stop(Duration.ofSeconds(20))).as("driver exit status after SIGTERM").isZero();
        }
        if (work != null) {
            try {
                HostState.assertClean(work);
            } finally {
                HostState.forceClean(work);
                HostState.deleteTree(work);
            }
        }
    }

    @Order(1)
    @TestFactory
    Stream<DynamicTest> csiSuite() {
        long start = System.nanoTime();
        return Stream.concat(JUnitSuites.dynamicTests(CsiSuites.all(), () -> target, RunOptions.defaults()),
                Stream.of(DynamicTest.dynamicTest("suite-duration", () -> {
                    suiteNanos = System.nanoTime() - start;
                    System.out.printf("CSI suite ran in %.1f s%n", suiteNanos / 1e9);
                })));
    }

    @Order(2)
    @Test
    void driverRssAfterTheSuiteIsWithinItsBudget() throws Exception {
        assertThat(driver.isAlive()).as("driver alive after the suite; log:\n%s", driver.logTail(30)).isTrue();
        long rss = driver.rssKiB();
        System.out.printf("driver RSS after the CSI suite: %.1f MiB (budget %d MiB)%n", rss / 1024.0,
                RSS_BUDGET_KIB / 1024);
        assertThat(rss).as("VmRSS of the driver in KiB").isLessThanOrEqualTo(RSS_BUDGET_KIB);
    }
}
