package dev.nodekit.csi.rbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.e2e.CsiDriverProcess;
import dev.nodekit.e2e.ceph.CephCluster;
import dev.nodekit.spec.csi.v1.GetCapacityRequest;
import dev.nodekit.spec.csi.v1.ListVolumesRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The whole Ceph cluster stops under a running driver: CreateVolume, DeleteVolume, ListVolumes and
 * GetCapacity answer UNAVAILABLE well within the request deadline (bounded by the configured
 * operation timeout, no hang), the driver's threads do not grow (besides the gRPC handler pool,
 * which is bounded and fills up with calls whatever they do), and once the cluster is
 * started again the same driver serves every call without a restart. A private cluster: stopping
 * the shared one would disturb other tests.
 */
@Requires({Requirement.ROOT, Requirement.CEPH})
class RbdOutageIT {
    /** The driver's connect and per-operation timeout. */
    private static final Duration OP_TIMEOUT = Duration.ofSeconds(4);
    /** What the CO gives each call (the provisioner's default is 10 s; ceph-csi deployments use more). */
    private static final long DEADLINE_SECONDS = 30;

    static CephCluster cluster;
    static Path work;
    static CsiDriverProcess driver;
    static RbdDriverClient client;

    @BeforeAll
    static void boot() throws Exception {
        cluster = CephCluster.start(CephCluster.Options.defaults().withPool("outage-rbd"));
        work = Files.createTempDirectory("nodekit-rbd-outage-");
        Path config = RbdTestCluster.writeYaml(RbdTestCluster.config(cluster, RbdTestCluster.credentialDir(cluster, work),
                OP_TIMEOUT, OP_TIMEOUT, 4, 8), work.resolve("ceph.yaml"));
        driver = CsiDriverProcess.start(CsiDriverProcess.Spec.in(work.resolve("driver"), "outage-node")
                .withArgs("--backend", "rbd", "--ceph-config", config.toString()), Duration.ofSeconds(90));
        client = new RbdDriverClient(driver, RbdTestCluster.parameters(cluster), RbdTestCluster.secrets(cluster));
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (driver != null) {
            driver.stop(Duration.ofSeconds(20));
        }
        if (cluster != null) {
            cluster.close();
        }
        if (work != null) {
            RbdHost.deleteTree(work);
        }
    }

    @Test
    void callsFailUnavailableWithinTheDeadlineAndSucceedAgainWithoutARestart() throws Exception {
        String kept = client.createVolume("outage-kept", 8 << 20, RbdDriverClient.mount("ext4"));
        String doomed = client.createVolume("outage-doomed", 8 << 20, RbdDriverClient.mount("ext4"));
        client.controller(30).listVolumes(ListVolumesRequest.getDefaultInstance());
        int threadsBefore = RbdDriverClient.threadsBesidesHandlers(driver.pid());

        cluster.stop();
        List<Long> seconds = new ArrayList<>();
        seconds.add(expectUnavailable(() -> client.createVolume("outage-during", 8 << 20, RbdDriverClient.mount("ext4"))));
        seconds.add(expectUnavailable(() -> client.deleteVolume(doomed)));
        seconds.add(expectUnavailable(() -> client.controller(DEADLINE_SECONDS).listVolumes(
                ListVolumesRequest.getDefaultInstance())));
        seconds.add(expectUnavailable(() -> client.controller(DEADLINE_SECONDS).getCapacity(
                GetCapacityRequest.newBuilder().putAllParameters(client.params).build())));
        int threadsAfterFirstRound = RbdDriverClient.threadsBesidesHandlers(driver.pid());
        // The same calls again: a leak grows with every failed call, pools and librados' own threads do not.
        for (int i = 0; i < 2; i++) {
            seconds.add(expectUnavailable(() -> client.createVolume("outage-during", 8 << 20,
                    RbdDriverClient.mount("ext4"))));
            seconds.add(expectUnavailable(() -> client.controller(DEADLINE_SECONDS).getCapacity(
                    GetCapacityRequest.newBuilder().putAllParameters(client.params).build())));
        }
        System.out.printf("outage: calls answered UNAVAILABLE after %s ms%n", seconds);
        int threadsDuring = RbdDriverClient.threadsBesidesHandlers(driver.pid());
        System.out.printf("outage: driver threads %d before, %d after the first failed calls, %d after more (%s)%n",
                threadsBefore, threadsAfterFirstRound, threadsDuring, RbdDriverClient.threadNames(driver.pid()));
        assertThat(threadsDuring).as("driver threads after repeating the failed calls (after the first: %d)",
                threadsAfterFirstRound).isLessThanOrEqualTo(threadsAfterFirstRound + 2);
        assertThat(threadsDuring).as("driver threads during the outage (before: %d)", threadsBefore)
                .isLessThanOrEqualTo(threadsBefore + 4);
        assertThat(driver.isAlive()).isTrue();

        cluster.start();
        long back = System.nanoTime();
        String after = null;
        while (after == null) {
            try {
                after = client.createVolume("outage-after", 8 << 20, RbdDriverClient.mount("ext4"));
            } catch (StatusRuntimeException e) {
                assertThat(e.getStatus().getCode()).as("while the cluster comes back: %s", e.getStatus())
                        .isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(System.nanoTime() - back).as("recovered within 60 s").isLessThan(60_000_000_000L);
                Thread.sleep(500);
            }
        }
        System.out.printf("outage: served again %d ms after the cluster was back%n", (System.nanoTime() - back) / 1_000_000);
        client.deleteVolume(doomed);
        client.deleteVolume(after);
        client.deleteVolume(kept);
        assertThat(client.controller(30).listVolumes(ListVolumesRequest.getDefaultInstance()).getEntriesList()).isEmpty();
        // + the background workers the deletes started (flattenWorkers, 2) and librbd's lazily started ones
        assertThat(RbdDriverClient.threadsBesidesHandlers(driver.pid())).as("driver threads after recovery (during: %d): %s",
                threadsDuring, RbdDriverClient.threadNames(driver.pid())).isLessThanOrEqualTo(threadsDuring + 5);
        assertThat(driver.logTail(400)).doesNotContain(cluster.clientKey());
    }

    /** Runs {@code call}, which must fail UNAVAILABLE before the deadline; returns how long it took in ms. */
    private static long expectUnavailable(Runnable call) {
        long t = System.nanoTime();
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                assertThat(e.getStatus().getCode()).as("%s", e.getStatus()).isEqualTo(Status.Code.UNAVAILABLE));
        long ms = (System.nanoTime() - t) / 1_000_000;
        assertThat(ms).as("answered well within the %d s deadline", DEADLINE_SECONDS)
                .isLessThan(DEADLINE_SECONDS * 1000 - 5000);
        return ms;
    }
}
