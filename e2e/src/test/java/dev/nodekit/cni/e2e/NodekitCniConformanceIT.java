package dev.nodekit.cni.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Optional;
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
import dev.nodekit.conformance.cni.CniChecks;
import dev.nodekit.conformance.cni.CniTarget;

/**
 * The whole CNI conformance suite against nodekit's plugins, installed as launchers the way
 * {@code nodekit cni install} installs them (nodekit-bridge + nodekit-host-local): every check of
 * every version they claim, 0.3.0 to 1.1.0, STATUS and GC included. The Go reference plugins run
 * the same suite in {@code CniReferencePluginsIT}.
 */
@Requires({Requirement.ROOT, Requirement.NETNS, Requirement.IPTABLES, Requirement.CNI_REFERENCE_PLUGINS})
class NodekitCniConformanceIT {
    static CniHost host;
    static CniTarget target;

    @BeforeAll
    static void open() throws Exception {
        host = CniHost.create(false);
        // A JVM per call on a shared 2-core machine: 40 parallel ADDs need more than the default 30 s.
        target = CniTarget.open(new CniTarget.Config(host.bin, new CniTarget.Generated("nodekit-bridge",
                "nodekit-host-local"), Optional.empty(), Duration.ofSeconds(180)));
    }

    @AfterAll
    static void close() throws Exception {
        try {
            CniHost.closeAndReport(target, "nodekit");
        } finally {
            if (host != null) {
                host.close();
            }
        }
    }

    @Test
    void claimsEveryVersionFrom030To110() {
        assertThat(target.versions()).containsExactly("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0");
    }

    @TestFactory
    Stream<DynamicTest> suite() {
        return JUnitSuites.dynamicTests(CniChecks.suite(), () -> target, RunOptions.defaults());
    }
}
