package dev.nodekit.e2e.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.e2e.CsiDriverProcess;
import dev.nodekit.spec.csi.v1.CapacityRange;
import dev.nodekit.spec.csi.v1.ControllerGrpc;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.DeleteVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeGetVolumeStatsRequest;
import dev.nodekit.spec.csi.v1.NodeGetVolumeStatsResponse;
import dev.nodekit.spec.csi.v1.NodeGrpc;
import dev.nodekit.spec.csi.v1.NodePublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeStageVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnpublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnstageVolumeRequest;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import dev.nodekit.spec.csi.v1.VolumeCapability.AccessMode.Mode;
import io.grpc.ManagedChannel;

/**
 * A node plugin killed with {@code kill -9} while volumes are staged and published: the restarted
 * plugin finds them where the kernel kept them, data written before the kill reads back through
 * the same targets, stats are normal, repeated stage/publish are idempotent, and unpublish and
 * unstage leave nothing behind. A loop device the kernel lost while the plugin was down is
 * attached again at start.
 */
@Requires({Requirement.ROOT, Requirement.LOOP_DEVICES})
class CsiNodeRestartIT {
    static final VolumeCapability MOUNT = VolumeCapability.newBuilder()
            .setMount(VolumeCapability.MountVolume.newBuilder().setFsType("ext4"))
            .setAccessMode(VolumeCapability.AccessMode.newBuilder().setMode(Mode.SINGLE_NODE_WRITER)).build();
    static final VolumeCapability BLOCK = VolumeCapability.newBuilder()
            .setBlock(VolumeCapability.BlockVolume.getDefaultInstance())
            .setAccessMode(VolumeCapability.AccessMode.newBuilder().setMode(Mode.SINGLE_NODE_WRITER)).build();

    Path work;
    CsiDriverProcess.Spec spec;
    CsiDriverProcess driver;

    @BeforeEach
    void start() throws Exception {
        work = Files.createTempDirectory("nodekit-csi-restart-");
        spec = CsiDriverProcess.Spec.in(work.resolve("driver"), "restart-node");
        driver = CsiDriverProcess.start(spec, Duration.ofSeconds(90));
    }

    @AfterEach
    void stop() throws Exception {
        if (driver != null) {
            driver.stop(Duration.ofSeconds(20));
        }
        try {
            HostState.assertClean(work);
        } finally {
            HostState.forceClean(work);
            HostState.deleteTree(work);
        }
    }

    /** Stubs on a fresh channel to the current driver. */
    final class Client implements AutoCloseable {
        final ManagedChannel ch = UdsChannels.forTarget(driver.endpoint());

        ControllerGrpc.ControllerBlockingStub controller() {
            return ControllerGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
        }

        NodeGrpc.NodeBlockingStub node() {
            return NodeGrpc.newBlockingStub(ch).withDeadlineAfter(120, TimeUnit.SECONDS);
        }

        String create(String name, VolumeCapability cap, long bytes) {
            return controller().createVolume(CreateVolumeRequest.newBuilder().setName(name).addVolumeCapabilities(cap)
                    .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(bytes)).build()).getVolume()
                    .getVolumeId();
        }

        void stage(String id, Path staging, VolumeCapability cap) {
            node().nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(id)
                    .setStagingTargetPath(staging.toString()).setVolumeCapability(cap).build());
        }

        void publish(String id, Path staging, Path target, VolumeCapability cap) {
            node().nodePublishVolume(NodePublishVolumeRequest.newBuilder().setVolumeId(id)
                    .setStagingTargetPath(staging.toString()).setTargetPath(target.toString()).setVolumeCapability(cap)
                    .build());
        }

        void unpublish(String id, Path target) {
            node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(id)
                    .setTargetPath(target.toString()).build());
        }

        void unstage(String id, Path staging) {
            node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(id)
                    .setStagingTargetPath(staging.toString()).build());
        }

        NodeGetVolumeStatsResponse stats(String id, Path path) {
            return node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder().setVolumeId(id)
                    .setVolumePath(path.toString()).build());
        }

        void delete(String id) {
            controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build());
        }

        @Override
        public void close() {
            ch.shutdownNow();
        }
    }

    @Test
    void stagedAndPublishedVolumesSurviveAKilledPlugin() throws Exception {
        Path fsStaging = Files.createDirectories(work.resolve("kubelet/plugins/fs/globalmount"));
        Path fsTarget = work.resolve("kubelet/pods/p1/volumes/fs/mount");
        Path blkStaging = Files.createDirectories(work.resolve("kubelet/plugins/blk/staging"));
        Path blkTarget = work.resolve("kubelet/pods/p1/volumeDevices/blk");
        Files.createDirectories(fsTarget.getParent());
        Files.createDirectories(blkTarget.getParent());
        String fs;
        String blk;
        try (Client c = new Client()) {
            fs = c.create("restart-fs", MOUNT, 64L << 20);
            blk = c.create("restart-blk", BLOCK, 8L << 20);
            c.stage(fs, fsStaging, MOUNT);
            c.publish(fs, fsStaging, fsTarget, MOUNT);
            c.stage(blk, blkStaging, BLOCK);
            c.publish(blk, blkStaging, blkTarget, BLOCK);
        }
        Files.writeString(fsTarget.resolve("before-kill.txt"), "written before kill -9");
        writeBlock(blkTarget, "block data before kill -9");
        int loopsBefore = HostState.loopDevicesUnder(work).size();
        assertThat(loopsBefore).isEqualTo(2);

        driver.kill();
        assertThat(driver.isAlive()).isFalse();
        assertThat(HostState.mountsUnder(work)).as("the kernel keeps the mounts").contains(fsTarget, fsStaging,
                blkTarget);
        driver = CsiDriverProcess.start(spec, Duration.ofSeconds(90));

        assertThat(Files.readString(fsTarget.resolve("before-kill.txt"))).isEqualTo("written before kill -9");
        assertThat(readBlock(blkTarget, 25)).isEqualTo("block data before kill -9");
        try (Client c = new Client()) {
            assertThat(c.stats(fs, fsTarget).getVolumeCondition().getAbnormal()).isFalse();
            assertThat(c.stats(blk, blkTarget).getVolumeCondition().getAbnormal()).isFalse();
            assertThat(c.stats(blk, blkTarget).getUsage(0).getTotal()).isEqualTo(8L << 20);
            // kubelet may repeat what it did before the restart: idempotent.
            c.stage(fs, fsStaging, MOUNT);
            c.publish(fs, fsStaging, fsTarget, MOUNT);
            c.stage(blk, blkStaging, BLOCK);
            c.publish(blk, blkStaging, blkTarget, BLOCK);
            Files.writeString(fsTarget.resolve("after-restart.txt"), "ok");
            assertThat(HostState.loopDevicesUnder(work)).hasSize(2);

            c.unpublish(fs, fsTarget);
            c.unstage(fs, fsStaging);
            c.unpublish(blk, blkTarget);
            c.unstage(blk, blkStaging);
            assertThat(fsTarget).doesNotExist();
            assertThat(blkTarget).doesNotExist();
            c.delete(fs);
            c.delete(blk);
        }
        HostState.assertClean(work);
    }

    @Test
    void aLoopDeviceLostWhileThePluginWasDownIsAttachedAgain() throws Exception {
        Path staging = Files.createDirectories(work.resolve("staging"));
        Path target = work.resolve("pods/p/dev");
        Files.createDirectories(target.getParent());
        String blk;
        try (Client c = new Client()) {
            blk = c.create("lost-blk", BLOCK, 8L << 20);
            c.stage(blk, staging, BLOCK);
            c.publish(blk, staging, target, BLOCK);
            writeBlock(target, "survives a lost loop device");
            c.unpublish(blk, target);
        }
        driver.kill();
        for (String loop : HostState.loopDevicesUnder(work)) {
            new ProcessCommandRunner().runChecked(Command.of("losetup", "-d", loop.split("\\s+")[0]));
        }
        assertThat(HostState.loopDevicesUnder(work)).isEmpty();
        driver = CsiDriverProcess.start(spec, Duration.ofSeconds(90));
        assertThat(HostState.loopDevicesUnder(work)).as("re-attached at start").hasSize(1);
        try (Client c = new Client()) {
            c.stage(blk, staging, BLOCK);
            c.publish(blk, staging, target, BLOCK);
            assertThat(readBlock(target, 27)).isEqualTo("survives a lost loop device");
            c.unpublish(blk, target);
            c.unstage(blk, staging);
            c.delete(blk);
        }
    }

    private static void writeBlock(Path device, String text) throws IOException {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)), 0);
            ch.force(true);
        }
    }

    private static String readBlock(Path device, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                // read until full
            }
            return new String(b.array(), StandardCharsets.US_ASCII);
        }
    }
}
