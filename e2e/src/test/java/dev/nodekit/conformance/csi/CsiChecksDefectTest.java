package dev.nodekit.conformance.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.nodekit.conformance.Check;
import dev.nodekit.conformance.CheckResult;
import dev.nodekit.conformance.Outcome;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.SuiteRunner;

/** Every CSI check without host requirements FAILS against the fake with its one injected defect. */
class CsiChecksDefectTest {
    @TempDir
    Path dir;

    static Stream<Arguments> unitCases() {
        return CsiDefects.UNIT.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    static Check<CsiTarget> check(String id) {
        return CsiSuites.all().checks().stream().filter(c -> c.id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + id));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unitCases")
    void failsWithItsDefect(String id, CsiDefects.Case defect) throws Exception {
        Check<CsiTarget> check = check(id);
        assertThat(check.requirements()).as("unit-tested checks need nothing from the host").isEmpty();
        try (FakePlugin fake = new FakePlugin(dir.resolve("data"), false)) {
            CsiTarget t = fake.target(FakePlugin.config(dir.resolve("run"), CsiTarget.AccessType.MOUNT, 64L << 20,
                    Map.of()));
            defect.inject().accept(fake);
            CheckResult r = new SuiteRunner(RunOptions.defaults().withStrict(false)).runOne(check, t);
            assertThat(r.outcome()).as(id + ": " + r.reason()).isEqualTo(Outcome.FAIL);
            assertThat(r.reason()).contains(defect.reason());
        }
    }

    @Test
    void everyCheckHasADefectThatFailsIt() {
        Set<String> covered = new HashSet<>(CsiDefects.UNIT.keySet());
        covered.addAll(CsiDefects.ROOT.keySet());
        CsiIdentityChecks.suite().checks().forEach(c -> covered.add(c.id()));
        Set<String> all = CsiSuites.all().checks().stream().map(Check::id).collect(Collectors.toSet());
        assertThat(all).as("checks without a defect test").isSubsetOf(covered);
        assertThat(covered).as("defect tests of checks that do not exist").isSubsetOf(all);
        for (String id : CsiDefects.ROOT.keySet()) {
            assertThat(check(id).requirements()).as(id + " is tested as root, so it must declare ROOT").isNotEmpty();
        }
    }
}
