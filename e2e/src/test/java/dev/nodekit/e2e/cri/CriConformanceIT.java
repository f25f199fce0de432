package dev.nodekit.e2e.cri;

import static dev.nodekit.common.Requirement.CNI_REFERENCE_PLUGINS;
import static dev.nodekit.common.Requirement.CONTAINERD;
import static dev.nodekit.common.Requirement.NETNS;
import static dev.nodekit.common.Requirement.ROOT;

import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.nodekit.common.testing.Requires;
import dev.nodekit.e2e.containerd.ContainerdExtension;
import dev.nodekit.e2e.containerd.ContainerdFixture;

/**
 * The CRI suite against a private containerd 1.6, directly: every check must PASS, or SKIP because
 * it needs a registry. A run through a proxy is the same line with
 * {@code containerd.criConfig().withEndpoint(proxyEndpoint)}.
 */
@Requires({ROOT, CONTAINERD, NETNS, CNI_REFERENCE_PLUGINS})
@ExtendWith(ContainerdExtension.class)
class CriConformanceIT {
    @TestFactory
    Stream<DynamicTest> criSuiteDirect(ContainerdFixture containerd) {
        return CriSuiteRuns.dynamicTests("containerd direct", containerd.criConfig());
    }
}
