package dev.nodekit.e2e.crishim;

import static dev.nodekit.common.Requirement.CNI_REFERENCE_PLUGINS;
import static dev.nodekit.common.Requirement.CONTAINERD;
import static dev.nodekit.common.Requirement.NETNS;
import static dev.nodekit.common.Requirement.ROOT;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.bench.BenchRecord;
import dev.nodekit.bench.BenchStore;
import dev.nodekit.cli.NodekitMain;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.e2e.containerd.ContainerdExtension;
import dev.nodekit.e2e.containerd.ContainerdFixture;
import dev.nodekit.spec.cri.v1.ListPodSandboxRequest;

/**
 * {@code nodekit bench cri-shim} end to end against real containerd with tiny counts: it runs
 * containers, measures direct, both shim modes and the byte relay, kills and restarts the shim,
 * writes one record with every figure and goal, and leaves no pod behind. (The real numbers come
 * from a run with the default counts; see BENCHMARKS.md.)
 */
@Requires({ROOT, CONTAINERD, NETNS, CNI_REFERENCE_PLUGINS})
@ExtendWith(ContainerdExtension.class)
class CriShimBenchCommandIT {
    @TempDir
    Path results;

    @Test
    void benchCriShimWritesARecordWithEveryFigureAndLeavesNoPod(ContainerdFixture containerd) throws Exception {
        var direct = containerd.openChannel();
        try {
            var rt = Pods.rt(direct);
            int podsBefore = rt.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsCount();
            int code = NodekitMain.run("bench", "cri-shim", "--upstream", containerd.endpoint(), "--containers", "3",
                    "--rounds", "2", "--version-calls", "20", "--list-calls", "5", "--warmup-calls", "200",
                    "--callers", "4", "--throughput-seconds", "1", "--results", results.toString());
            assertThat(code).isZero();
            List<BenchRecord> records = new BenchStore(results).readAll();
            assertThat(records).singleElement().satisfies(r -> {
                assertThat(r.bench()).isEqualTo("cri-shim");
                assertThat(r.figures()).containsKeys("version_added_p50_us", "version_added_p99_us",
                        "list_added_p50_ms", "version_shim_calls_per_s", "shim_cpu_us_per_version", "shim_rss_mib",
                        "shim_restart_after_kill9_to_serving_ms", "grpc_version_added_p50_us");
                assertThat(r.figures().get("containers_listed")).isGreaterThanOrEqualTo(3);
                assertThat(r.figures().get("version_shim_calls_per_s")).isPositive();
                assertThat(r.goals()).containsKeys("version_added_p50_us", "list_added_p50_ms",
                        "shim_restart_after_kill9_to_serving_ms");
                assertThat(r.ratios()).containsKeys("version_p50", "version_throughput");
                assertThat(r.notes()).contains("warm-up 200 Version + 50 ListContainers per target");
            });
            assertThat(rt.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsCount())
                    .isEqualTo(podsBefore);
        } finally {
            direct.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
