package dev.nodekit.csi.rbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.csi.spi.ContentSource;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.Image;
import dev.nodekit.csi.spi.ImageSpec;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.Snapshot;
import dev.nodekit.csi.spi.SnapshotSpec;
import dev.nodekit.e2e.ceph.CephCluster;

/**
 * Clone chains stay bounded: with softMaxCloneDepth 1 and hardMaxCloneDepth 2, a chain of
 * snapshot-restore-snapshot-restore... and clone-of-clone is built ten links long; measured with
 * the {@code rbd} CLI after every step, no image is ever deeper than the hard limit, and once the
 * background flattens are done none is deeper than the soft one. Deleting everything leaves the
 * pool and its trash without our images.
 */
@Requires({Requirement.ROOT, Requirement.CEPH})
class RbdCloneDepthIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SIZE = 8 << 20;

    static CephCluster cluster;
    static Path work;
    static RbdBackend backend;
    static Credentials creds;
    static Map<String, String> params;

    @BeforeAll
    static void boot() throws Exception {
        cluster = CephCluster.shared();
        work = Files.createTempDirectory("nodekit-rbd-depth-");
        RbdConfig base = RbdTestCluster.config(cluster, null, Duration.ofSeconds(10), Duration.ofSeconds(20), 1, 2);
        RbdConfig config = new RbdConfig("depth", 1, 2, null, 1, base.clusters());
        backend = RbdBackendFactory.open(config, work.resolve("data"), new ProcessCommandRunner(), Clock.systemUTC());
        creds = Credentials.of(RbdTestCluster.secrets(cluster));
        params = RbdTestCluster.parameters(cluster);
    }

    @AfterAll
    static void close() throws Exception {
        if (backend != null) {
            backend.close();
        }
        if (work != null) {
            RbdHost.deleteTree(work);
        }
    }

    @Test
    void chainsNeverExceedTheHardLimitAndShrinkToTheSoftOne() throws Exception {
        List<ObjectId> volumes = new ArrayList<>();
        List<ObjectId> snapshots = new ArrayList<>();
        Image head = create("depth-v0", Optional.empty());
        volumes.add(head.id());
        int pendings = 0;
        int maxSeen = 0;
        for (int i = 1; i <= 10; i++) {
            ObjectId source = head.id();
            String snapName = "depth-s" + i;
            if (i % 2 == 0) {
                Snapshot s = retry(() -> backend.createSnapshot(new SnapshotSpec(snapName, source, Map.of()), creds));
                snapshots.add(s.id());
                maxSeen = Math.max(maxSeen, depth("csi-snap-" + s.id().uuid()));
                head = create("depth-v" + i, Optional.of(new ContentSource.FromSnapshot(s.id())));
            } else {
                head = create("depth-v" + i, Optional.of(new ContentSource.FromImage(source)));
            }
            volumes.add(head.id());
            for (ObjectId v : volumes) {
                maxSeen = Math.max(maxSeen, depth("csi-vol-" + v.uuid()));
            }
            pendings += lastPendings;
        }
        System.out.printf("clone depth: deepest image seen %d (hard limit 2), %d requests had to wait for a "
                + "flatten, %d background flattens%n", maxSeen, pendings, backend.backgroundForTests().flattensDone());
        assertThat(maxSeen).as("deepest chain ever").isLessThanOrEqualTo(2);
        assertThat(backend.backgroundForTests().awaitIdle(Duration.ofMinutes(2))).isTrue();
        for (ObjectId v : volumes) {
            assertThat(depth("csi-vol-" + v.uuid())).as("depth of %s after the flattens", v).isLessThanOrEqualTo(1);
        }
        assertThat(backend.backgroundForTests().flattensDone()).as("background flattens").isPositive();

        for (ObjectId s : snapshots) {
            backend.deleteSnapshot(s, creds);
        }
        for (ObjectId v : volumes) {
            backend.deleteImage(v, creds);
        }
        assertThat(backend.backgroundForTests().awaitIdle(Duration.ofMinutes(2))).isTrue();
        for (ObjectId v : volumes) {
            assertThat(cluster.admin("rbd", "info", cluster.pool() + "/csi-vol-" + v.uuid()).ok()).isFalse();
        }
        String trash = cluster.adminOk("rbd", "trash", "ls", "-p", cluster.pool());
        for (ObjectId id : volumes) {
            assertThat(trash).as("trash after deleting the chain").doesNotContain(id.uuid().toString());
        }
        for (ObjectId id : snapshots) {
            assertThat(trash).as("trash after deleting the chain").doesNotContain(id.uuid().toString());
        }
    }

    private static int lastPendings;

    /** A call that may be Pending while a flatten runs. */
    private interface Call<T> {
        T run() throws Exception;
    }

    private static <T> T retry(Call<T> call) throws Exception {
        lastPendings = 0;
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (true) {
            try {
                return call.run();
            } catch (dev.nodekit.csi.spi.StorageException.Pending e) {
                lastPendings++;
                assertThat(System.nanoTime()).as("still pending: %s", e.getMessage()).isLessThan(deadline);
                Thread.sleep(200);
            }
        }
    }

    private static Image create(String name, Optional<ContentSource> source) throws Exception {
        return retry(() -> backend.createImage(new ImageSpec(name, Optional.empty(), SIZE, source, params, Map.of()),
                creds));
    }

    /** The clone chain depth of {@code image}, following parents (also into the trash) with the rbd CLI. */
    private static int depth(String image) throws IOException {
        JsonNode info = JSON.readTree(cluster.adminOk("rbd", "info", "--format", "json", cluster.pool() + "/" + image));
        int depth = 0;
        while (info.has("parent")) {
            depth++;
            JsonNode p = info.get("parent");
            info = JSON.readTree(cluster.adminOk("rbd", "info", "--format", "json", "--pool", p.path("pool").asText(),
                    "--image-id", p.path("id").asText()));
        }
        return depth;
    }
}
