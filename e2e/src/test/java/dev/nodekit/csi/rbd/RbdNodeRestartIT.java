package dev.nodekit.csi.rbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.e2e.CsiDriverProcess;
import dev.nodekit.e2e.ceph.CephCluster;
import dev.nodekit.spec.csi.v1.NodePublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeStageVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnpublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnstageVolumeRequest;

/**
 * The node plugin is killed with {@code kill -9} while a volume is mounted and a workload writes to
 * it: the rbd-fuse daemon lives on in its own session, so the writes go on and reach the cluster;
 * the restarted plugin re-adopts the attachment, and Unpublish and Unstage then tear everything
 * down cleanly. A second volume, staged as a raw block device, loses its rbd-fuse daemon while the
 * plugin is down: the restarted plugin restarts it with the credential file and re-points the loop
 * device, and the data written before is read back through it.
 */
@Requires({Requirement.ROOT, Requirement.CEPH, Requirement.RBD_FUSE, Requirement.LOOP_DEVICES})
class RbdNodeRestartIT {
    static CephCluster cluster;
    static Path work;
    static Path config;
    static CsiDriverProcess.Spec spec;

    @BeforeAll
    static void boot() throws Exception {
        cluster = CephCluster.shared();
        work = Files.createTempDirectory("nodekit-rbd-restart-");
        config = RbdTestCluster.writeYaml(RbdTestCluster.config(cluster, RbdTestCluster.credentialDir(cluster, work)),
                work.resolve("ceph.yaml"));
        // The OSD drops the watch of the killed daemon after this (default 30 s); only for this test.
        cluster.adminOk("ceph", "config", "set", "osd", "osd_client_watch_timeout", "8");
        spec = CsiDriverProcess.Spec.in(work.resolve("driver"), "restart-node")
                .withArgs("--backend", "rbd", "--ceph-config", config.toString())
                .withEnv(java.util.Map.of("NODEKIT_LOG_LEVEL", "INFO"));
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (cluster != null) {
            cluster.admin("ceph", "config", "rm", "osd", "osd_client_watch_timeout");
        }
        if (work != null) {
            try {
                RbdHost.assertNothingLeft(work);
            } finally {
                RbdHost.deleteTree(work);
            }
        }
    }

    @Test
    void fuseDaemonsOutliveAKilledPluginAndAreAdoptedOrHealedAfterIt() throws Exception {
        CsiDriverProcess driver = CsiDriverProcess.start(spec, Duration.ofSeconds(90));
        RbdDriverClient c = new RbdDriverClient(driver, RbdTestCluster.parameters(cluster), RbdTestCluster.secrets(cluster));
        String mounted = c.createVolume("restart-mounted", 64 << 20, RbdDriverClient.mount("ext4"));
        String raw = c.createVolume("restart-raw", 16 << 20, RbdDriverClient.block());
        Path staging = Files.createDirectories(work.resolve("staging"));
        Path target = work.resolve("target");
        Path rawStaging = Files.createDirectories(work.resolve("raw-staging"));
        c.node(120).nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(mounted)
                .setStagingTargetPath(staging.toString()).setVolumeCapability(RbdDriverClient.mount("ext4"))
                .putAllSecrets(c.secrets).build());
        c.node(120).nodePublishVolume(NodePublishVolumeRequest.newBuilder().setVolumeId(mounted)
                .setStagingTargetPath(staging.toString()).setTargetPath(target.toString())
                .setVolumeCapability(RbdDriverClient.mount("ext4")).putAllSecrets(c.secrets).build());
        c.node(120).nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(raw)
                .setStagingTargetPath(rawStaging.toString()).setVolumeCapability(RbdDriverClient.block())
                .putAllSecrets(c.secrets).build());
        List<Long> daemons = RbdHost.fuseDaemonsUnder(work);
        assertThat(daemons).as("one rbd-fuse per attached volume").hasSize(2);
        Path rawDevice = rawLoopDevice();
        byte[] pattern = "raw-volume-data-before-the-crash".getBytes(StandardCharsets.US_ASCII);
        try (RandomAccessFile f = new RandomAccessFile(rawDevice.toFile(), "rw")) {
            f.write(pattern);
            f.getFD().sync();
        }

        // A workload writes (with fsync) while the plugin is killed.
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong written = new AtomicLong();
        AtomicReference<Throwable> writeError = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try (RandomAccessFile f = new RandomAccessFile(target.resolve("data").toFile(), "rw")) {
                byte[] block = new byte[64 << 10];
                Arrays.fill(block, (byte) 'w');
                while (!stop.get()) {
                    f.seek(written.get() % (16 << 20));
                    f.write(block);
                    f.getFD().sync();
                    written.addAndGet(block.length);
                }
            } catch (IOException e) {
                writeError.set(e);
            }
        }, "rbd-restart-writer");
        writer.start();
        // Bounded waits on progress, not fixed sleeps: on a loaded host one fsync'd write can take seconds.
        Awaitility.await("the workload writing before the kill").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50)).until(() -> written.get() > 0 || writeError.get() != null);
        driver.kill();
        long atKill = written.get();
        c.close();
        Awaitility.await("writes after the kill -9 (at kill: " + atKill + " bytes)").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> written.get() >= atKill + 4 * (64 << 10) || writeError.get() != null);
        assertThat(writeError.get()).as("the workload's writes while the plugin is dead").isNull();
        assertThat(written.get()).as("bytes written after the kill -9 (at kill: %d)", atKill).isGreaterThan(atKill);
        for (long pid : daemons) {
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("rbd-fuse %d survived the plugin", pid)
                    .contains(true);
        }
        stop.set(true);
        writer.join(30_000);
        assertThat(writeError.get()).isNull();

        // While the plugin is down the raw volume's daemon dies too: the restart must heal it.
        long rawDaemon = daemonOf(rawDevice);
        ProcessHandle.of(rawDaemon).ifPresent(ProcessHandle::destroyForcibly);
        awaitGone(rawDaemon);

        CsiDriverProcess again = CsiDriverProcess.start(spec, Duration.ofSeconds(90));
        try (RbdDriverClient c2 = new RbdDriverClient(again, RbdTestCluster.parameters(cluster),
                RbdTestCluster.secrets(cluster))) {
            assertThat(again.logTail(200)).contains("re-adopted a running attachment")
                    .contains("restarted a dead rbd-fuse daemon");
            Path healed = rawLoopDevice();
            byte[] back = new byte[pattern.length];
            try (RandomAccessFile f = new RandomAccessFile(healed.toFile(), "r")) {
                f.readFully(back);
            }
            assertThat(new String(back, StandardCharsets.US_ASCII)).as("data read through the healed device %s", healed)
                    .isEqualTo(new String(pattern, StandardCharsets.US_ASCII));
            assertThat(Files.size(target.resolve("data"))).isGreaterThan(0);

            c2.node(120).nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(mounted)
                    .setTargetPath(target.toString()).build());
            c2.node(120).nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(mounted)
                    .setStagingTargetPath(staging.toString()).build());
            c2.node(120).nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(raw)
                    .setStagingTargetPath(rawStaging.toString()).build());
            assertThat(RbdHost.fuseDaemonsUnder(work)).as("rbd-fuse daemons after unstage").isEmpty();
            assertThat(RbdHost.loopsUnder(work)).as("loop devices after unstage").isEmpty();
            assertThat(RbdHost.mountsUnder(work)).as("mounts after unstage").isEmpty();
            c2.deleteVolume(mounted);
            // the killed daemon's watch on the raw image lingers until the OSD times it out
            c2.deleteVolumeEventually(raw, Duration.ofSeconds(60));
        } finally {
            again.stop(Duration.ofSeconds(20));
        }
    }

    /** The loop device of the raw volume: the one of the two not mounted anywhere. */
    private static Path rawLoopDevice() throws IOException {
        for (String dev : RbdHost.loopsUnder(work)) {
            String name = Path.of(dev).getFileName().toString();
            String majorMinor = Files.readString(Path.of("/sys/class/block", name, "dev")).strip();
            boolean mounted = isMounted(majorMinor);
            if (!mounted) {
                return Path.of(dev);
            }
        }
        throw new AssertionError("no unmounted loop device under " + work);
    }

    private static boolean isMounted(String majorMinor) throws IOException {
        return dev.nodekit.common.mount.Mounts.system().list().stream().anyMatch(m -> m.majorMinor().equals(majorMinor));
    }

    /** The rbd-fuse daemon behind a loop device (its mountpoint is the backing file's directory). */
    private static long daemonOf(Path loop) throws IOException {
        String backing = Files.readString(Path.of("/sys/block", loop.getFileName().toString(), "loop", "backing_file"))
                .strip();
        String mountpoint = Path.of(backing).getParent().toString();
        for (long pid : RbdHost.fuseDaemonsUnder(work)) {
            if (new Procs(Path.of("/proc")).cmdline(pid).contains(mountpoint)) {
                return pid;
            }
        }
        throw new AssertionError("no rbd-fuse daemon for " + loop);
    }

    private static void awaitGone(long pid) throws InterruptedException {
        Procs procs = new Procs(Path.of("/proc"));
        for (int i = 0; i < 200 && procs.startTime(pid).isPresent(); i++) {
            Thread.sleep(50);
        }
        assertThat(procs.startTime(pid)).as("rbd-fuse %d gone", pid).isEmpty();
    }
}
