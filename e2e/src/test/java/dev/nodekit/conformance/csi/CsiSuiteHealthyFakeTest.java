package dev.nodekit.conformance.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.conformance.Check;
import dev.nodekit.conformance.CheckResult;
import dev.nodekit.conformance.Outcome;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.SuiteRunner;

/** The healthy fake passes every CSI check that needs no root; the mount checks run in {@link CsiSuiteFakeIT}. */
class CsiSuiteHealthyFakeTest {
    @TempDir
    Path dir;
    FakePlugin fake;

    @BeforeEach
    void start() throws Exception {
        fake = new FakePlugin(dir.resolve("data"), false);
    }

    @AfterEach
    void stop() throws Exception {
        fake.close();
    }

    private List<String> failures(CsiTarget target) {
        SuiteRunner runner = new SuiteRunner(RunOptions.defaults().withStrict(false));
        List<String> bad = new ArrayList<>();
        for (Check<CsiTarget> c : CsiSuites.all().checks()) {
            if (!c.requirements().isEmpty()) {
                continue;
            }
            CheckResult r = runner.runOne(c, target);
            if (r.outcome() != Outcome.PASS) {
                bad.add(c.id() + " " + r.outcome() + ": " + r.reason());
            }
        }
        return bad;
    }

    @Test
    void passesEveryCheckWithoutRoot() throws Exception {
        CsiTarget t = fake.target(FakePlugin.config(dir.resolve("run"), CsiTarget.AccessType.MOUNT, 64L << 20, Map.of()));
        assertThat(failures(t)).isEmpty();
    }

    @Test
    void sendsTheRunSecretsWithEveryCallThatCarriesThem() throws Exception {
        fake.requiredSecrets = Map.of("user", "conformance", "key", "s3cr3t");
        CsiTarget t = fake.target(FakePlugin.config(dir.resolve("run"), CsiTarget.AccessType.MOUNT, 64L << 20,
                Map.of("user", "conformance", "key", "s3cr3t")));
        assertThat(failures(t)).isEmpty();
    }
}
