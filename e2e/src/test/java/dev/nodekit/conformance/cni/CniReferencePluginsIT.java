package dev.nodekit.conformance.cni;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.conformance.JUnitSuites;
import dev.nodekit.conformance.RunOptions;

/**
 * The whole CNI suite against the Go reference plugins (Debian's containernetworking-plugins:
 * bridge + host-local in /usr/lib/cni). Every check of 0.3.0-1.0.0 must pass; 1.1.0 is not
 * claimed, so its checks are skipped with that reason. This is how we know the suite is right.
 */
@Requires({Requirement.ROOT, Requirement.NETNS, Requirement.CNI_REFERENCE_PLUGINS})
class CniReferencePluginsIT {
    static final Path GO_PLUGINS = Path.of("/usr/lib/cni");
    static CniTarget target;
    static final Map<String, Duration> PER_VERSION = new ConcurrentHashMap<>();

    @BeforeAll
    static void open() throws Exception {
        target = CniTarget.open(CniTarget.Config.generated(GO_PLUGINS, "bridge", "host-local"));
    }

    @AfterAll
    static void close() throws Exception {
        if (target == null) {
            return;
        }
        target.close();
        // Numbers for the notes: suite time per version and the parallel ADD/DEL wall times.
        new TreeMap<>(PER_VERSION).forEach((v, d) -> System.out.printf("cni-suite go-reference %s: %d ms%n", v,
                d.toMillis()));
        target.measurements().forEach(m -> System.out.printf("cni-suite go-reference %s: %d ms%n", m.name(),
                m.duration().toMillis()));
    }

    @Test
    void claimsTheVersionsDebianShips() {
        assertThat(target.claimedVersions()).hasValueSatisfying(v -> assertThat(v).contains("0.3.0", "0.3.1",
                "0.4.0", "1.0.0").doesNotContain("1.1.0"));
        assertThat(target.versions()).containsExactly("0.3.0", "0.3.1", "0.4.0", "1.0.0");
    }

    @TestFactory
    Stream<DynamicTest> suite() {
        return JUnitSuites.dynamicTests(CniChecks.suite(), () -> target, RunOptions.defaults())
                .map(t -> DynamicTest.dynamicTest(t.getDisplayName(), () -> {
                    long start = System.nanoTime();
                    try {
                        t.getExecutable().execute();
                    } finally {
                        String version = t.getDisplayName().split("\\.")[1];
                        PER_VERSION.merge(version, Duration.ofNanos(System.nanoTime() - start), Duration::plus);
                    }
                }));
    }
}
