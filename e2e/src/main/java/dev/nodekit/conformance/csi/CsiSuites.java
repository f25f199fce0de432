package dev.nodekit.conformance.csi;

import dev.nodekit.conformance.Suite;

/**
 * The CSI suites, in the order {@code nodekit conformance csi} runs them: Identity, Controller,
 * snapshots (with restores and clones), expansion, Node, and the error scheme. Cheap argument checks
 * come before the lifecycle checks inside each suite, so a plugin that fails the basics fails fast.
 */
public final class CsiSuites {
    private CsiSuites() {
    }

    /** Every CSI check. */
    public static Suite<CsiTarget> all() {
        return CsiIdentityChecks.suite()
                .plus(CsiControllerChecks.suite())
                .plus(CsiSnapshotChecks.suite())
                .plus(CsiExpansionChecks.suite())
                .plus(CsiNodeChecks.suite())
                .plus(CsiErrorChecks.suite());
    }
}
