package dev.nodekit.conformance.csi;

import static dev.nodekit.conformance.Expect.ok;
import static dev.nodekit.conformance.Expect.that;
import static dev.nodekit.conformance.csi.CsiChecks.ROOT;
import static dev.nodekit.conformance.csi.CsiChecks.ROOT_LOOP;
import static dev.nodekit.conformance.csi.CsiChecks.SPEC;
import static dev.nodekit.conformance.csi.CsiChecks.always;
import static dev.nodekit.conformance.csi.CsiChecks.missingArgument;
import static dev.nodekit.conformance.csi.CsiChecks.scoped;
import static dev.nodekit.conformance.csi.CsiChecks.someVolumeId;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

import dev.nodekit.conformance.CheckFailed;
import dev.nodekit.conformance.CheckSkipped;
import dev.nodekit.conformance.Expect;
import dev.nodekit.conformance.Suite;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.CreateVolumeResponse;
import dev.nodekit.spec.csi.v1.NodeGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.NodeGetCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.NodeGetInfoRequest;
import dev.nodekit.spec.csi.v1.NodeGetInfoResponse;
import dev.nodekit.spec.csi.v1.NodeGetVolumeStatsRequest;
import dev.nodekit.spec.csi.v1.NodeGetVolumeStatsResponse;
import dev.nodekit.spec.csi.v1.NodePublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeServiceCapability;
import dev.nodekit.spec.csi.v1.NodeStageVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnpublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnstageVolumeRequest;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.spec.csi.v1.Volume;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import dev.nodekit.spec.csi.v1.VolumeUsage;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The CSI Node suite: capabilities and NodeGetInfo, the arguments of every node RPC, and the volume
 * lifecycle with real mounts. The plugin mounts; the checks look at {@code /proc/self/mountinfo}
 * and at the files and devices themselves: the staging and target paths are mount points, data
 * written through the target is on the volume, a read-only publish really refuses writes, unpublish
 * removes the target, unstage leaves nothing mounted, repeats and concurrent duplicates never stack
 * mounts. Covers csi-sanity's "Node Service" group.
 */
public final class CsiNodeChecks {
    private static final NodeServiceCapability.RPC.Type STAGE = NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME;
    private static final NodeServiceCapability.RPC.Type STATS = NodeServiceCapability.RPC.Type.GET_VOLUME_STATS;
    private static final NodeServiceCapability.RPC.Type MULTI_WRITER =
            NodeServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER;
    private static final VolumeCapability.AccessMode.Mode SNW = VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER;

    private CsiNodeChecks() {
    }

    /** The Node suite. */
    public static Suite<CsiTarget> suite() {
        Suite.Builder<CsiTarget> b = Suite.builder("csi");
        info(b);
        arguments(b);
        lifecycle(b);
        idempotency(b);
        secondPublish(b);
        stats(b);
        block(b);
        return b.build();
    }

    private static Consumer<CsiTarget> node(NodeServiceCapability.RPC.Type rpc) {
        return t -> t.requireNode(rpc);
    }

    // ---- capabilities and info

    private static void info(Suite.Builder<CsiTarget> b) {
        b.check("csi.node.capabilities-valid", SPEC + "NodeGetCapabilities",
                "every capability is a known RPC type, none is repeated, the answer is stable", t -> {
                    NodeGetCapabilitiesResponse first = ok("NodeGetCapabilities", () -> t.node()
                            .nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance()));
                    Set<NodeServiceCapability.RPC.Type> seen = new HashSet<>();
                    for (int i = 0; i < first.getCapabilitiesCount(); i++) {
                        NodeServiceCapability c = first.getCapabilities(i);
                        that(c.hasRpc(), "capabilities[%d] has no rpc set", i);
                        NodeServiceCapability.RPC.Type type = c.getRpc().getType();
                        that(type != NodeServiceCapability.RPC.Type.UNKNOWN
                                && type != NodeServiceCapability.RPC.Type.UNRECOGNIZED, "capabilities[%d] has type %s", i,
                                type);
                        that(seen.add(type), "capabilities[%d] repeats %s", i, type);
                    }
                    for (int i = 0; i < CsiExpect.REPEATS; i++) {
                        Expect.equal(first, ok("NodeGetCapabilities", () -> t.node().nodeGetCapabilities(
                                NodeGetCapabilitiesRequest.getDefaultInstance())), "NodeGetCapabilities call " + (i + 2));
                    }
                });
        b.check("csi.node.get-info", SPEC + "NodeGetInfo",
                "node_id is set and at most 256 bytes, max_volumes_per_node is not negative, the answer is stable", t -> {
                    NodeGetInfoResponse first = ok("NodeGetInfo", () -> t.node().nodeGetInfo(
                            NodeGetInfoRequest.getDefaultInstance()));
                    that(!first.getNodeId().isEmpty(), "NodeGetInfo.node_id is empty (it is REQUIRED)");
                    int bytes = first.getNodeId().getBytes(StandardCharsets.UTF_8).length;
                    that(bytes <= 256, "NodeGetInfo.node_id is %d bytes; CSI allows at most 256", bytes);
                    that(first.getMaxVolumesPerNode() >= 0, "max_volumes_per_node is %d", first.getMaxVolumesPerNode());
                    if (t.hasService(PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS)) {
                        that(first.hasAccessibleTopology(), "VOLUME_ACCESSIBILITY_CONSTRAINTS is advertised but "
                                + "NodeGetInfo has no accessible_topology");
                    }
                    for (int i = 0; i < CsiExpect.REPEATS; i++) {
                        Expect.equal(first, ok("NodeGetInfo", () -> t.node().nodeGetInfo(
                                NodeGetInfoRequest.getDefaultInstance())), "NodeGetInfo call " + (i + 2));
                    }
                });
    }

    // ---- arguments and unknown volumes (no mounts expected)

    private static NodeStageVolumeRequest.Builder stageRequest(CsiTarget t, String volumeId, String staging) {
        return NodeStageVolumeRequest.newBuilder().setVolumeId(volumeId).setStagingTargetPath(staging)
                .setVolumeCapability(t.capability()).putAllSecrets(t.secrets());
    }

    private static NodePublishVolumeRequest.Builder publishRequest(CsiTarget t, String volumeId, String staging,
            String target) {
        return NodePublishVolumeRequest.newBuilder().setVolumeId(volumeId).setStagingTargetPath(staging)
                .setTargetPath(target).setVolumeCapability(t.capability()).putAllSecrets(t.secrets());
    }

    private static NodeUnpublishVolumeRequest unpublishRequest(String volumeId, Path target) {
        return NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId).setTargetPath(target.toString()).build();
    }

    private static NodeUnstageVolumeRequest unstageRequest(String volumeId, Path staging) {
        return NodeUnstageVolumeRequest.newBuilder().setVolumeId(volumeId).setStagingTargetPath(staging.toString())
                .build();
    }

    /** A staging path for requests that do not get as far as staging (empty when the plugin does not stage). */
    private static String stagingFor(CsiResources r) throws IOException {
        return r.stageUnstage() ? r.newStagingPath().toString() : "";
    }

    private static void arguments(Suite.Builder<CsiTarget> b) {
        b.add(missingArgument("csi.node.stage.missing-volume-id", "NodeStageVolume", "volume_id", node(STAGE),
                (t, r) -> t.node().nodeStageVolume(stageRequest(t, "", r.newStagingPath().toString()).build())));
        b.add(missingArgument("csi.node.stage.missing-staging-path", "NodeStageVolume", "staging_target_path",
                node(STAGE), (t, r) -> t.node().nodeStageVolume(stageRequest(t, someVolumeId(t, r), "").build())));
        b.add(missingArgument("csi.node.stage.missing-capability", "NodeStageVolume", "volume_capability",
                node(STAGE), (t, r) -> {
                    String id = someVolumeId(t, r);
                    Path staging = r.newStagingPath();
                    r.trackStage(id, staging);
                    return t.node().nodeStageVolume(stageRequest(t, id, staging.toString()).clearVolumeCapability()
                            .build());
                }));
        b.add(missingArgument("csi.node.unstage.missing-volume-id", "NodeUnstageVolume", "volume_id", node(STAGE),
                (t, r) -> t.node().nodeUnstageVolume(unstageRequest("", r.newStagingPath()))));
        b.add(missingArgument("csi.node.unstage.missing-staging-path", "NodeUnstageVolume", "staging_target_path",
                node(STAGE), (t, r) -> t.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder()
                        .setVolumeId(someVolumeId(t, r)).build())));
        b.add(missingArgument("csi.node.publish.missing-volume-id", "NodePublishVolume", "volume_id", always(),
                (t, r) -> t.node().nodePublishVolume(publishRequest(t, "", stagingFor(r), r.newTargetPath().toString())
                        .build())));
        b.add(missingArgument("csi.node.publish.missing-target-path", "NodePublishVolume", "target_path", always(),
                (t, r) -> t.node().nodePublishVolume(publishRequest(t, someVolumeId(t, r), stagingFor(r), "").build())));
        b.add(missingArgument("csi.node.publish.missing-capability", "NodePublishVolume", "volume_capability",
                always(), (t, r) -> {
                    String id = someVolumeId(t, r);
                    Path target = r.newTargetPath();
                    r.trackPublish(id, target);
                    return t.node().nodePublishVolume(publishRequest(t, id, stagingFor(r), target.toString())
                            .clearVolumeCapability().build());
                }));
        b.add(missingArgument("csi.node.unpublish.missing-volume-id", "NodeUnpublishVolume", "volume_id", always(),
                (t, r) -> t.node().nodeUnpublishVolume(unpublishRequest("", r.newTargetPath()))));
        b.add(missingArgument("csi.node.unpublish.missing-target-path", "NodeUnpublishVolume", "target_path",
                always(), (t, r) -> t.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder()
                        .setVolumeId(someVolumeId(t, r)).build())));
        b.add(missingArgument("csi.node.volume-stats.missing-volume-id", "NodeGetVolumeStats", "volume_id", node(STATS),
                (t, r) -> t.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                        .setVolumePath(r.newTargetPath().getParent().toString()).build())));
        b.add(missingArgument("csi.node.volume-stats.missing-volume-path", "NodeGetVolumeStats", "volume_path",
                node(STATS), (t, r) -> t.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                        .setVolumeId(someVolumeId(t, r)).build())));
        b.check("csi.node.publish.missing-staging-path", SPEC + "NodePublishVolume",
                "with STAGE_UNSTAGE_VOLUME advertised, a publish without staging_target_path is FAILED_PRECONDITION",
                scoped((t, r) -> {
                    t.requireNode(STAGE);
                    r.requireProvisioning();
                    Volume v = r.createVolume("csi-nostaging");
                    Path target = r.newTargetPath();
                    r.trackPublish(v.getVolumeId(), target);
                    CsiExpect.error(Status.Code.FAILED_PRECONDITION, "NodePublishVolume without staging_target_path",
                            () -> t.node().nodePublishVolume(publishRequest(t, v.getVolumeId(), "", target.toString())
                                    .putAllVolumeContext(v.getVolumeContextMap()).build()));
                }));
        b.check("csi.node.stage.unknown-volume", SPEC + "NodeStageVolume", "staging an unknown volume is NOT_FOUND",
                scoped((t, r) -> {
                    t.requireNode(STAGE);
                    String gone = r.goneVolumeId();
                    Path staging = r.newStagingPath();
                    r.trackStage(gone, staging);
                    CsiExpect.error(Status.Code.NOT_FOUND, "NodeStageVolume of deleted volume " + gone,
                            () -> t.node().nodeStageVolume(stageRequest(t, gone, staging.toString()).build()));
                }));
        b.check("csi.node.publish.unknown-volume", SPEC + "NodePublishVolume", "publishing an unknown volume is "
                + "NOT_FOUND", scoped((t, r) -> {
                    String gone = r.goneVolumeId();
                    Path target = r.newTargetPath();
                    r.trackPublish(gone, target);
                    String staging = stagingFor(r);
                    CsiExpect.error(Status.Code.NOT_FOUND, "NodePublishVolume of deleted volume " + gone,
                            () -> t.node().nodePublishVolume(publishRequest(t, gone, staging, target.toString()).build()));
                }));
        b.check("csi.node.unpublish.not-published", SPEC + "NodeUnpublishVolume",
                "unpublishing a volume that is not published at the target answers OK", scoped((t, r) -> {
                    r.requireProvisioning();
                    Volume v = r.createVolume("csi-notpub");
                    Path target = r.newTargetPath();
                    ok("NodeUnpublishVolume of a target never published", () -> t.node().nodeUnpublishVolume(
                            unpublishRequest(v.getVolumeId(), target)));
                }));
        b.check("csi.node.unstage.not-staged", SPEC + "NodeUnstageVolume",
                "unstaging a volume that is not staged at the path answers OK", scoped((t, r) -> {
                    t.requireNode(STAGE);
                    r.requireProvisioning();
                    Volume v = r.createVolume("csi-notstaged");
                    Path staging = r.newStagingPath();
                    ok("NodeUnstageVolume of a volume never staged", () -> t.node().nodeUnstageVolume(
                            unstageRequest(v.getVolumeId(), staging)));
                }));
        b.check("csi.node.volume-stats.unknown-volume", SPEC + "NodeGetVolumeStats",
                "stats of an unknown volume are NOT_FOUND", scoped((t, r) -> {
                    t.requireNode(STATS);
                    String gone = r.goneVolumeId();
                    Path path = r.newTargetPath();
                    CsiExpect.error(Status.Code.NOT_FOUND, "NodeGetVolumeStats of deleted volume " + gone,
                            () -> t.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder().setVolumeId(gone)
                                    .setVolumePath(path.toString()).build()));
                }));
    }

    // ---- the lifecycle with real mounts

    private static void lifecycle(Suite.Builder<CsiTarget> b) {
        b.check("csi.node.stage-mounts", SPEC + "NodeStageVolume",
                "a staged mount volume is mounted at the staging path", ROOT, scoped((t, r) -> {
                    t.requireNode(STAGE);
                    r.requireProvisioning();
                    if (t.config().accessType() == CsiTarget.AccessType.BLOCK) {
                        throw new CheckSkipped("block volumes: what the plugin keeps in the staging directory is its own "
                                + "business");
                    }
                    VolumeCapability cap = t.capability();
                    CsiResources.Staged s = r.stage(r.createVolume("csi-stage", cap), cap);
                    Path staging = s.stagingPath().orElseThrow();
                    that(MountTable.read().isMountPoint(staging), "after NodeStageVolume nothing is mounted at the "
                            + "staging path %s", staging);
                }));
        b.check("csi.node.publish-mounts", SPEC + "NodePublishVolume", "the published target is a mount point: a "
                + "directory for mount volumes, the block device for block volumes; data written through it reads back",
                ROOT, scoped((t, r) -> {
                    CsiResources.Published p = r.publishedVolume("csi-publish", t.capability(), false);
                    checkPublished(p, t.config().volumeSize());
                }));
        b.check("csi.node.publish-shares-staging", SPEC + "NodePublishVolume",
                "the target shows the staged volume: files written through one are visible through the other", ROOT,
                scoped((t, r) -> {
                    t.requireNode(STAGE);
                    if (t.config().accessType() == CsiTarget.AccessType.BLOCK) {
                        throw new CheckSkipped("block volumes have no files to share");
                    }
                    CsiResources.Published p = r.publishedVolume("csi-share", t.capability(), false);
                    Path staging = p.staged().stagingPath().orElseThrow();
                    VolumeData.Marker viaTarget = VolumeData.marker("via-target", 0);
                    VolumeData.Marker viaStaging = VolumeData.marker("via-staging", 1);
                    VolumeData.writeFile(p.target(), viaTarget);
                    that(VolumeData.hasFile(staging, viaTarget), "a file written through the target %s is not visible "
                            + "through the staging path %s", p.target(), staging);
                    VolumeData.writeFile(staging, viaStaging);
                    that(VolumeData.hasFile(p.target(), viaStaging), "a file written through the staging path %s is "
                            + "not visible through the target %s", staging, p.target());
                }));
        b.check("csi.node.publish-readonly", SPEC + "NodePublishVolume",
                "a readonly publish is mounted read-only and a write through it fails with EROFS", ROOT, scoped((t, r) -> {
                    CsiResources.Published p = r.publishedVolume("csi-ro", t.capability(), true);
                    Optional<MountTable.Entry> top = MountTable.read().top(p.target());
                    that(top.isPresent(), "nothing is mounted at the readonly target %s", p.target());
                    that(top.get().readOnly(), "the readonly target %s is mounted %s", p.target(), top.get().options());
                    if (!p.staged().block()) {
                        Path probe = p.target().resolve("csi-conformance-ro-probe");
                        try {
                            NodeIo.writeFile(probe, new byte[] {1});
                            throw new CheckFailed("a file was written through the readonly target " + p.target());
                        } catch (IOException e) {
                            that(NodeIo.isReadOnly(e), "a write through the readonly target failed with '%s', not "
                                    + "EROFS", e.toString());
                        }
                    }
                }));
        b.check("csi.node.unpublish-removes-target", SPEC + "NodeUnpublishVolume",
                "after NodeUnpublishVolume the target is unmounted and gone (the SP removes what it created)", ROOT,
                scoped((t, r) -> {
                    CsiResources.Published p = r.publishedVolume("csi-unpub", t.capability(), false);
                    r.unpublish(p.volumeId(), p.target());
                    that(!MountTable.read().isMountPoint(p.target()), "the target %s is still a mount point after "
                            + "NodeUnpublishVolume", p.target());
                    that(!Files.exists(p.target(), LinkOption.NOFOLLOW_LINKS), "the target %s still exists after "
                            + "NodeUnpublishVolume; the SP MUST remove the file or directory it created", p.target());
                }));
        b.check("csi.node.unstage-unmounts", SPEC + "NodeUnstageVolume",
                "after NodeUnstageVolume nothing is mounted at or below the staging path", ROOT, scoped((t, r) -> {
                    t.requireNode(STAGE);
                    CsiResources.Published p = r.publishedVolume("csi-unstage", t.capability(), false);
                    r.release(p);
                    Path staging = p.staged().stagingPath().orElseThrow();
                    List<MountTable.Entry> left = MountTable.read().under(staging);
                    that(left.isEmpty(), "after NodeUnstageVolume %s is still mounted under the staging path",
                            left.stream().map(MountTable.Entry::mountPoint).toList());
                }));
    }

    /** The published volume is a mount point holding the volume, and data round-trips through it. */
    static void checkPublished(CsiResources.Published p, long size) throws IOException {
        Path target = p.target();
        that(Files.exists(target, LinkOption.NOFOLLOW_LINKS), "NodePublishVolume answered OK but %s does not exist",
                target);
        that(MountTable.read().isMountPoint(target), "NodePublishVolume answered OK but nothing is mounted at %s", target);
        if (p.staged().block()) {
            that(!Files.isDirectory(target), "the block volume's target %s is a directory; it must be the device", target);
            that(NodeIo.isBlockDevice(target), "the block volume's target %s is not a block device", target);
            long device = NodeIo.blockDeviceSize(target);
            that(device >= size, "the block device at %s has %d bytes; the volume was created with %d", target, device,
                    size);
            byte[] first = NodeIo.randomBytes(VolumeData.BLOCK);
            byte[] last = NodeIo.randomBytes(VolumeData.BLOCK);
            NodeIo.writeBlock(target, 0, first);
            NodeIo.writeBlock(target, size - VolumeData.BLOCK, last);
            that(Arrays.equals(first, NodeIo.readBlock(target, 0, VolumeData.BLOCK)), "the first 4 KiB written through "
                    + "%s do not read back", target);
            that(Arrays.equals(last, NodeIo.readBlock(target, size - VolumeData.BLOCK, VolumeData.BLOCK)),
                    "the last 4 KiB written through %s do not read back", target);
        } else {
            that(Files.isDirectory(target), "the mount volume's target %s is not a directory", target);
            VolumeData.Marker m = VolumeData.marker("publish", 0);
            VolumeData.writeFile(target, m);
            that(VolumeData.hasFile(target, m), "a file written through %s does not read back", target);
        }
    }

    // ---- repeats and concurrent duplicates

    private static int mountsUnder(Path p) throws IOException {
        return MountTable.read().under(p).size();
    }

    private static void idempotency(Suite.Builder<CsiTarget> b) {
        b.check("csi.node.stage.idempotent", SPEC + "NodeStageVolume", "NodeStageVolume repeated and 8 times "
                + "concurrently answers OK (or ABORTED) and never stacks mounts", ROOT, scoped((t, r) -> {
                    t.requireNode(STAGE);
                    r.requireProvisioning();
                    VolumeCapability cap = t.capability();
                    CsiResources.Staged s = r.stage(r.createVolume("csi-stageidem", cap), cap);
                    Path staging = s.stagingPath().orElseThrow();
                    int once = mountsUnder(staging);
                    NodeStageVolumeRequest req = r.stageRequest(s);
                    for (int i = 1; i <= CsiExpect.REPEATS; i++) {
                        ok("NodeStageVolume repeat " + i, () -> t.node().nodeStageVolume(req));
                    }
                    CsiExpect.concurrently("NodeStageVolume", () -> t.node().nodeStageVolume(req));
                    CsiExpect.eventuallyOk("NodeStageVolume after the burst", () -> t.node().nodeStageVolume(req));
                    int now = mountsUnder(staging);
                    that(now == once, "after repeated NodeStageVolume there are %d mounts under %s; after the first "
                            + "there were %d", now, staging, once);
                }));
        b.check("csi.node.publish.idempotent", SPEC + "NodePublishVolume", "NodePublishVolume repeated and 8 times "
                + "concurrently answers OK (or ABORTED) and never stacks mounts", ROOT, scoped((t, r) -> {
                    CsiResources.Published p = r.publishedVolume("csi-pubidem", t.capability(), false);
                    int once = mountsUnder(p.target());
                    NodePublishVolumeRequest req = r.publishRequest(p.staged(), p.target(), false);
                    for (int i = 1; i <= CsiExpect.REPEATS; i++) {
                        ok("NodePublishVolume repeat " + i, () -> t.node().nodePublishVolume(req));
                    }
                    CsiExpect.concurrently("NodePublishVolume", () -> t.node().nodePublishVolume(req));
                    CsiExpect.eventuallyOk("NodePublishVolume after the burst", () -> t.node().nodePublishVolume(req));
                    int now = mountsUnder(p.target());
                    that(now == once, "after repeated NodePublishVolume there are %d mounts at %s; after the first "
                            + "there were %d", now, p.target(), once);
                    checkPublished(p, t.config().volumeSize());
                }));
        b.check("csi.node.unpublish.idempotent", SPEC + "NodeUnpublishVolume", "NodeUnpublishVolume repeated and 8 "
                + "times concurrently answers OK (or ABORTED); the target stays gone", ROOT, scoped((t, r) -> {
                    CsiResources.Published p = r.publishedVolume("csi-unpubidem", t.capability(), false);
                    NodeUnpublishVolumeRequest req = unpublishRequest(p.volumeId(), p.target());
                    for (int i = 0; i <= CsiExpect.REPEATS; i++) {
                        ok("NodeUnpublishVolume call " + (i + 1), () -> t.node().nodeUnpublishVolume(req));
                    }
                    r.publishAt(p.staged(), p.target(), false);
                    CsiExpect.concurrently("NodeUnpublishVolume", () -> t.node().nodeUnpublishVolume(req));
                    CsiExpect.eventuallyOk("NodeUnpublishVolume after the burst", () -> t.node().nodeUnpublishVolume(req));
                    that(!MountTable.read().isMountPoint(p.target()) && !Files.exists(p.target(), LinkOption.NOFOLLOW_LINKS),
                            "after repeated NodeUnpublishVolume the target %s is still there", p.target());
                }));
        b.check("csi.node.unstage.idempotent", SPEC + "NodeUnstageVolume", "NodeUnstageVolume repeated and 8 times "
                + "concurrently answers OK (or ABORTED); nothing stays mounted", ROOT, scoped((t, r) -> {
                    t.requireNode(STAGE);
                    r.requireProvisioning();
                    VolumeCapability cap = t.capability();
                    CsiResources.Staged s = r.stage(r.createVolume("csi-unstageidem", cap), cap);
                    Path staging = s.stagingPath().orElseThrow();
                    NodeUnstageVolumeRequest req = unstageRequest(s.volumeId(), staging);
                    for (int i = 0; i <= CsiExpect.REPEATS; i++) {
                        ok("NodeUnstageVolume call " + (i + 1), () -> t.node().nodeUnstageVolume(req));
                    }
                    r.stageAt(s);
                    CsiExpect.concurrently("NodeUnstageVolume", () -> t.node().nodeUnstageVolume(req));
                    CsiExpect.eventuallyOk("NodeUnstageVolume after the burst", () -> t.node().nodeUnstageVolume(req));
                    List<MountTable.Entry> left = MountTable.read().under(staging);
                    that(left.isEmpty(), "after repeated NodeUnstageVolume %s is still mounted under %s",
                            left.stream().map(MountTable.Entry::mountPoint).toList(), staging);
                }));
    }

    // ---- second publishes (the spec's publish table)

    private static void secondPublish(Suite.Builder<CsiTarget> b) {
        b.check("csi.node.publish.different-args", SPEC + "NodePublishVolume",
                "publishing at the same target with another readonly flag is ALREADY_EXISTS and changes nothing", ROOT,
                scoped((t, r) -> {
                    CsiResources.Published p = r.publishedVolume("csi-pubargs", t.capability(), false);
                    CsiExpect.error(Status.Code.ALREADY_EXISTS, "NodePublishVolume at the same target with readonly=true",
                            () -> t.node().nodePublishVolume(r.publishRequest(p.staged(), p.target(), true)));
                    Optional<MountTable.Entry> top = MountTable.read().top(p.target());
                    that(top.isPresent() && !top.get().readOnly(), "after the refused readonly publish the target %s "
                            + "is %s", p.target(), top.map(e -> "mounted " + e.options()).orElse("not mounted"));
                }));
        b.check("csi.node.publish.single-writer-second-target", SPEC + "NodePublishVolume",
                "a SINGLE_NODE_SINGLE_WRITER volume published at a second target is FAILED_PRECONDITION", ROOT,
                scoped((t, r) -> {
                    t.requireNode(MULTI_WRITER);
                    t.requireController(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME,
                            ControllerServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER);
                    CsiResources.Published p = r.publishedVolume("csi-snsw", t.capability(
                            VolumeCapability.AccessMode.Mode.SINGLE_NODE_SINGLE_WRITER), false);
                    Path second = r.newTargetPath();
                    r.trackPublish(p.volumeId(), second);
                    CsiExpect.error(Status.Code.FAILED_PRECONDITION, "NodePublishVolume of a SINGLE_NODE_SINGLE_WRITER "
                            + "volume at a second target", () -> t.node().nodePublishVolume(
                                    r.publishRequest(p.staged(), second, false)));
                }));
        b.check("csi.node.publish.multi-writer-second-target", SPEC + "NodePublishVolume",
                "a SINGLE_NODE_MULTI_WRITER volume is published at two targets that share the data", ROOT,
                scoped((t, r) -> {
                    t.requireNode(MULTI_WRITER);
                    t.requireController(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME,
                            ControllerServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER);
                    CsiResources.Published p = r.publishedVolume("csi-snmw", t.capability(
                            VolumeCapability.AccessMode.Mode.SINGLE_NODE_MULTI_WRITER), false);
                    CsiResources.Published q = r.publish(p.staged(), false);
                    VolumeData.Marker m = VolumeData.marker("shared", 0);
                    VolumeData.write(p, m);
                    that(VolumeData.has(q, m), "data written through %s is not visible through the second target %s",
                            p.target(), q.target());
                }));
    }

    // ---- NodeGetVolumeStats

    static NodeGetVolumeStatsResponse stats(CsiTarget t, CsiResources.Published p, Path path) {
        NodeGetVolumeStatsRequest.Builder req = NodeGetVolumeStatsRequest.newBuilder().setVolumeId(p.volumeId())
                .setVolumePath(path.toString());
        p.staged().stagingPath().ifPresent(s -> req.setStagingTargetPath(s.toString()));
        return ok("NodeGetVolumeStats " + path, () -> t.node().nodeGetVolumeStats(req.build()));
    }

    static Optional<VolumeUsage> usage(NodeGetVolumeStatsResponse r, VolumeUsage.Unit unit) {
        return r.getUsageList().stream().filter(u -> u.getUnit() == unit).findFirst();
    }

    private static void checkUsage(VolumeUsage u, String what) {
        that(u.getTotal() > 0, "%s: total is %d", what, u.getTotal());
        that(u.getUsed() >= 0 && u.getAvailable() >= 0, "%s: used %d / available %d is negative", what, u.getUsed(),
                u.getAvailable());
        that(u.getUsed() <= u.getTotal() && u.getAvailable() <= u.getTotal(), "%s: used %d or available %d exceeds total "
                + "%d", what, u.getUsed(), u.getAvailable(), u.getTotal());
    }

    private static void stats(Suite.Builder<CsiTarget> b) {
        b.check("csi.node.volume-stats", SPEC + "NodeGetVolumeStats", "stats report bytes and inodes of a mount volume "
                + "(used grows when data is written) or the bytes of a block volume", ROOT, scoped((t, r) -> {
                    t.requireNode(STATS);
                    CsiResources.Published p = r.publishedVolume("csi-stats", t.capability(), false);
                    checkStats(t, p);
                }));
        b.check("csi.node.volume-stats.unknown-path", SPEC + "NodeGetVolumeStats",
                "stats of a volume at a path where it is not staged or published are NOT_FOUND", ROOT, scoped((t, r) -> {
                    t.requireNode(STATS);
                    CsiResources.Published p = r.publishedVolume("csi-statspath", t.capability(), false);
                    Path elsewhere = r.newTargetPath().getParent();
                    CsiExpect.error(Status.Code.NOT_FOUND, "NodeGetVolumeStats of " + p.volumeId() + " at " + elsewhere,
                            () -> t.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                                    .setVolumeId(p.volumeId()).setVolumePath(elsewhere.toString()).build()));
                }));
        b.check("csi.node.volume-condition", SPEC + "NodeGetVolumeStats",
                "with VOLUME_CONDITION advertised, stats report a healthy volume's condition as normal with a message",
                ROOT, scoped((t, r) -> {
                    t.requireNode(NodeServiceCapability.RPC.Type.VOLUME_CONDITION);
                    CsiResources.Published p = r.publishedVolume("csi-cond", t.capability(), false);
                    NodeGetVolumeStatsResponse s = stats(t, p, p.target());
                    that(s.hasVolumeCondition(), "VOLUME_CONDITION is advertised but NodeGetVolumeStats has no "
                            + "volume_condition");
                    that(!s.getVolumeCondition().getAbnormal(), "a freshly published volume is reported abnormal: %s",
                            s.getVolumeCondition().getMessage());
                    that(!s.getVolumeCondition().getMessage().isEmpty(), "volume_condition.message is empty (REQUIRED)");
                }));
    }

    private static void checkStats(CsiTarget t, CsiResources.Published p) throws IOException {
        NodeGetVolumeStatsResponse s = stats(t, p, p.target());
        Optional<VolumeUsage> bytes = usage(s, VolumeUsage.Unit.BYTES);
        that(bytes.isPresent(), "NodeGetVolumeStats has no BYTES usage: %s", Expect.oneLine(s));
        if (p.staged().block()) {
            that(bytes.get().getTotal() >= t.config().volumeSize(), "a block volume of %d bytes reports total %d",
                    t.config().volumeSize(), bytes.get().getTotal());
            return;
        }
        checkUsage(bytes.get(), "BYTES usage");
        Optional<VolumeUsage> inodes = usage(s, VolumeUsage.Unit.INODES);
        that(inodes.isPresent(), "NodeGetVolumeStats of a mounted filesystem has no INODES usage");
        checkUsage(inodes.get(), "INODES usage");
        long data = Math.min(8L << 20, t.config().volumeSize() / 4);
        NodeIo.writeFile(p.target().resolve("csi-conformance-stats"), NodeIo.randomBytes((int) data));
        long used = usage(stats(t, p, p.target()), VolumeUsage.Unit.BYTES).orElseThrow().getUsed();
        that(used - bytes.get().getUsed() >= data / 2, "after writing %d bytes, used went from %d to %d", data,
                bytes.get().getUsed(), used);
        if (p.staged().stagingPath().isPresent()) {
            NodeGetVolumeStatsResponse viaStaging = stats(t, p, p.staged().stagingPath().get());
            Optional<VolumeUsage> sb = usage(viaStaging, VolumeUsage.Unit.BYTES);
            that(sb.isPresent() && sb.get().getTotal() == bytes.get().getTotal(), "stats through the staging path "
                    + "report %s, through the target total %d", sb.map(Expect::oneLine).orElse("no BYTES usage"),
                    bytes.get().getTotal());
        }
    }

    // ---- raw block volumes, whatever the run's access type

    /** Creates a block volume, or skips when the plugin refuses block capabilities. */
    private static Volume blockVolume(CsiTarget t, CsiResources r, VolumeCapability cap) {
        r.requireProvisioning();
        try {
            CreateVolumeResponse resp = t.controller().createVolume(t.createVolumeRequest(t.uniqueName("csi-block"))
                    .clearVolumeCapabilities().addVolumeCapabilities(cap).build());
            r.trackVolume(resp.getVolume().getVolumeId());
            return resp.getVolume();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
                throw new CheckSkipped("the plugin does not create raw block volumes: " + CsiExpect.describe(e));
            }
            throw new CheckFailed("CreateVolume of a block volume: " + CsiExpect.describe(e), e);
        }
    }

    private static void block(Suite.Builder<CsiTarget> b) {
        b.check("csi.node.block.publish", SPEC + "NodePublishVolume", "a block volume is published as the device on a "
                + "file target: 4 KiB written at its start and end read back; unpublish removes the file", ROOT_LOOP,
                scoped((t, r) -> {
                    VolumeCapability cap = t.capability(CsiTarget.AccessType.BLOCK, SNW);
                    Volume v = blockVolume(t, r, cap);
                    CsiResources.Published p = r.publish(r.stage(v, cap), false);
                    checkPublished(p, t.config().volumeSize());
                    r.release(p);
                    that(!Files.exists(p.target(), LinkOption.NOFOLLOW_LINKS), "the block target %s still exists after "
                            + "NodeUnpublishVolume", p.target());
                    if (p.staged().stagingPath().isPresent()) {
                        List<MountTable.Entry> left = MountTable.read().under(p.staged().stagingPath().get());
                        that(left.isEmpty(), "after NodeUnstageVolume %s is still mounted",
                                left.stream().map(MountTable.Entry::mountPoint).toList());
                    }
                }));
        b.check("csi.node.block.volume-stats", SPEC + "NodeGetVolumeStats",
                "stats of a block volume report its size in bytes", ROOT_LOOP, scoped((t, r) -> {
                    t.requireNode(STATS);
                    VolumeCapability cap = t.capability(CsiTarget.AccessType.BLOCK, SNW);
                    Volume v = blockVolume(t, r, cap);
                    CsiResources.Published p = r.publish(r.stage(v, cap), false);
                    checkStats(t, p);
                }));
    }
}
