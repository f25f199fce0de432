package dev.nodekit.e2e.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.csi.Failpoints;
import dev.nodekit.csi.local.LocalDataDirCheck;
import dev.nodekit.e2e.CsiDriverProcess;
import dev.nodekit.spec.csi.v1.ControllerGrpc;
import dev.nodekit.spec.csi.v1.ListSnapshotsRequest;
import dev.nodekit.spec.csi.v1.ListSnapshotsResponse;
import dev.nodekit.spec.csi.v1.ListVolumesRequest;
import dev.nodekit.spec.csi.v1.ListVolumesResponse;
import io.grpc.ManagedChannel;

/**
 * Crash safety at the driver level. For every failpoint of the local backend, a driver child
 * process with that point armed serves concurrent CreateVolume, CreateSnapshot,
 * ControllerExpandVolume, NodeStage/Unstage, DeleteSnapshot and DeleteVolume until it stops dead
 * at the point (exit 137, the point named in its log: proof it was reached); a clean driver is
 * started on the same data dir, every in-flight request is retried to a final answer and its
 * episode finished, and then: the volumes and snapshots on disk are exactly those whose requests
 * got OK (and no later delete did), every record has its data file and every data file its record,
 * no reservation or half-done delete is left, nothing is quarantined, no name has two objects and
 * no loop device is left. The two undo points are reached through recovery: a crash after a
 * create's data file was written, then a start with the undo point armed. Then the same checks
 * after a series of random {@code kill -9}s.
 */
@Requires({Requirement.ROOT, Requirement.LOOP_DEVICES})
class CsiCrashIT {
    static final Duration START = Duration.ofSeconds(90);
    static final int THREADS = 6;

    Path work;

    @BeforeEach
    void setUp() throws IOException {
        work = Files.createTempDirectory("nodekit-csi-crash-");
    }

    @AfterEach
    void tearDown() throws IOException {
        try {
            HostState.assertClean(work);
        } finally {
            HostState.forceClean(work);
            HostState.deleteTree(work);
        }
    }

    @TestFactory
    Stream<DynamicTest> everyFailpointUnderConcurrentLoad() {
        return Failpoints.withPrefix("local.").stream()
                .map(p -> DynamicTest.dynamicTest(p.id(), () -> crashAt(p)));
    }

    private void crashAt(Failpoints.Point point) throws Exception {
        Path dir = Files.createDirectories(work.resolve(point.id()));
        CsiDriverProcess.Spec clean = CsiDriverProcess.Spec.in(dir, "crash-node");
        CrashWorkload load = new CrashWorkload(Files.createDirectories(dir.resolve("staging")), "c", THREADS);
        boolean viaRecovery = point == Failpoints.Point.LOCAL_UNDO_FILE_REMOVED
                || point == Failpoints.Point.LOCAL_UNDO_DONE;
        Failpoints.Point first = viaRecovery ? Failpoints.Point.LOCAL_CREATE_FILE_WRITTEN : point;

        CsiDriverProcess armed = CsiDriverProcess.start(clean.withEnv(Map.of(Failpoints.ENV, first.id())), START);
        try {
            load.run(armed.endpoint(), () -> !armed.isAlive(), 200);
            assertDiedAt(armed, first);
        } finally {
            armed.kill();
        }
        assertThat(load.interrupted()).as("requests in flight when the driver died").isNotEmpty();

        if (viaRecovery) {
            Optional<Integer> status = CsiDriverProcess.startExpectingDeath(
                    clean.withEnv(Map.of(Failpoints.ENV, point.id())), START);
            assertThat(status).as("a start with %s armed must stop in recovery", point).contains(Failpoints.EXIT_STATUS);
            assertThat(Files.readString(dir.resolve("driver.log"))).contains("failpoint " + point.id() + " hit");
        }

        try (CsiDriverProcess driver = CsiDriverProcess.start(clean, START)) {
            load.resume(driver.endpoint());
            verify(dir.resolve("data"), driver, load);
            cleanUp(driver, load);
        }
    }

    @Test
    void randomKillsUnderConcurrentLoad() throws Exception {
        Random random = new Random(Long.getLong("nodekit.crash.seed", System.nanoTime()));
        CsiDriverProcess.Spec spec = CsiDriverProcess.Spec.in(work.resolve("random"), "crash-node");
        CrashWorkload load = new CrashWorkload(Files.createDirectories(work.resolve("random/staging")), "k", THREADS);
        int kills = Integer.getInteger("nodekit.crash.kills", 8);
        for (int i = 0; i < kills; i++) {
            CsiDriverProcess driver = CsiDriverProcess.start(spec, START);
            load.resume(driver.endpoint());
            long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200 + random.nextInt(1500));
            Thread killer = new Thread(() -> {
                while (System.nanoTime() < killAt) {
                    Thread.onSpinWait();
                }
                driver.kill();
            });
            killer.start();
            load.run(driver.endpoint(), () -> !driver.isAlive(), 1000);
            killer.join();
        }
        try (CsiDriverProcess driver = CsiDriverProcess.start(spec, START)) {
            load.resume(driver.endpoint());
            verify(work.resolve("random/data"), driver, load);
            cleanUp(driver, load);
        }
    }

    private static void assertDiedAt(CsiDriverProcess driver, Failpoints.Point point) throws Exception {
        Optional<Integer> status = driver.awaitExit(Duration.ofSeconds(60));
        assertThat(status).as("the workload finished without reaching failpoint %s; log:\n%s", point,
                driver.logTail(20)).isPresent();
        assertThat(status.get()).as("exit status").isEqualTo(Failpoints.EXIT_STATUS);
        assertThat(Files.readString(driver.logFile())).contains("failpoint " + point.id() + " hit");
    }

    /** What must hold after recovery and retries; see the class comment. */
    private void verify(Path data, CsiDriverProcess driver, CrashWorkload load) throws Exception {
        // Every thread's first episode keeps its volume, so a non-vacuous run has at least one per thread.
        assertThat(load.volumes).as("volumes kept by the workload").hasSizeGreaterThanOrEqualTo(THREADS);
        // Read from disk, not through the driver: reservations, half-done deletes, orphan or
        // quarantined files and duplicate names are all "problems".
        LocalDataDirCheck.Report disk = LocalDataDirCheck.inspect(data);
        assertThat(disk.problems()).as("data dir invariants").isEmpty();
        assertThat(disk.objects()).as("every record is READY").allMatch(o -> o.state().equals("READY"));
        assertThat(disk.ready("IMAGE")).extracting(LocalDataDirCheck.Found::id)
                .as("images on disk = volumes whose create got OK and no delete did")
                .containsExactlyInAnyOrderElementsOf(load.volumes);
        assertThat(disk.ready("SNAPSHOT")).extracting(LocalDataDirCheck.Found::id)
                .as("snapshots on disk = snapshots whose create got OK and no delete did")
                .containsExactlyInAnyOrderElementsOf(load.snapshots);
        try (Stream<Path> s = Files.list(data.resolve("node/attachments"))) {
            assertThat(s.toList()).as("attachment records (every episode unstaged)").isEmpty();
        }
        assertThat(HostState.loopDevicesUnder(work)).as("loop devices").isEmpty();
        ManagedChannel ch = UdsChannels.forTarget(driver.endpoint());
        try {
            ControllerGrpc.ControllerBlockingStub c = ControllerGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(60, TimeUnit.SECONDS);
            Set<String> listed = new HashSet<>();
            String token = "";
            do {
                ListVolumesResponse r = c.listVolumes(ListVolumesRequest.newBuilder().setMaxEntries(50)
                        .setStartingToken(token).build());
                r.getEntriesList().forEach(e -> listed.add(e.getVolume().getVolumeId()));
                token = r.getNextToken();
            } while (!token.isEmpty());
            assertThat(listed).as("ListVolumes").containsExactlyInAnyOrderElementsOf(load.volumes);
            ListSnapshotsResponse s = c.listSnapshots(ListSnapshotsRequest.getDefaultInstance());
            assertThat(s.getEntriesList()).extracting(e -> e.getSnapshot().getSnapshotId())
                    .as("ListSnapshots").containsExactlyInAnyOrderElementsOf(load.snapshots);
        } finally {
            ch.shutdownNow();
        }
    }

    /** Deletes what the workload kept, through the driver. */
    private static void cleanUp(CsiDriverProcess driver, CrashWorkload load) {
        ManagedChannel ch = UdsChannels.forTarget(driver.endpoint());
        try {
            ControllerGrpc.ControllerBlockingStub c = ControllerGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(60, TimeUnit.SECONDS);
            for (String s : List.copyOf(load.snapshots)) {
                c.deleteSnapshot(dev.nodekit.spec.csi.v1.DeleteSnapshotRequest.newBuilder().setSnapshotId(s).build());
            }
            for (String v : List.copyOf(load.volumes)) {
                c.deleteVolume(dev.nodekit.spec.csi.v1.DeleteVolumeRequest.newBuilder().setVolumeId(v).build());
            }
        } finally {
            ch.shutdownNow();
        }
    }
}
