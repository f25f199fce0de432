package dev.nodekit.e2e.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.bench.BenchRecord;
import dev.nodekit.bench.BenchStore;
import dev.nodekit.cli.NodekitMain;
import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;

/**
 * {@code nodekit bench csi-rbd} end to end with tiny counts: it boots its own Ceph fixture, starts
 * the RBD driver through the launcher, measures both sides and writes one record with the figures,
 * the ratios and the goal; afterwards none of its cluster dirs, scratch dirs or processes is left.
 * (The real numbers come from a run with the default counts; see BENCHMARKS.md.)
 */
@Requires({Requirement.ROOT, Requirement.CEPH})
class CsiRbdBenchCommandIT {
    @TempDir
    Path results;

    @TempDir
    Path scratch;

    @Test
    void benchCsiRbdWritesARecordAndLeavesNothingBehind() throws Exception {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Set<Path> before = clusterDirsOfThisJvm(tmp);
        Set<Long> childrenBefore = children();
        long start = System.nanoTime();
        int code = NodekitMain.run("bench", "csi-rbd", "--count", "8", "--warmup", "1", "--results",
                results.toString(), "--scratch-parent", scratch.toString());
        System.out.printf("bench csi-rbd with --count 8 ran in %.1f s%n", (System.nanoTime() - start) / 1e9);
        assertThat(code).isZero();
        List<BenchRecord> records = new BenchStore(results).readAll();
        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.bench()).isEqualTo("csi-rbd");
            assertThat(r.figures()).containsKeys("cli_create_c1_p50_ms", "cli_create_c1_p99_ms", "create_c1_p50_ms",
                    "create_c1_p90_ms", "create_c1_p99_ms", "cli_rm_c1_p50_ms", "delete_c1_p50_ms",
                    "create_c8_per_s", "cli_create_c8_per_s", "delete_c8_per_s", "cli_rm_c8_per_s", "driver_rss_mib");
            assertThat(r.figures().get("create_c1_p50_ms")).isPositive();
            assertThat(r.figures().get("cli_create_c1_p50_ms")).isPositive();
            assertThat(r.ratios().get("create_p50_vs_cli")).isEqualTo(
                    r.figures().get("create_c1_p50_ms") / r.figures().get("cli_create_c1_p50_ms"));
            assertThat(r.ratios()).containsKeys("delete_p50_vs_cli_rm", "create_c8_vs_cli");
            assertThat(r.goals()).containsEntry("create_p50_vs_cli", "<= 1.2");
            assertThat(r.notes()).contains("rbd create", "journal");
        });
        Set<Path> after = clusterDirsOfThisJvm(tmp);
        after.removeAll(before);
        assertThat(after).as("cluster dirs of the run").isEmpty();
        try (var s = Files.list(scratch)) {
            assertThat(s.toList()).as("scratch dirs of the run").isEmpty();
        }
        Set<Long> left = children();
        left.removeAll(childrenBefore);
        assertThat(left.stream().map(CsiRbdBenchCommandIT::commandLine).toList())
                .as("processes of the run (ceph daemons, driver, rbd)").isEmpty();
    }

    /** The fixture's cluster dirs in {@code tmp} owned by this JVM (other builds may boot their own). */
    private static Set<Path> clusterDirsOfThisJvm(Path tmp) throws IOException {
        Set<Path> out = new HashSet<>();
        String self = ProcessHandle.current().pid() + " ";
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmp, "nodekit-ceph-*")) {
            for (Path d : ds) {
                try {
                    if (Files.readString(d.resolve("owner"), StandardCharsets.UTF_8).startsWith(self)) {
                        out.add(d);
                    }
                } catch (IOException e) {
                    out.add(d); // being created or deleted right now: count it, a leak would stay
                }
            }
        }
        return out;
    }

    /** Live descendants of this JVM (the fixture's daemons and the driver are its children). */
    private static Set<Long> children() {
        Set<Long> out = new HashSet<>();
        ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).forEach(p -> out.add(p.pid()));
        return out;
    }

    private static String commandLine(long pid) {
        try {
            return pid + " " + new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                    StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException e) {
            return pid + " (gone)";
        }
    }
}
