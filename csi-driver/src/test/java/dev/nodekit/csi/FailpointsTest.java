package dev.nodekit.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.nodekit.csi.Failpoints.Point;

class FailpointsTest {
    @Test
    void everyPointHasAUniqueWellFormedName() {
        List<String> ids = Arrays.stream(Point.values()).map(Point::id).toList();
        assertThat(ids).doesNotHaveDuplicates().allMatch(id -> id.matches("[a-z]+\\.[a-z-]+\\.[a-z-]+"));
        for (Point p : Point.values()) {
            assertThat(Point.byId(p.id())).isSameAs(p);
        }
        assertThat(Failpoints.withPrefix("local.")).isNotEmpty().allMatch(p -> p.id().startsWith("local."));
        assertThat(Failpoints.withPrefix("")).containsExactly(Point.values());
    }

    @Test
    void parsesListsAndRefusesUnknownNames() {
        assertThat(Failpoints.parse(null)).isEmpty();
        assertThat(Failpoints.parse(" ")).isEmpty();
        assertThat(Failpoints.parse("local.create.reserved, LOCAL.DELETE.DONE,"))
                .isEqualTo(EnumSet.of(Point.LOCAL_CREATE_RESERVED, Point.LOCAL_DELETE_DONE));
        assertThatThrownBy(() -> Failpoints.parse("local.create.typo")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown failpoint 'local.create.typo'");
    }

    @Test
    void nothingIsArmedInANormalJvm() {
        assertThat(Failpoints.armed()).isEmpty();
        Failpoints.hit(Point.LOCAL_CREATE_RESERVED); // returns
    }

    @Test
    void anArmedPointHaltsTheJvmLikeKillMinusNine() throws Exception {
        Result r = child(List.of("-D" + Failpoints.PROPERTY + "=local.create.committed"), Map.of(),
                "local.create.committed");
        assertThat(r.exit).isEqualTo(Failpoints.EXIT_STATUS);
        assertThat(r.stdout).contains("passed [local.create.committed]").doesNotContain("after");
        assertThat(r.stderr).contains("failpoint local.create.committed hit");
    }

    @Test
    void theEnvironmentArmsToo() throws Exception {
        Result r = child(List.of(), Map.of(Failpoints.ENV, "local.snapshot.reserved"), "local.snapshot.reserved");
        assertThat(r.exit).isEqualTo(Failpoints.EXIT_STATUS);
        Result other = child(List.of(), Map.of(Failpoints.ENV, "local.snapshot.reserved"), "local.create.reserved");
        assertThat(other.exit).isZero();
        assertThat(other.stdout).contains("after");
    }

    private record Result(int exit, String stdout, String stderr) {
    }

    private static Result child(List<String> jvmArgs, Map<String, String> env, String point) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path")));
        cmd.addAll(jvmArgs);
        cmd.add(FailpointChild.class.getName());
        cmd.add(point);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove(Failpoints.ENV);
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
