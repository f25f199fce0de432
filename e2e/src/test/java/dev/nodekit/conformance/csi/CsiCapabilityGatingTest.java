package dev.nodekit.conformance.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.conformance.Check;
import dev.nodekit.conformance.CheckResult;
import dev.nodekit.conformance.Outcome;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.SuiteRunner;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;

/**
 * Checks gate on advertised capabilities like csi-sanity: against a plugin that advertises little,
 * nothing fails, and what does not apply is SKIP with the name of the missing capability.
 */
class CsiCapabilityGatingTest {
    @TempDir
    Path dir;

    private Map<String, CheckResult> run(FakePlugin fake) throws Exception {
        CsiTarget t = fake.target(FakePlugin.config(dir.resolve("run"), CsiTarget.AccessType.MOUNT, 64L << 20, Map.of()));
        SuiteRunner runner = new SuiteRunner(RunOptions.defaults().withStrict(false));
        Map<String, CheckResult> out = new LinkedHashMap<>();
        for (Check<CsiTarget> c : CsiSuites.all().checks()) {
            if (c.requirements().isEmpty()) {
                out.put(c.id(), runner.runOne(c, t));
            }
        }
        return out;
    }

    private static void assertNoFailure(Map<String, CheckResult> results) {
        assertThat(results.values().stream().filter(r -> r.outcome() == Outcome.FAIL).map(r -> r.id() + ": " + r.reason())
                .toList()).isEmpty();
    }

    @Test
    void minimalPluginSkipsWhatItDoesNotAdvertise() throws Exception {
        try (FakePlugin fake = new FakePlugin(dir.resolve("data"), false)) {
            fake.controllerCaps.retainAll(java.util.Set.of(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME));
            fake.nodeCaps.clear();
            fake.accessibility = false;
            fake.expansion = null;
            Map<String, CheckResult> r = run(fake);
            assertNoFailure(r);
            Map<String, String> expected = Map.of(
                    "csi.controller.list-volumes", "LIST_VOLUMES",
                    "csi.controller.get-capacity", "GET_CAPACITY",
                    "csi.controller.create-volume.topology", "VOLUME_ACCESSIBILITY_CONSTRAINTS",
                    "csi.controller.publish.idempotent", "PUBLISH_UNPUBLISH_VOLUME",
                    "csi.snapshot.create", "CREATE_DELETE_SNAPSHOT",
                    "csi.clone.create", "CLONE_VOLUME",
                    "csi.expansion.controller.expand", "EXPAND_VOLUME",
                    "csi.node.stage.missing-volume-id", "STAGE_UNSTAGE_VOLUME",
                    "csi.node.volume-stats.unknown-volume", "GET_VOLUME_STATS",
                    "csi.identity.expansion-consistent", "VolumeExpansion");
            expected.forEach((id, cap) -> {
                assertThat(r.get(id).outcome()).as(id).isEqualTo(Outcome.SKIP);
                assertThat(r.get(id).reason()).as(id).contains(cap);
            });
            assertThat(r.get("csi.controller.create-volume").outcome()).isEqualTo(Outcome.PASS);
            assertThat(r.get("csi.node.publish.unknown-volume").outcome()).isEqualTo(Outcome.PASS);
        }
    }

    @Test
    void nodeOnlyPluginSkipsEveryControllerCheck() throws Exception {
        try (FakePlugin fake = new FakePlugin(dir.resolve("data"), false)) {
            fake.controllerService = false;
            fake.expansion = null;
            Map<String, CheckResult> r = run(fake);
            assertNoFailure(r);
            r.values().stream().filter(c -> c.id().startsWith("csi.controller.") || c.id().startsWith("csi.snapshot."))
                    .forEach(c -> {
                        assertThat(c.outcome()).as(c.id()).isEqualTo(Outcome.SKIP);
                        assertThat(c.reason()).as(c.id()).contains("CONTROLLER_SERVICE");
                    });
            assertThat(r.get("csi.node.publish.missing-volume-id").outcome()).isEqualTo(Outcome.PASS);
            assertThat(r.get("csi.node.get-info").outcome()).isEqualTo(Outcome.PASS);
        }
    }
}
