package dev.nodekit.conformance.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.conformance.CheckResult;
import dev.nodekit.conformance.Outcome;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.SuiteReport;
import dev.nodekit.conformance.SuiteRunner;
import dev.nodekit.spec.csi.v1.NodeServiceCapability;
import dev.nodekit.spec.csi.v1.PluginCapability;

/**
 * The whole CSI suite, mount checks included, against the healthy fake doing real bind mounts,
 * tmpfs and loop devices: once with mount volumes, once with block volumes. Everything passes;
 * the only skips are the checks that do not apply to the access type.
 */
@Requires({Requirement.ROOT, Requirement.LOOP_DEVICES})
class CsiSuiteFakeIT {
    @TempDir
    Path dir;

    /** The run's secrets: the fake refuses every secret-carrying call without them. */
    private static final Map<String, String> SECRETS = Map.of("userID", "conformance", "userKey", "s3cr3t");

    private SuiteReport run(CsiTarget.AccessType type, Consumer<FakePlugin> setup, String only) throws Exception {
        try (FakePlugin fake = new FakePlugin(dir.resolve("data-" + type), true)) {
            setup.accept(fake);
            fake.requiredSecrets = SECRETS;
            CsiTarget t = fake.target(FakePlugin.config(dir.resolve("run-" + type), type, 64L << 20, SECRETS));
            return new SuiteRunner(RunOptions.defaults().withStrict(true).withOnly(only)).run(CsiSuites.all(), t);
        } finally {
            assertThat(MountTable.read().under(dir)).as("mounts left under " + dir).isEmpty();
        }
    }

    private static List<String> notPassed(SuiteReport report, Set<String> mayBeSkipped) {
        List<String> out = new ArrayList<>();
        for (CheckResult r : report.results()) {
            boolean ok = r.outcome() == Outcome.PASS || (r.outcome() == Outcome.SKIP && mayBeSkipped.contains(r.id()));
            if (!ok) {
                out.add(r.id() + " " + r.outcome() + ": " + r.reason());
            }
        }
        return out;
    }

    @Test
    void mountVolumesPassEverything() throws Exception {
        SuiteReport report = run(CsiTarget.AccessType.MOUNT, f -> { }, "");
        report.printTable(System.out);
        assertThat(notPassed(report, Set.of())).isEmpty();
    }

    @Test
    void blockVolumesPassEverything() throws Exception {
        SuiteReport report = run(CsiTarget.AccessType.BLOCK, f -> { }, "");
        report.printTable(System.out);
        assertThat(notPassed(report, Set.of("csi.node.stage-mounts", "csi.node.publish-shares-staging"))).isEmpty();
    }

    @Test
    void offlineExpansionIsDoneUnpublished() throws Exception {
        SuiteReport report = run(CsiTarget.AccessType.MOUNT,
                f -> f.expansion = PluginCapability.VolumeExpansion.Type.OFFLINE, "^csi\\.expansion\\.node\\.expand$");
        assertThat(report.results()).hasSize(1);
        assertThat(notPassed(report, Set.of())).isEmpty();
    }

    @Test
    void nodeWithoutStagingPublishesDirectly() throws Exception {
        SuiteReport report = run(CsiTarget.AccessType.MOUNT,
                f -> f.nodeCaps.remove(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME), "^csi\\.(node|snapshot|clone)");
        assertThat(notPassed(report, Set.of("csi.node.stage-mounts", "csi.node.publish-shares-staging",
                "csi.node.unstage-unmounts", "csi.node.stage.idempotent", "csi.node.unstage.idempotent",
                "csi.node.publish.missing-staging-path", "csi.node.stage.missing-volume-id",
                "csi.node.stage.missing-staging-path", "csi.node.stage.missing-capability",
                "csi.node.unstage.missing-volume-id", "csi.node.unstage.missing-staging-path",
                "csi.node.stage.unknown-volume", "csi.node.unstage.not-staged"))).isEmpty();
    }
}
