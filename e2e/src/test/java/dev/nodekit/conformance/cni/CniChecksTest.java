package dev.nodekit.conformance.cni;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.conformance.Check;
import dev.nodekit.conformance.CheckResult;
import dev.nodekit.conformance.Outcome;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.Suite;
import dev.nodekit.conformance.SuiteRunner;

/**
 * The suite's shape, its skip/fail rules for versions, and the checks that need no netns
 * (VERSION, missing variables, STATUS): each passes on a healthy plugin and fails on a fake with
 * one defect. The netns checks have theirs in {@link CniChecksDefectIT}.
 */
class CniChecksTest {
    @TempDir
    Path dir;
    FakePlugins fakes;
    CniTarget target;

    @BeforeEach
    void setUp() throws Exception {
        fakes = new FakePlugins(dir);
    }

    @AfterEach
    void close() throws Exception {
        if (target != null) {
            target.close();
        }
    }

    private CheckResult run(String plugin, List<String> versions, String id) throws Exception {
        // The fakes here answer VERSION themselves; without the Go plugins they stand in as their own IPAM.
        String ipam = java.nio.file.Files.exists(fakes.binDir().resolve("host-local")) ? "host-local" : plugin;
        CniTarget.Config c = CniTarget.Config.generated(fakes.binDir(), plugin, ipam);
        target = CniTarget.open(versions.isEmpty() ? c : c.withVersions(versions));
        Check<CniTarget> check = CniChecks.suite().checks().stream().filter(x -> x.id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + id));
        return new SuiteRunner(RunOptions.defaults().withStrict(false)).runOne(check, target);
    }

    private void fails(String plugin, String version, String check, String reasonPart) throws Exception {
        CheckResult r = run(plugin, List.of(version), CniChecks.idPrefix(version) + "." + check);
        assertThat(r.outcome()).as(check + " against " + plugin + ": " + r.reason()).isEqualTo(Outcome.FAIL);
        assertThat(r.reason()).contains(reasonPart);
    }

    private void passes(String plugin, String version, String check) throws Exception {
        CheckResult r = run(plugin, List.of(), CniChecks.idPrefix(version) + "." + check);
        assertThat(r.outcome()).as(check + " against " + plugin + ": " + r.reason()).isEqualTo(Outcome.PASS);
    }

    @Test
    void oneSetOfChecksPerVersion() {
        Suite<CniTarget> s = CniChecks.suite();
        assertThat(s.name()).isEqualTo("cni");
        Map<String, Long> perVersion = s.checks().stream().collect(Collectors.groupingBy(c -> c.id().split("\\.")[1],
                Collectors.counting()));
        assertThat(perVersion).containsExactlyInAnyOrderEntriesOf(Map.of("v030", 12L, "v031", 12L, "v040", 14L,
                "v100", 14L, "v110", 16L));
        assertThat(s.checks()).allSatisfy(c -> assertThat(c.id()).matches("cni\\.v[0-9]{3}\\.[a-z]+\\.[a-z-]+"));
        List<String> ids = s.checks().stream().map(Check::id).toList();
        assertThat(ids).contains("cni.v040.check.after-add", "cni.v110.gc.valid-attachments", "cni.v110.status.ready")
                .doesNotContain("cni.v031.check.after-add", "cni.v100.status.ready", "cni.v100.gc.valid-attachments");
        assertThat(s.checks()).filteredOn(c -> c.id().endsWith(".add.in-netns"))
                .allSatisfy(c -> assertThat(c.requirements()).contains(Requirement.NETNS, Requirement.ROOT));
        assertThat(s.checks()).filteredOn(c -> c.id().endsWith(".version.supported")).allSatisfy(c -> {
            assertThat(c.requirements()).isEmpty();
            assertThat(c.specSection()).startsWith("CNI ").endsWith("VERSION");
        });
        assertThat(CniChecks.suite(List.of("1.0.0", "0.3.0")).checks().get(0).id()).startsWith("cni.v030.");
    }

    @Test
    @Requires(Requirement.CNI_REFERENCE_PLUGINS)
    void goReferencePassesTheRootFreeChecks() throws Exception {
        for (String v : List.of("0.3.0", "0.3.1", "0.4.0", "1.0.0")) {
            passes("bridge", v, "version.supported");
            passes("bridge", v, "error.missing-env");
        }
    }

    @Test
    @Requires(Requirement.CNI_REFERENCE_PLUGINS)
    void unclaimedVersionIsSkippedWithTheReason() throws Exception {
        CheckResult r = run("bridge", List.of(), "cni.v110.status.ready");
        assertThat(r.outcome()).isEqualTo(Outcome.SKIP);
        assertThat(r.reason()).isEqualTo("plugin does not claim 1.1.0");
        CheckResult notSelected = run("bridge", List.of("0.4.0"), "cni.v100.version.supported");
        assertThat(notSelected.outcome()).isEqualTo(Outcome.SKIP);
        assertThat(notSelected.reason()).contains("not selected by --versions");
    }

    @Test
    void explicitVersionThePluginDoesNotClaimFails() throws Exception {
        String f = fakes.versionAnswer("old", "{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\"]}");
        fails(f, "1.0.0", "version.supported", "does not contain the requested 1.0.0");
    }

    @Test
    void versionAnswerWithoutCniVersion() throws Exception {
        String f = fakes.versionAnswer("nover", "{\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\"]}");
        fails(f, "0.4.0", "version.supported", "no cniVersion");
    }

    @Test
    void brokenVersionFailsEveryCheckInsteadOfSkipping() throws Exception {
        String f = fakes.shell("noversion", "cat >/dev/null; echo 'unknown command' >&2; exit 1");
        for (String id : List.of("cni.v100.version.supported", "cni.v110.status.ready", "cni.v030.add.result-shape")) {
            CheckResult r = run(f, List.of(), id);
            assertThat(r.outcome()).as(id).isEqualTo(Outcome.FAIL);
            assertThat(r.reason()).contains("VERSION failed: exit 1").contains("unknown command");
        }
    }

    @Test
    @Requires(Requirement.CNI_REFERENCE_PLUGINS)
    void missingVariablesNotNamed() throws Exception {
        String f = fakes.shell("vague", """
                if [ -z "${CNI_CONTAINERID:-}" ]; then cat >/dev/null; echo '{"code":4,"msg":"invalid environment"}'; exit 1; fi
                exec "$REAL\"""");
        fails(f, "1.0.0", "error.missing-env", "does not name [CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME]");
    }

    @Test
    @Requires(Requirement.CNI_REFERENCE_PLUGINS)
    void missingVariablesWrongCode() throws Exception {
        String f = fakes.shell("code999", """
                out=$("$REAL"); rc=$?
                printf '%s\\n' "$out" | sed 's/"code": 4/"code": 999/'; exit $rc""");
        fails(f, "1.0.0", "error.missing-env", "gave error code 999");
    }

    @Test
    @Requires(Requirement.CNI_REFERENCE_PLUGINS)
    void missingVariablesErrorOnStderr() throws Exception {
        String f = fakes.shell("stderr", """
                out=$("$REAL"); rc=$?
                if [ $rc -ne 0 ]; then printf '%s\\n' "$out" >&2; exit $rc; fi
                printf '%s\\n' "$out\"""");
        fails(f, "0.3.0", "error.missing-env", "must be JSON on stdout");
    }

    @Test
    @Requires(Requirement.CNI_REFERENCE_PLUGINS)
    void missingVariablesErrorWithExitZero() throws Exception {
        String f = fakes.shell("exit0", """
                out=$("$REAL"); printf '%s\\n' "$out"; exit 0""");
        fails(f, "0.3.1", "error.missing-env", "exit code is 0");
    }

    @Test
    void statusReadyAndNot() throws Exception {
        String claims = "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"1.0.0\",\"1.1.0\"]}";
        String ok = fakes.shell("status-ok", "cat >/dev/null\n[ \"$CNI_COMMAND\" = VERSION ] && printf '%s' '" + claims
                + "'\nexit 0");
        passes(ok, "1.1.0", "status.ready");
        target.close();
        String down = fakes.shell("status-down", "cat >/dev/null\n[ \"$CNI_COMMAND\" = VERSION ] && { printf '%s' '"
                + claims + "'; exit 0; }\necho '{\"cniVersion\":\"1.1.0\",\"code\":50,\"msg\":\"daemon down\"}'; exit 1");
        fails(down, "1.1.0", "status.ready", "STATUS failed for a fresh, usable configuration: exit 1");
    }
}
