package dev.nodekit.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchFrameTest {
    @TempDir
    Path dir;

    @Test
    void recordsRoundTripAndRenderIntoMarkdown() throws Exception {
        BenchStore store = new BenchStore(dir.resolve("bench/results"));
        BenchRecord r = BenchRecord.start("csi-create").target("unix:///x.sock").peer("csi-driver-host-path v1.15")
                .figure("create_c1_p50_ms", 2.5).figure("create_c8_per_s", 910).ratio("create_c8_per_s", 2.0)
                .goal("create_c8_per_s", ">= 2x peer").build();
        Path file = store.write(r);
        assertThat(file.getFileName().toString()).endsWith("-csi-create.json");
        assertThat(Files.readString(file)).contains("\"version\" : 1").contains("\"commit\"").contains("\"loadAverage\"");
        List<BenchRecord> back = store.readAll();
        assertThat(back).containsExactly(r);
        String md = BenchmarksMarkdown.render(back);
        assertThat(md).contains("## csi-create").contains("| create_c1_p50_ms | 2.50 |")
                .contains("| create_c8_per_s | 2.00 | >= 2x peer |").contains("Peer: csi-driver-host-path v1.15");
    }

    @Test
    void refusesNewerFormatVersionNamingTheFile() throws Exception {
        Path results = dir.resolve("results");
        Files.createDirectories(results);
        Files.writeString(results.resolve("x.json"), "{\"version\":2,\"bench\":\"b\",\"time\":\"2026-01-01T00:00:00Z\"}");
        assertThatThrownBy(() -> new BenchStore(results).readAll()).hasMessageContaining("x.json")
                .hasMessageContaining("format version 2");
    }

    @Test
    void latencyPercentiles() {
        LatencyStats s = LatencyStats.of(List.of(1_000_000L, 2_000_000L, 3_000_000L, 4_000_000L, 100_000_000L));
        assertThat(s.p50Ms()).isEqualTo(3.0);
        assertThat(s.p99Ms()).isEqualTo(100.0);
        assertThat(s.count()).isEqualTo(5);
    }
}
