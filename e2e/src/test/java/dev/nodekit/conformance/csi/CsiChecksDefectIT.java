package dev.nodekit.conformance.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.conformance.CheckResult;
import dev.nodekit.conformance.Outcome;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.SuiteRunner;

/**
 * Every CSI check that needs real mounts FAILS against the fake (doing real bind mounts, tmpfs and
 * loop devices) with its one injected defect, and the fake's close leaves no mount or loop device.
 */
@Requires({Requirement.ROOT, Requirement.LOOP_DEVICES})
class CsiChecksDefectIT {
    @TempDir
    Path dir;

    static Stream<Arguments> rootCases() {
        return CsiDefects.ROOT.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rootCases")
    void failsWithItsDefect(String id, CsiDefects.Case defect) throws Exception {
        CheckResult r;
        try (FakePlugin fake = new FakePlugin(dir.resolve("data"), true)) {
            CsiTarget t = fake.target(FakePlugin.config(dir.resolve("run"), CsiTarget.AccessType.MOUNT, 64L << 20,
                    Map.of()));
            defect.inject().accept(fake);
            r = new SuiteRunner(RunOptions.defaults().withStrict(true)).runOne(CsiChecksDefectTest.check(id), t);
        }
        assertThat(r.outcome()).as(id + ": " + r.reason()).isEqualTo(Outcome.FAIL);
        assertThat(r.reason()).contains(defect.reason());
        assertThat(MountTable.read().under(dir)).as("mounts left under " + dir).isEmpty();
    }
}
