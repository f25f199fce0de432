package dev.nodekit.e2e.ceph;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.nodekit.bench.LatencyStats;
import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.csi.rbd.ceph.CephCredentials;
import dev.nodekit.csi.rbd.ceph.ImageOptions;
import dev.nodekit.csi.rbd.ceph.RadosCluster;
import dev.nodekit.csi.rbd.ceph.RadosConfig;
import dev.nodekit.csi.rbd.ceph.RadosPool;
import dev.nodekit.csi.rbd.ceph.RbdImages;
import dev.nodekit.csi.rbd.ceph.WriteOp;

/**
 * Measures what the RBD backend's latency target rests on, on the memstore fixture: boot, connect,
 * image create/remove in-process vs the {@code rbd} CLI (both as the restricted user), omap writes.
 * Prints the numbers and writes them to {@code target/ceph-latency.txt}; the only assertion is the
 * reason for binding librbd at all: in-process create beats a CLI create.
 */
@Requires({Requirement.ROOT, Requirement.CEPH})
class CephLatencyIT {
    private static final int N = 20;

    private static CephCluster ceph;
    private static RadosConfig config;
    private static RadosCluster cluster;
    private static RadosPool pool;
    private static final List<String> report = new ArrayList<>();

    @BeforeAll
    static void connect() throws Exception {
        ceph = CephCluster.shared();
        config = RadosConfig.of(ceph.monitors(), new CephCredentials(ceph.clientId(), ceph.clientKey()));
        cluster = RadosCluster.connect(config);
        pool = cluster.openPool(ceph.pool());
    }

    @AfterAll
    static void writeReport() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
        Path out = Path.of("target", "ceph-latency.txt");
        Files.createDirectories(out.getParent());
        Files.write(out, report);
    }

    private static void record(String line) {
        System.out.println("latency: " + line);
        report.add(line);
    }

    private static String fmt(String what, LatencyStats s) {
        return String.format("%-28s n=%d p50=%.1f ms p90=%.1f ms max=%.1f ms", what, s.count(), s.p50Ms(), s.p90Ms(),
                s.maxMs());
    }

    @Test
    void bootConnectCreateRemoveAndOmap() throws Exception {
        record("fixture boot (first in this JVM, until rbd pool init): " + ceph.lastStartDuration().toMillis() + " ms "
                + ceph.lastStartTimeline());

        List<Long> connects = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            long t0 = System.nanoTime();
            RadosCluster c = RadosCluster.connect(config);
            connects.add(System.nanoTime() - t0);
            c.close();
        }
        record(fmt("connect (JNA)", LatencyStats.of(connects)));

        RbdImages images = pool.images();
        String run = Long.toString(System.nanoTime());
        List<Long> jnaCreate = new ArrayList<>();
        List<Long> cliCreate = new ArrayList<>();
        List<Long> jnaRemove = new ArrayList<>();
        List<Long> cliRemove = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            String a = "lat-jna-" + run + "-" + i;
            long t0 = System.nanoTime();
            images.create(a, 1L << 30, ImageOptions.defaults());
            jnaCreate.add(System.nanoTime() - t0);

            String b = "lat-cli-" + run + "-" + i;
            CliResult r = asClient("rbd", "create", "--size", "1G", ceph.pool() + "/" + b);
            assertThat(r.ok()).as(r.describe()).isTrue();
            cliCreate.add(r.duration().toNanos());
        }
        for (int i = 0; i < N; i++) {
            long t0 = System.nanoTime();
            images.remove("lat-jna-" + run + "-" + i);
            jnaRemove.add(System.nanoTime() - t0);
            CliResult r = asClient("rbd", "rm", "--no-progress", ceph.pool() + "/lat-cli-" + run + "-" + i);
            assertThat(r.ok()).as(r.describe()).isTrue();
            cliRemove.add(r.duration().toNanos());
        }
        LatencyStats jc = LatencyStats.of(jnaCreate);
        LatencyStats cc = LatencyStats.of(cliCreate);
        record(fmt("rbd create 1G (JNA)", jc));
        record(fmt("rbd create 1G (rbd CLI)", cc));
        record(fmt("rbd remove (JNA)", LatencyStats.of(jnaRemove)));
        record(fmt("rbd remove (rbd CLI)", LatencyStats.of(cliRemove)));

        List<Long> omapSet = new ArrayList<>();
        List<Long> omapGet = new ArrayList<>();
        List<Long> reserve = new ArrayList<>();
        String dirObject = "lat.dir." + run;
        for (int i = 0; i < 50; i++) {
            long t0 = System.nanoTime();
            pool.omapSet(dirObject, Map.of("csi.volume.pvc-" + i, ("uuid-" + i).getBytes()));
            omapSet.add(System.nanoTime() - t0);
            t0 = System.nanoTime();
            pool.omapGet(dirObject, List.of("csi.volume.pvc-" + i));
            omapGet.add(System.nanoTime() - t0);
            t0 = System.nanoTime();
            pool.write("lat.vol." + run + "." + i, WriteOp.empty().createExclusive()
                    .omapSetStrings(Map.of("csi.volname", "pvc-" + i, "csi.imagename", "csi-vol-" + i)));
            reserve.add(System.nanoTime() - t0);
        }
        record(fmt("omap set 1 key (JNA)", LatencyStats.of(omapSet)));
        record(fmt("omap get 1 key (JNA)", LatencyStats.of(omapGet)));
        record(fmt("create(excl)+omap set (JNA)", LatencyStats.of(reserve)));
        for (int i = 0; i < 50; i++) {
            pool.remove("lat.vol." + run + "." + i);
        }
        pool.remove(dirObject);

        assertThat(jc.p50Ms()).as("in-process create p50 vs CLI create p50").isLessThan(cc.p50Ms());
    }

    private static CliResult asClient(String tool, String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of(tool, "--id", ceph.clientId(), "--keyfile",
                ceph.clientKeyFile().toString(), "-c", "/dev/null", "-m", ceph.monitors()));
        argv.addAll(List.of(args));
        return Exec.run(argv, Map.of(), ceph.dir().resolve("scratch"), Duration.ofSeconds(60), Optional::empty);
    }
}
