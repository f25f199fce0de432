package dev.nodekit.conformance.cni;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.conformance.Check;
import dev.nodekit.conformance.CheckResult;
import dev.nodekit.conformance.Outcome;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.SuiteReport;
import dev.nodekit.conformance.SuiteRunner;

/**
 * The 1.1.0 checks, which no reference plugin can pass (Debian's plugins stop at 1.0.0): a fake
 * that lifts the Go bridge to 1.1.0 (STATUS, GC on the host-local dir) passes all of them, and
 * fakes with a broken STATUS or GC fail the matching check.
 */
@Requires({Requirement.ROOT, Requirement.NETNS, Requirement.CNI_REFERENCE_PLUGINS})
class CniV110FakeIT {
    @TempDir
    Path dir;
    CniTarget target;

    @AfterEach
    void close() throws Exception {
        if (target != null) {
            target.close();
        }
    }

    private CniTarget open(String mode) throws Exception {
        FakePlugins fakes = new FakePlugins(dir);
        String plugin = fakes.java(mode, mode, "bridge");
        target = CniTarget.open(CniTarget.Config.generated(fakes.binDir(), plugin, "host-local"));
        return target;
    }

    private CheckResult run(String mode, String check) throws Exception {
        CniTarget t = open(mode);
        Check<CniTarget> c = CniChecks.suite(List.of("1.1.0")).checks().stream()
                .filter(x -> x.id().equals("cni.v110." + check)).findFirst().orElseThrow();
        return new SuiteRunner(RunOptions.defaults().withStrict(false)).runOne(c, t);
    }

    @Test
    void liftedPluginPassesEvery110Check() throws Exception {
        CniTarget t = open("v110");
        assertThat(t.versions()).contains("1.1.0");
        // The parallel check is left out: 80 JVM starts on two cores prove nothing the Go run does not.
        SuiteReport report = new SuiteRunner(RunOptions.defaults().withStrict(false).withSkip("parallel"))
                .run(CniChecks.suite(List.of("1.1.0")), t);
        report.results().forEach(r -> assertThat(r.outcome()).as(r.id() + ": " + r.reason()).isEqualTo(Outcome.PASS));
        assertThat(report.results()).extracting(CheckResult::id).contains("cni.v110.status.ready",
                "cni.v110.gc.valid-attachments");
    }

    @Test
    void statusError() throws Exception {
        CheckResult r = run("v110-status-fails", "status.ready");
        assertThat(r.outcome()).isEqualTo(Outcome.FAIL);
        assertThat(r.reason()).contains("STATUS failed").contains("plugin not available");
    }

    @Test
    void gcThatKeepsEverything() throws Exception {
        CheckResult r = run("v110-gc-noop", "gc.valid-attachments");
        assertThat(r.outcome()).isEqualTo(Outcome.FAIL);
        assertThat(r.reason()).contains("GC kept");
    }

    @Test
    void gcThatReleasesTheListedToo() throws Exception {
        CheckResult r = run("v110-gc-all", "gc.valid-attachments");
        assertThat(r.outcome()).isEqualTo(Outcome.FAIL);
        assertThat(r.reason()).contains("GC released");
    }
}
