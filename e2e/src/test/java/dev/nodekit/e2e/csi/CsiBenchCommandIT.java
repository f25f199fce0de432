package dev.nodekit.e2e.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.bench.BenchRecord;
import dev.nodekit.bench.BenchStore;
import dev.nodekit.cli.NodekitMain;
import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;

/**
 * {@code nodekit bench csi} end to end with tiny counts: it starts a driver through the launcher,
 * measures every phase and writes one record with the figures, the peer reference and the goals.
 * (The real numbers come from a run with the default counts; see BENCHMARKS.md.)
 */
@Requires({Requirement.ROOT, Requirement.LOOP_DEVICES})
class CsiBenchCommandIT {
    @TempDir
    Path results;

    @Test
    void benchCsiWritesARecordWithEveryFigure() throws Exception {
        Path work = Files.createTempDirectory("nodekit-bench-it-");
        try {
            int code = NodekitMain.run("bench", "csi", "--count", "16", "--cycles", "2", "--results",
                    results.toString(), "--work-dir", work.toString());
            assertThat(code).isZero();
            List<BenchRecord> records = new BenchStore(results).readAll();
            assertThat(records).singleElement().satisfies(r -> {
                assertThat(r.bench()).startsWith("csi-driver");
                assertThat(r.figures()).containsKeys("create_c1_per_s", "create_c1_p50_ms", "create_c1_p99_ms",
                        "create_c8_per_s", "delete_c8_per_s", "node_cycle_per_s", "driver_rss_mib",
                        "peer_create_c8_per_s");
                assertThat(r.figures().get("create_c8_per_s")).isPositive();
                assertThat(r.ratios()).containsKeys("create_c8_vs_peer", "driver_rss_vs_peer");
                assertThat(r.goals()).containsKeys("create_c8_per_s", "create_c1_p50_ms", "driver_rss_mib");
                assertThat(r.notes()).contains("csi-driver-host-path");
            });
            HostState.assertClean(work);
        } finally {
            HostState.forceClean(work);
            HostState.deleteTree(work);
        }
    }
}
