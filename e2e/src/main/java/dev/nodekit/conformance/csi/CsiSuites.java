package dev.nodekit.conformance.csi;

import dev.nodekit.conformance.Suite;

/** The CSI suites, in the order {@code nodekit conformance csi} runs them. */
public final class CsiSuites {
    private CsiSuites() {
    }

    /** Every CSI check. */
    public static Suite<CsiTarget> all() {
        return CsiIdentityChecks.suite();
    }
}
