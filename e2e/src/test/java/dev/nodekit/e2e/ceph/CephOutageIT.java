package dev.nodekit.e2e.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.csi.rbd.ceph.CephCredentials;
import dev.nodekit.csi.rbd.ceph.CephException;
import dev.nodekit.csi.rbd.ceph.CephUnavailableException;
import dev.nodekit.csi.rbd.ceph.ImageOptions;
import dev.nodekit.csi.rbd.ceph.RadosCluster;
import dev.nodekit.csi.rbd.ceph.RadosConfig;
import dev.nodekit.csi.rbd.ceph.RadosPool;
import dev.nodekit.csi.rbd.ceph.RbdImages;

/**
 * The whole cluster goes down and comes back, under a live connection: calls fail with
 * UNAVAILABLE within the configured timeout (no hang, no thread left behind), and new calls on the
 * same connection succeed once the cluster is back. Uses a private cluster: stopping the shared one
 * would disturb the other tests.
 */
@Requires({Requirement.ROOT, Requirement.CEPH})
class CephOutageIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(3);
    /** Scheduling slack on a loaded 2-core CI machine. */
    private static final Duration SLACK = Duration.ofSeconds(4);

    private static CephCluster ceph;

    @BeforeAll
    static void boot() throws IOException {
        ceph = CephCluster.start(CephCluster.Options.defaults().withPool("outage"));
    }

    @AfterAll
    static void teardown() {
        if (ceph != null) {
            ceph.close();
        }
    }

    private static RadosConfig config() {
        return RadosConfig.of(ceph.monitors(), new CephCredentials(ceph.clientId(), ceph.clientKey()))
                .withTimeouts(TIMEOUT, TIMEOUT);
    }

    @Test
    void callsFailWithinTheTimeoutDuringAnOutageAndRecoverAfterIt() throws Exception {
        RadosCluster.connect(config()).close(); // loads the libraries, so the baseline below is steady
        int javaThreadsBefore = Thread.getAllStackTraces().size();
        int nativeThreadsBefore = nativeThreads();
        int nativeThreadsConnected;

        try (RadosCluster cluster = RadosCluster.connect(config())) {
            RadosCluster closedDuringOutage = RadosCluster.connect(config());
            RadosPool closedPool = closedDuringOutage.openPool("outage");
            RadosPool pool = cluster.openPool("outage");
            RbdImages images = pool.images();
            images.create("before", 8 << 20, ImageOptions.defaults());
            pool.omapSet("journal", Map.of("k", "v".getBytes()));
            nativeThreadsConnected = nativeThreads();

            ceph.stop();

            expectUnavailable("omap set", TIMEOUT, () -> pool.omapSet("journal", Map.of("k2", new byte[] {1})));
            expectUnavailable("omap get", TIMEOUT, () -> pool.omapGet("journal", List.of("k")));
            expectUnavailable("rbd create", TIMEOUT, () -> images.create("during", 8 << 20, ImageOptions.defaults()));
            expectUnavailable("rbd stat", TIMEOUT, () -> images.stat("before"));
            expectUnavailable("new connection", TIMEOUT, () -> RadosCluster.connect(config()).close());
            long c0 = System.nanoTime();
            closedPool.close();
            closedDuringOutage.close();
            Duration closing = Duration.ofNanos(System.nanoTime() - c0);
            System.out.printf("outage: closing a connection during the outage took %d ms%n", closing.toMillis());
            assertThat(closing).isLessThan(TIMEOUT.plus(SLACK));

            ceph.start();

            // The same connection serves new calls once the cluster answers again: librados re-hunts the
            // monitors at most 6 s apart (RadosCluster caps the back-off), plus one call's timeout.
            long t0 = System.nanoTime();
            Map<String, byte[]> got = retryUntil(Duration.ofSeconds(6).plus(TIMEOUT).plus(SLACK),
                    () -> pool.omapGet("journal", List.of("k")));
            System.out.printf("outage: first call on the old connection succeeded %d ms after the cluster was usable%n",
                    (System.nanoTime() - t0) / 1_000_000);
            assertThat(got).containsKey("k");
            images.create("after", 8 << 20, ImageOptions.defaults());
            assertThat(images.stat("before").sizeBytes()).isEqualTo(8 << 20);
            assertThat(images.list()).extracting(i -> i.name()).contains("before", "after").doesNotContain("during");
        }

        // Nothing left behind: no Java thread, and librados' native threads are gone with the handle.
        System.out.printf("outage: threads: %d native before connecting, %d connected, %d after close; java %d -> %d%n",
                nativeThreadsBefore, nativeThreadsConnected, nativeThreads(), javaThreadsBefore,
                Thread.getAllStackTraces().size());
        assertThat(Thread.getAllStackTraces().size()).isLessThanOrEqualTo(javaThreadsBefore);
        assertThat(nativeThreads()).isLessThanOrEqualTo(nativeThreadsBefore + 2);
    }

    /** An operation that must fail. */
    @FunctionalInterface
    interface Call {
        void run() throws Exception;
    }

    /** An operation with a result. */
    @FunctionalInterface
    interface Get<T> {
        T get() throws Exception;
    }

    private static void expectUnavailable(String what, Duration timeout, Call call) {
        long t0 = System.nanoTime();
        assertThatThrownBy(call::run).as(what).isInstanceOf(CephUnavailableException.class)
                .satisfies(e -> assertThat(((CephException) e).errnoName()).isEqualTo("ETIMEDOUT"));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        System.out.printf("outage: %s failed UNAVAILABLE after %d ms (timeout %d s)%n", what, took.toMillis(),
                timeout.toSeconds());
        assertThat(took).as(what + " duration").isLessThan(timeout.plus(SLACK));
    }

    private static <T> T retryUntil(Duration limit, Get<T> get) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            try {
                return get.get();
            } catch (CephUnavailableException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                System.out.printf("outage: still unavailable after restart: %s%n", e.getMessage());
            }
        }
    }

    private static int nativeThreads() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/task"))) {
            return (int) s.count();
        }
    }
}
