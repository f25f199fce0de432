package dev.nodekit.csi;

import static dev.nodekit.csi.Statuses.expect;
import static dev.nodekit.csi.TestDriver.block;
import static dev.nodekit.csi.TestDriver.mount;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.mount.MountInfo;
import dev.nodekit.common.mount.Mounts;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.StorageException;
import dev.nodekit.spec.csi.v1.CapacityRange;
import dev.nodekit.spec.csi.v1.ControllerExpandVolumeRequest;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeExpandVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.NodeGetInfoRequest;
import dev.nodekit.spec.csi.v1.NodeGetInfoResponse;
import dev.nodekit.spec.csi.v1.NodeGetVolumeStatsRequest;
import dev.nodekit.spec.csi.v1.NodeGetVolumeStatsResponse;
import dev.nodekit.spec.csi.v1.NodePublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeServiceCapability;
import dev.nodekit.spec.csi.v1.NodeStageVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnpublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnstageVolumeRequest;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import dev.nodekit.spec.csi.v1.VolumeCapability.AccessMode.Mode;
import dev.nodekit.spec.csi.v1.VolumeUsage;
import io.grpc.Status.Code;

class CsiNodeServiceTest {
    static final long MIB = 1L << 20;

    @TempDir
    Path tmp;
    TestDriver d;
    Path staging;
    Path target;

    @BeforeEach
    void start() throws Exception {
        d = new TestDriver(tmp);
        staging = tmp.resolve("staging");
        target = tmp.resolve("pods/pod-1/mount");
        Files.createDirectories(staging);
        Files.createDirectories(target.getParent());
    }

    @AfterEach
    void stop() {
        d.close();
    }

    String volume(String name, VolumeCapability cap, long bytes) {
        return d.controller().createVolume(CreateVolumeRequest.newBuilder().setName(name).addVolumeCapabilities(cap)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(bytes)).build()).getVolume().getVolumeId();
    }

    void stage(String id, VolumeCapability cap) {
        d.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(id)
                .setStagingTargetPath(staging.toString()).setVolumeCapability(cap).build());
    }

    void publish(String id, Path to, VolumeCapability cap, boolean readOnly) {
        d.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder().setVolumeId(id)
                .setStagingTargetPath(staging.toString()).setTargetPath(to.toString()).setVolumeCapability(cap)
                .setReadonly(readOnly).build());
    }

    void unpublish(String id, Path from) {
        d.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(id)
                .setTargetPath(from.toString()).build());
    }

    void unstage(String id) {
        d.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(id)
                .setStagingTargetPath(staging.toString()).build());
    }

    Path device(String id) throws Exception {
        return d.backend.findAttachment(ObjectId.parse(id, ObjectId.Kind.VOLUME)).orElseThrow().device();
    }

    MountInfo mountAt(Path p) throws Exception {
        return d.table.mounts().findByMountPoint(p).orElseThrow(() -> new AssertionError("nothing mounted at " + p));
    }

    // ---- identity of the node ---------------------------------------------------------------

    @Test
    void nodeInfoAndCapabilities() {
        NodeGetInfoResponse info = d.node().nodeGetInfo(NodeGetInfoRequest.getDefaultInstance());
        assertThat(info.getNodeId()).isEqualTo(TestDriver.NODE);
        assertThat(info.getMaxVolumesPerNode()).isEqualTo(16);
        assertThat(info.getAccessibleTopology().getSegmentsMap())
                .containsExactlyEntriesOf(java.util.Map.of(TestDriver.TOPOLOGY_KEY, TestDriver.NODE));
        Set<NodeServiceCapability.RPC.Type> caps = new HashSet<>();
        d.node().nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance()).getCapabilitiesList()
                .forEach(c -> caps.add(c.getRpc().getType()));
        assertThat(caps).containsExactlyInAnyOrder(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME,
                NodeServiceCapability.RPC.Type.GET_VOLUME_STATS, NodeServiceCapability.RPC.Type.EXPAND_VOLUME,
                NodeServiceCapability.RPC.Type.VOLUME_CONDITION, NodeServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER);
    }

    // ---- NodeStageVolume ----------------------------------------------------------------------

    @Test
    void stageChecklistRejectsBadInputBeforeTouchingAnything() {
        String id = volume("v", mount(), MIB);
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder()
                .setStagingTargetPath(staging.toString()).setVolumeCapability(mount()).build()))).contains("volume_id");
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder()
                .setVolumeId(id).setVolumeCapability(mount()).build()))).contains("staging_target_path");
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder()
                .setVolumeId(id).setStagingTargetPath(staging.toString()).build()))).contains("volume_capability");
        for (String bad : List.of("relative/path", staging + "/../../etc", "/a/./b", staging + "\0x")) {
            expect(Code.INVALID_ARGUMENT, () -> d.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder()
                    .setVolumeId(id).setStagingTargetPath(bad).setVolumeCapability(mount()).build()));
        }
        for (String ghost : List.of("fake-volume", "v1-fake-0006-node-a-default-../../x",
                ObjectId.newVolume(FakeBackend.KIND, TestDriver.NODE, "default").encode())) {
            expect(Code.NOT_FOUND, () -> stage(ghost, mount()));
        }
        assertThat(expect(Code.FAILED_PRECONDITION, () -> stage(id, mount("ext4", Mode.MULTI_NODE_MULTI_WRITER))))
                .contains("MULTI_NODE_MULTI_WRITER");
        assertThat(expect(Code.FAILED_PRECONDITION, () -> stage(id, block(Mode.SINGLE_NODE_WRITER))))
                .contains("mount access");
        assertThat(d.runner.invocations()).isEmpty();
        assertThat(d.backend.attachmentMap()).isEmpty();
    }

    @Test
    void stageFormatsANewDeviceOnceMountsItAndIsIdempotent() throws Exception {
        String id = volume("v", mount("ext4", Mode.SINGLE_NODE_WRITER, "noatime"), 64 * MIB);
        for (int i = 0; i < 3; i++) {
            stage(id, mount("ext4", Mode.SINGLE_NODE_WRITER, "noatime"));
        }
        Path dev = device(id);
        assertThat(d.ran("mkfs.ext4", "mkfs.xfs")).hasSize(1);
        assertThat(d.ran("mkfs.ext4").get(0)).endsWith("--", dev.toString());
        MountInfo m = mountAt(staging);
        assertThat(m.source()).isEqualTo(dev.toString());
        assertThat(m.fsType()).isEqualTo("ext4");
        assertThat(m.superOptions()).contains("noatime");
        assertThat(d.ran("mount")).hasSize(1);
    }

    @Test
    void anExistingFilesystemIsNeverReformatted() throws Exception {
        String id = volume("v", mount(), 64 * MIB);
        ObjectId oid = ObjectId.parse(id, ObjectId.Kind.VOLUME);
        Path dev = d.backend.attach(oid, false, Credentials.none()).device();
        d.host.putFilesystem(dev, new FakeNodeHost.Fs("ext4", 64 * MIB, false));
        stage(id, mount());
        assertThat(d.ran("mkfs.ext4", "mkfs.xfs")).isEmpty();
        unstage(id);

        d.backend.attach(oid, false, Credentials.none());
        Path dev2 = device(id);
        d.host.putFilesystem(dev2, new FakeNodeHost.Fs("btrfs", 64 * MIB, false));
        assertThat(expect(Code.FAILED_PRECONDITION, () -> stage(id, mount()))).contains("btrfs")
                .contains("never reformatted");
        d.host.putFilesystem(dev2, new FakeNodeHost.Fs("", 0, true));
        assertThat(expect(Code.FAILED_PRECONDITION, () -> stage(id, mount()))).contains("partition table");
        assertThat(d.ran("mkfs.ext4", "mkfs.xfs")).isEmpty();
        assertThat(d.table.mounts().isMountPoint(staging)).isFalse();
    }

    @Test
    void xfsIsMountedWithNouuidAndReaderOnlyModesReadOnly() throws Exception {
        String id = volume("x", mount("xfs", Mode.SINGLE_NODE_READER_ONLY), Sizes.XFS_MIN_BYTES);
        stage(id, mount("xfs", Mode.SINGLE_NODE_READER_ONLY));
        MountInfo m = mountAt(staging);
        assertThat(m.readOnly()).isTrue();
        assertThat(m.superOptions()).contains("nouuid", "ro");
        assertThat(d.ran("mkfs.xfs")).hasSize(1);
    }

    @Test
    void stagingAnotherVolumesPathIsAlreadyExists() throws Exception {
        String a = volume("a", mount(), MIB);
        String b = volume("b", mount(), MIB);
        stage(a, mount());
        assertThat(expect(Code.ALREADY_EXISTS, () -> stage(b, mount()))).contains(staging.toString());
        assertThat(expect(Code.ALREADY_EXISTS, () -> stage(a, mount("ext4", Mode.SINGLE_NODE_READER_ONLY))))
                .contains("ro");
        assertThat(d.backend.findAttachment(ObjectId.parse(b, ObjectId.Kind.VOLUME))).isEmpty();
    }

    @Test
    void aFailedMountUndoesTheAttach() throws Exception {
        String id = volume("v", mount(), MIB);
        d.runner.onPrefix("mount", "-t").thenFail(32, "mount: wrong fs type, bad option, bad superblock");
        assertThat(expect(Code.INTERNAL, () -> stage(id, mount()))).contains("bad superblock");
        assertThat(d.backend.attachmentMap()).isEmpty();
    }

    @Test
    void aBackendFailureWhileAttachingMapsToItsCode() throws Exception {
        String id = volume("v", mount(), MIB);
        d.backend.failNext("attach", new StorageException.CapacityExceeded("no free loop device"));
        assertThat(expect(Code.RESOURCE_EXHAUSTED, () -> stage(id, mount()))).contains("loop device");
    }

    @Test
    void blockVolumesAreAttachedNotFormattedAndBoundOntoAFile() throws Exception {
        VolumeCapability cap = block(Mode.SINGLE_NODE_WRITER);
        String id = volume("b", cap, 8 * MIB);
        stage(id, cap);
        stage(id, cap);
        assertThat(d.ran("mkfs.ext4", "mkfs.xfs", "blkid")).isEmpty();
        assertThat(d.table.mounts().isMountPoint(staging)).isFalse();
        Path dev = device(id);
        Path blockTarget = tmp.resolve("pods/pod-1/volumeDevices/dev");
        publish(id, blockTarget, cap, false);
        publish(id, blockTarget, cap, false);
        assertThat(Files.isRegularFile(blockTarget)).isTrue();
        assertThat(d.table.mounts().locate(dev)).contains(Mounts.FilesystemLocation.of(
                mountAt(blockTarget)));
        NodeGetVolumeStatsResponse stats = d.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId(id).setVolumePath(blockTarget.toString()).build());
        assertThat(stats.getUsageList()).singleElement().satisfies(u -> {
            assertThat(u.getUnit()).isEqualTo(VolumeUsage.Unit.BYTES);
            assertThat(u.getTotal()).isEqualTo(8 * MIB);
        });
        assertThat(expect(Code.FAILED_PRECONDITION, () -> unstage(id))).contains("still published");
        unpublish(id, blockTarget);
        assertThat(blockTarget).doesNotExist();
        unstage(id);
        assertThat(d.backend.attachmentMap()).isEmpty();
    }

    @Test
    void aPendingExt4GrowHappensOfflineBeforeTheMount() throws Exception {
        String id = volume("g", mount(), 64 * MIB);
        stage(id, mount());
        unstage(id);
        d.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(128 * MIB)).build());
        d.runner.clearInvocations();
        stage(id, mount());
        List<String> order = d.runner.argvs().stream().map(a -> a.get(0))
                .filter(p -> List.of("e2fsck", "resize2fs", "mount").contains(p)).toList();
        assertThat(order).containsExactly("e2fsck", "resize2fs", "mount");
        assertThat(d.host.filesystem(device(id)).orElseThrow().bytes()).isEqualTo(128 * MIB);
    }

    // ---- NodePublishVolume ------------------------------------------------------------------

    @Test
    void publishChecklist() throws Exception {
        String id = volume("v", mount(), MIB);
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder()
                .setTargetPath(target.toString()).setVolumeCapability(mount()).build()))).contains("volume_id");
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder()
                .setVolumeId(id).setVolumeCapability(mount()).build()))).contains("target_path");
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder()
                .setVolumeId(id).setTargetPath(target.toString()).build()))).contains("volume_capability");
        assertThat(expect(Code.FAILED_PRECONDITION, () -> d.node().nodePublishVolume(NodePublishVolumeRequest
                .newBuilder().setVolumeId(id).setTargetPath(target.toString()).setVolumeCapability(mount()).build())))
                .contains("staging_target_path");
        expect(Code.NOT_FOUND, () -> publish("ghost-volume", target, mount(), false));
        assertThat(expect(Code.FAILED_PRECONDITION, () -> publish(id, target, mount(), false))).contains("not staged");
        assertThat(target).doesNotExist();
    }

    @Test
    void publishBindsReadOnlyWhenAskedAndIsIdempotent() throws Exception {
        String id = volume("v", mount(), MIB);
        stage(id, mount());
        publish(id, target, mount(), false);
        publish(id, target, mount(), false);
        assertThat(Files.isDirectory(target)).isTrue();
        MountInfo m = mountAt(target);
        assertThat(m.source()).isEqualTo(device(id).toString());
        assertThat(m.readOnly()).isFalse();
        assertThat(expect(Code.ALREADY_EXISTS, () -> publish(id, target, mount(), true))).contains(target.toString());

        Path ro = tmp.resolve("pods/pod-2/mount");
        String other = volume("w", mount(), MIB);
        expect(Code.FAILED_PRECONDITION, () -> publish(id, ro, mount(), true));
        assertThat(ro).as("target removed after a failed publish").doesNotExist();
        unpublish(id, target);
        publish(id, ro, mount(), true);
        assertThat(mountAt(ro).readOnly()).isTrue();
        assertThat(other).isNotEmpty();
    }

    @Test
    void singleWriterModesAllowOneTargetMultiWriterMany() throws Exception {
        String id = volume("v", mount(), MIB);
        stage(id, mount());
        publish(id, target, mount("ext4", Mode.SINGLE_NODE_SINGLE_WRITER), false);
        Path second = tmp.resolve("pods/pod-2/mount");
        assertThat(expect(Code.FAILED_PRECONDITION, () -> publish(id, second,
                mount("ext4", Mode.SINGLE_NODE_SINGLE_WRITER), false))).contains(target.toString());
        unpublish(id, target);
        publish(id, target, mount("ext4", Mode.SINGLE_NODE_MULTI_WRITER), false);
        publish(id, second, mount("ext4", Mode.SINGLE_NODE_MULTI_WRITER), false);
        assertThat(mountAt(second).source()).isEqualTo(device(id).toString());
    }

    // ---- Unpublish and unstage ----------------------------------------------------------------

    @Test
    void unpublishAndUnstageAreIdempotentAndRemoveWhatThePluginCreated() throws Exception {
        String id = volume("v", mount(), MIB);
        stage(id, mount());
        publish(id, target, mount(), false);
        assertThat(expect(Code.FAILED_PRECONDITION, () -> unstage(id))).contains(target.toString());
        for (int i = 0; i < 3; i++) {
            unpublish(id, target);
        }
        assertThat(target).doesNotExist();
        for (int i = 0; i < 3; i++) {
            unstage(id);
        }
        assertThat(d.table.mounts().isMountPoint(staging)).isFalse();
        assertThat(d.backend.attachmentMap()).isEmpty();
        expect(Code.INVALID_ARGUMENT, () -> d.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder()
                .setVolumeId(id).build()));
        expect(Code.INVALID_ARGUMENT, () -> d.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder()
                .setStagingTargetPath(staging.toString()).build()));
        expect(Code.NOT_FOUND, () -> unpublish("not-an-id", target));
        unpublish(ObjectId.newVolume(FakeBackend.KIND, TestDriver.NODE, "default").encode(), tmp.resolve("missing"));
    }

    @Test
    void unpublishLeavesATargetWithForeignFilesAlone() throws Exception {
        String id = volume("v", mount(), MIB);
        Files.createDirectories(target);
        Files.writeString(target.resolve("stray"), "x");
        assertThat(expect(Code.FAILED_PRECONDITION, () -> unpublish(id, target))).contains("not empty");
        assertThat(target.resolve("stray")).exists();
    }

    @Test
    void unstageRefusesToUnmountSomethingElse() throws Exception {
        String id = volume("v", mount(), MIB);
        d.backend.attach(ObjectId.parse(id, ObjectId.Kind.VOLUME), false, Credentials.none());
        d.table.add("300 1 8:1 / " + staging + " rw,relatime - ext4 /dev/sdb1 rw");
        assertThat(expect(Code.FAILED_PRECONDITION, () -> unstage(id))).contains("/dev/sdb1");
        assertThat(d.table.mounts().isMountPoint(staging)).isTrue();
    }

    // ---- Stats ----------------------------------------------------------------------------------

    @Test
    void statsReportBytesInodesAndTheVolumeCondition() throws Exception {
        String id = volume("v", mount(), 64 * MIB);
        expect(Code.NOT_FOUND, () -> d.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId(id).setVolumePath(target.toString()).build()));
        stage(id, mount());
        publish(id, target, mount(), false);
        NodeGetVolumeStatsResponse r = d.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId(id).setVolumePath(target.toString()).build());
        assertThat(r.getUsageList()).extracting(VolumeUsage::getUnit)
                .containsExactly(VolumeUsage.Unit.BYTES, VolumeUsage.Unit.INODES);
        assertThat(r.getUsage(0).getTotal()).isEqualTo(64 * MIB);
        assertThat(r.getUsage(0).getAvailable()).isPositive().isLessThan(64 * MIB);
        assertThat(r.getUsage(1).getTotal()).isEqualTo(65536);
        assertThat(r.getUsage(1).getUsed()).isEqualTo(536);
        assertThat(r.getVolumeCondition().getAbnormal()).isFalse();
        expect(Code.INVALID_ARGUMENT, () -> d.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId(id).build()));
        expect(Code.NOT_FOUND, () -> d.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId(id).setVolumePath(tmp.resolve("nowhere").toString()).build()));

        ObjectId oid = ObjectId.parse(id, ObjectId.Kind.VOLUME);
        d.backend.breakImage(oid, "data file of the image is missing");
        assertThat(d.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder().setVolumeId(id)
                .setVolumePath(target.toString()).build()).getVolumeCondition().getMessage())
                .isEqualTo("data file of the image is missing");
        d.backend.loseDevice(oid);
        assertThat(d.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder().setVolumeId(id)
                .setVolumePath(target.toString()).build()).getVolumeCondition()).satisfies(c -> {
                    assertThat(c.getAbnormal()).isTrue();
                    assertThat(c.getMessage()).contains("device");
                });
        d.backend.vanish(oid);
        assertThat(d.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder().setVolumeId(id)
                .setVolumePath(target.toString()).build()).getVolumeCondition()).satisfies(c -> {
                    assertThat(c.getAbnormal()).isTrue();
                    assertThat(c.getMessage()).contains("image");
                });
    }

    @Test
    void statsOfAPathHoldingAnotherVolumeAreNotFound() throws Exception {
        String a = volume("a", mount(), MIB);
        String b = volume("b", mount(), MIB);
        stage(a, mount());
        d.backend.attach(ObjectId.parse(b, ObjectId.Kind.VOLUME), false, Credentials.none());
        expect(Code.NOT_FOUND, () -> d.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId(b).setVolumePath(staging.toString()).build()));
    }

    // ---- Expansion ----------------------------------------------------------------------------

    @Test
    void xfsGrowsOnline() throws Exception {
        VolumeCapability cap = mount("xfs", Mode.SINGLE_NODE_WRITER);
        String id = volume("x", cap, Sizes.XFS_MIN_BYTES);
        stage(id, cap);
        publish(id, target, cap, false);
        d.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(512 * MIB)).build());
        long size = d.node().nodeExpandVolume(NodeExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setVolumePath(target.toString()).setStagingTargetPath(staging.toString())
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(512 * MIB)).setVolumeCapability(cap)
                .build()).getCapacityBytes();
        assertThat(size).isEqualTo(512 * MIB);
        assertThat(d.host.filesystem(device(id)).orElseThrow().bytes()).isEqualTo(512 * MIB);
        assertThat(d.ran("xfs_growfs")).last().isEqualTo(List.of("xfs_growfs", "-d", "--", staging.toString()));
    }

    @Test
    void ext4CannotGrowOnlineHereSoItSaysWhyAndGrowsAtTheNextStage() throws Exception {
        String id = volume("e", mount(), 64 * MIB);
        stage(id, mount());
        publish(id, target, mount(), false);
        d.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(96 * MIB)).build());
        NodeExpandVolumeRequest grow = NodeExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setVolumePath(target.toString()).setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(96 * MIB))
                .build();
        String msg = expect(Code.FAILED_PRECONDITION, () -> d.node().nodeExpandVolume(grow));
        assertThat(msg).contains("CAP_SYS_RESOURCE").contains("Permission denied").contains("next staged");
        unpublish(id, target);
        unstage(id);
        stage(id, mount());
        assertThat(d.host.filesystem(device(id)).orElseThrow().bytes()).isEqualTo(96 * MIB);
        publish(id, target, mount(), false);
        assertThat(d.node().nodeExpandVolume(grow).getCapacityBytes()).as("nothing left to grow").isEqualTo(96 * MIB);

        d.host.allowOnlineExt4(true);
        d.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(128 * MIB)).build());
        assertThat(d.node().nodeExpandVolume(grow.toBuilder().setCapacityRange(CapacityRange.newBuilder()
                .setRequiredBytes(128 * MIB)).build()).getCapacityBytes()).isEqualTo(128 * MIB);
        assertThat(d.host.filesystem(device(id)).orElseThrow().bytes()).isEqualTo(128 * MIB);
    }

    @Test
    void expandChecklist() throws Exception {
        VolumeCapability cap = block(Mode.SINGLE_NODE_WRITER);
        String id = volume("b", cap, 8 * MIB);
        expect(Code.INVALID_ARGUMENT, () -> d.node().nodeExpandVolume(NodeExpandVolumeRequest.newBuilder()
                .setVolumeId(id).build()));
        expect(Code.NOT_FOUND, () -> d.node().nodeExpandVolume(NodeExpandVolumeRequest.newBuilder()
                .setVolumeId("ghost").setVolumePath(target.toString()).build()));
        stage(id, cap);
        Path dev = tmp.resolve("pods/pod-1/block");
        publish(id, dev, cap, false);
        d.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(16 * MIB)).build());
        expect(Code.OUT_OF_RANGE, () -> d.node().nodeExpandVolume(NodeExpandVolumeRequest.newBuilder()
                .setVolumeId(id).setVolumePath(dev.toString()).setCapacityRange(CapacityRange.newBuilder()
                        .setRequiredBytes(32 * MIB)).build()));
        assertThat(d.node().nodeExpandVolume(NodeExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setVolumePath(dev.toString()).setVolumeCapability(cap).build()).getCapacityBytes())
                .isEqualTo(16 * MIB);
        assertThat(d.ran("resize2fs", "xfs_growfs")).isEmpty();
    }

    // ---- Restart ------------------------------------------------------------------------------

    @Test
    void reconcileReattachesWhatTheKernelLostAndLeavesTheRestAlone() throws Exception {
        String a = volume("a", mount(), MIB);
        String b = volume("b", mount(), MIB);
        ObjectId ia = ObjectId.parse(a, ObjectId.Kind.VOLUME);
        ObjectId ib = ObjectId.parse(b, ObjectId.Kind.VOLUME);
        Path keep = d.backend.attach(ia, false, Credentials.none()).device();
        d.backend.attach(ib, false, Credentials.none());
        d.backend.loseDevice(ib);
        assertThat(d.nodeService.reconcile()).isEqualTo(1);
        assertThat(d.backend.findAttachment(ia).orElseThrow().device()).isEqualTo(keep);
        assertThat(d.backend.findAttachment(ib)).isPresent();
        assertThat(d.nodeService.reconcile()).isZero();
    }

    @Test
    void reconcileSurvivesABackendDefectOnOneAttachmentAndRestoresTheOthers() throws Exception {
        ObjectId ia = ObjectId.parse(volume("a", mount(), MIB), ObjectId.Kind.VOLUME);
        ObjectId ib = ObjectId.parse(volume("b", mount(), MIB), ObjectId.Kind.VOLUME);
        d.backend.attach(ia, false, Credentials.none());
        d.backend.attach(ib, false, Credentials.none());
        d.backend.loseDevice(ia);
        d.backend.loseDevice(ib);
        d.backend.defectNext("attach", new IllegalStateException("unreadable record"));
        assertThat(d.nodeService.reconcile()).isEqualTo(1);
        assertThat(d.backend.findAttachment(ia).isPresent() ^ d.backend.findAttachment(ib).isPresent())
                .as("exactly one of the two was re-attached").isTrue();
        assertThat(d.nodeService.reconcile()).as("the other, on the next start").isEqualTo(1);
    }
}
