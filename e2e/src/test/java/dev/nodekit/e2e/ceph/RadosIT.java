package dev.nodekit.e2e.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.csi.rbd.ceph.CephAlreadyExistsException;
import dev.nodekit.csi.rbd.ceph.CephCredentials;
import dev.nodekit.csi.rbd.ceph.CephException;
import dev.nodekit.csi.rbd.ceph.CephNotFoundException;
import dev.nodekit.csi.rbd.ceph.CephPermissionDeniedException;
import dev.nodekit.csi.rbd.ceph.CephUnavailableException;
import dev.nodekit.csi.rbd.ceph.ObjectStat;
import dev.nodekit.csi.rbd.ceph.OmapPage;
import dev.nodekit.csi.rbd.ceph.PoolUsage;
import dev.nodekit.csi.rbd.ceph.RadosCluster;
import dev.nodekit.csi.rbd.ceph.RadosConfig;
import dev.nodekit.csi.rbd.ceph.RadosPool;
import dev.nodekit.csi.rbd.ceph.WriteOp;

/** librados through JNA against the shared fixture, as the restricted CSI user. */
@Requires({Requirement.ROOT, Requirement.CEPH})
class RadosIT {
    private static CephCluster ceph;
    private static RadosCluster cluster;
    private static RadosPool pool;

    @BeforeAll
    static void connect() throws Exception {
        ceph = CephCluster.shared();
        cluster = RadosCluster.connect(config(ceph.clientKey()));
        pool = cluster.openPool(ceph.pool());
    }

    @AfterAll
    static void close() {
        if (cluster != null) {
            cluster.close();
        }
    }

    static RadosConfig config(String key) {
        return RadosConfig.of(ceph.monitors(), new CephCredentials(ceph.clientId(), key))
                .withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    private static String oid(String what) {
        return "it." + what + "." + System.nanoTime();
    }

    @Test
    void connectsAsTheRestrictedUserWithoutAConfigFile() throws CephException {
        assertThat(cluster.fsid()).isEqualTo(ceph.fsid());
        assertThat(cluster.instanceId()).isPositive();
        assertThat(cluster.poolId(ceph.pool())).isEqualTo(pool.id()).isPositive();
        assertThat(cluster.toString()).doesNotContain(ceph.clientKey());
        assertThat(cluster.config().toString()).doesNotContain(ceph.clientKey()).contains("<redacted>");
        assertThatThrownBy(() -> cluster.poolId("no-such-pool")).isInstanceOf(CephNotFoundException.class);
        assertThatThrownBy(() -> cluster.openPool("no-such-pool")).isInstanceOf(CephNotFoundException.class)
                .hasMessageContaining("pool=no-such-pool");
    }

    @Test
    void omapRoundTrip() throws CephException {
        String oid = oid("omap");
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("csi.volume.pvc-1", "uuid-1".getBytes(StandardCharsets.UTF_8));
        entries.put("csi.volume.pvc-2", new byte[] {0, 1, 2, (byte) 255});
        entries.put("csi.volume.ünïcödé", new byte[0]);
        pool.omapSet(oid, entries);

        Map<String, byte[]> got = pool.omapGet(oid, List.of("csi.volume.pvc-2", "csi.volume.missing",
                "csi.volume.pvc-1", "csi.volume.ünïcödé"));
        assertThat(got.keySet()).containsExactly("csi.volume.pvc-2", "csi.volume.pvc-1", "csi.volume.ünïcödé");
        assertThat(got.get("csi.volume.pvc-2")).containsExactly(0, 1, 2, 255);
        assertThat(got.get("csi.volume.ünïcödé")).isEmpty();
        assertThat(pool.omapGetStrings(oid, List.of("csi.volume.pvc-1"))).containsEntry("csi.volume.pvc-1", "uuid-1");

        pool.omapRemove(oid, List.of("csi.volume.pvc-1", "csi.volume.never-set"));
        assertThat(pool.omapGet(oid, List.of("csi.volume.pvc-1", "csi.volume.pvc-2")).keySet())
                .containsExactly("csi.volume.pvc-2");

        pool.remove(oid);
        assertThatThrownBy(() -> pool.omapGet(oid, List.of("csi.volume.pvc-2")))
                .isInstanceOf(CephNotFoundException.class).hasMessageContaining("object=" + oid);
        assertThatThrownBy(() -> pool.remove(oid)).isInstanceOf(CephNotFoundException.class);
    }

    @Test
    void omapListPagesInKeyOrderWithPrefix() throws CephException {
        String oid = oid("list");
        Map<String, String> entries = new LinkedHashMap<>();
        for (int i = 0; i < 25; i++) {
            entries.put(String.format("csi.volume.%02d", i), "v" + i);
        }
        entries.put("other.key", "x");
        pool.write(oid, WriteOp.empty().omapSetStrings(entries));

        List<String> seen = new ArrayList<>();
        String after = "";
        int pages = 0;
        OmapPage page;
        do {
            page = pool.omapList(oid, after, "csi.volume.", 10);
            seen.addAll(page.entries().keySet());
            after = page.lastKey();
            pages++;
        } while (page.more());
        assertThat(pages).isEqualTo(3);
        assertThat(seen).hasSize(25).isSorted().allMatch(k -> k.startsWith("csi.volume."));
        assertThat(pool.omapList(oid, "", "", 100).strings()).containsEntry("other.key", "x").hasSize(26);
        pool.remove(oid);
    }

    @Test
    void exclusiveCreateConflictIsAlreadyExistsAndAtomic() throws CephException {
        String oid = oid("reserve");
        WriteOp reserve = WriteOp.empty().createExclusive().omapSetStrings(Map.of("csi.volname", "first"));
        pool.write(oid, reserve);

        WriteOp second = WriteOp.empty().createExclusive().omapSetStrings(Map.of("csi.volname", "second"));
        assertThatThrownBy(() -> pool.write(oid, second)).isInstanceOfSatisfying(CephAlreadyExistsException.class, e -> {
            assertThat(e.errno()).isEqualTo(17);
            assertThat(e.errnoName()).isEqualTo("EEXIST");
            assertThat(e.what()).contains("object=" + oid);
        });
        // All or nothing: the failed op did not overwrite the key.
        assertThat(pool.omapGetStrings(oid, List.of("csi.volname"))).containsEntry("csi.volname", "first");

        // Idempotent create and an existence check on an existing object succeed.
        pool.write(oid, WriteOp.empty().createIfMissing().assertExists().omapSetStrings(Map.of("k", "v")));
        String absent = oid("absent");
        assertThatThrownBy(() -> pool.write(absent, WriteOp.empty().assertExists().omapSetStrings(Map.of("k", "v"))))
                .isInstanceOf(CephNotFoundException.class);
        assertThatThrownBy(() -> pool.stat(absent)).isInstanceOf(CephNotFoundException.class);
        pool.write(oid, WriteOp.empty().remove());
    }

    @Test
    void statReportsSizeAndTime() throws CephException {
        String oid = oid("stat");
        pool.omapSet(oid, Map.of("k", new byte[] {1}));
        ObjectStat st = pool.stat(oid);
        assertThat(st.sizeBytes()).isZero();
        assertThat(st.modified()).isAfter(java.time.Instant.now().minusSeconds(120));
        pool.remove(oid);
    }

    @Test
    void wrongKeyIsPermissionDeniedAtOnce() {
        String wrong = CephKeys.generate();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> RadosCluster.connect(config(wrong)))
                .isInstanceOfSatisfying(CephPermissionDeniedException.class, e -> {
                    assertThat(e.getMessage()).contains("client." + ceph.clientId(), "unknown user or wrong key")
                            .doesNotContain(wrong).doesNotContain(ceph.clientKey());
                    assertThat(e.errnoName()).isIn("EACCES", "EPERM");
                });
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        System.out.printf("rados: wrong key refused in %d ms%n", took.toMillis());
        assertThat(took).isLessThan(Duration.ofSeconds(5));

        assertThatThrownBy(() -> RadosCluster.connect(RadosConfig.of(ceph.monitors(),
                new CephCredentials("nobody", ceph.clientKey()))))
                .isInstanceOf(CephPermissionDeniedException.class);
    }

    @Test
    void bareHostPortMonitorsTurnAWrongKeyIntoATimeout() {
        // Documented librados behaviour: without v1:/v2: it also tries the other protocol on that port.
        String bare = "127.0.0.1:" + ceph.monV2Port();
        String wrong = CephKeys.generate();
        RadosConfig cfg = new RadosConfig(bare, new CephCredentials(ceph.clientId(), wrong), Duration.ofSeconds(2),
                Duration.ofSeconds(2), Duration.ofSeconds(2));
        assertThatThrownBy(() -> RadosCluster.connect(cfg)).isInstanceOfSatisfying(CephUnavailableException.class,
                e -> assertThat(e.getMessage()).contains("v1:/v2: prefix"));
    }

    @Test
    void otherPoolsAreDenied() throws Exception {
        ceph.adminOk("ceph", "osd", "pool", "create", "rados-it-other", "1", "1");
        try (RadosPool other = cluster.openPool("rados-it-other")) {
            assertThatThrownBy(() -> other.omapSet("x", Map.of("k", new byte[] {1})))
                    .isInstanceOf(CephPermissionDeniedException.class).hasMessageContaining("pool=rados-it-other");
        } finally {
            ceph.adminOk("ceph", "osd", "pool", "rm", "rados-it-other", "rados-it-other", "--yes-i-really-really-mean-it");
        }
    }

    @Test
    void poolUsageAndStatsComeFromTheManager() throws Exception {
        ceph.awaitManager(Duration.ofSeconds(60));
        PoolUsage usage = cluster.poolUsage(ceph.pool());
        assertThat(usage.pool()).isEqualTo(ceph.pool());
        assertThat(usage.poolId()).isEqualTo(pool.id());
        assertThat(usage.maxAvailableBytes()).isPositive();
        assertThat(pool.stats().objects()).isNotNegative();
        assertThat(cluster.clusterStats().totalBytes()).isPositive();
        assertThatThrownBy(() -> cluster.poolUsage("no-such-pool")).isInstanceOf(CephNotFoundException.class);
    }

    @Test
    void oneConnectionServesManyThreads() throws Exception {
        ExecutorService exec = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int n = t;
                results.add(exec.submit(() -> {
                    String oid = oid("mt" + n);
                    for (int i = 0; i < 20; i++) {
                        pool.write(oid, WriteOp.empty().omapSetStrings(Map.of("k" + i, "v" + i)));
                    }
                    String v = pool.omapGetStrings(oid, List.of("k19")).get("k19");
                    pool.remove(oid);
                    return v;
                }));
            }
            for (Future<String> f : results) {
                assertThat(f.get()).isEqualTo("v19");
            }
        } finally {
            exec.shutdownNow();
        }
    }

    @Test
    void closedHandlesRefuseCallsAndCloseIsIdempotent() throws CephException {
        RadosCluster c = RadosCluster.connect(config(ceph.clientKey()));
        RadosPool p = c.openPool(ceph.pool());
        RadosPool p2 = c.openPool(ceph.pool());
        p2.close();
        p2.close();
        assertThat(p2.isClosed()).isTrue();
        assertThatThrownBy(() -> p2.stat("x")).isInstanceOf(IllegalStateException.class);
        c.close();
        c.close();
        assertThat(p.isClosed()).isTrue();
        assertThatThrownBy(() -> p.stat("x")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> c.openPool(ceph.pool())).isInstanceOf(IllegalStateException.class);
        p.close();
        assertThat(c.isClosed()).isTrue();
    }
}
