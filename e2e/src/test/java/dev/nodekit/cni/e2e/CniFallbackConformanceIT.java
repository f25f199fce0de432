package dev.nodekit.cni.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import dev.nodekit.cni.install.InstallSpec;
import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.conformance.JUnitSuites;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.cni.CniChecks;
import dev.nodekit.conformance.cni.CniTarget;

/**
 * The CNI conformance suite on the thin client with no daemon: every call falls back to the JVM
 * launcher, stdin replayed. Spec 1.1.0 only (ADD, CHECK, DEL, errors, 40 parallel ADDs, STATUS, GC):
 * the launchers themselves run every version in {@code NodekitCniConformanceIT}; this run is about
 * the client's way to them.
 */
@Requires({Requirement.ROOT, Requirement.NETNS, Requirement.IPTABLES, Requirement.CNI_REFERENCE_PLUGINS,
    Requirement.C_COMPILER})
class CniFallbackConformanceIT {
    static CniHost host;
    static CniTarget target;

    @BeforeAll
    static void open() throws Exception {
        // A socket in a directory that does not exist: connect fails at once, as with the daemon down.
        host = CniHost.create(false, InstallSpec.ClientMode.THIN, Path.of("/run/nkcit-no-daemon-" + System.nanoTime()
                + "/cni.sock"));
        target = CniTarget.open(new CniTarget.Config(host.bin, new CniTarget.Generated("nodekit-bridge",
                "nodekit-host-local"), Optional.of(List.of("1.1.0")), Duration.ofSeconds(180)));
    }

    @AfterAll
    static void close() throws Exception {
        try {
            CniHost.closeAndReport(target, "nodekit fallback");
        } finally {
            if (host != null) {
                host.close();
            }
        }
    }

    @Test
    void theClientAnswersVersionThroughTheFallback() {
        assertThat(target.claimedVersions()).hasValueSatisfying(v -> assertThat(v).contains("1.1.0"));
    }

    @TestFactory
    Stream<DynamicTest> suite() {
        return JUnitSuites.dynamicTests(CniChecks.suite(), () -> target, RunOptions.defaults());
    }
}
