package dev.nodekit.conformance.csi;

import static dev.nodekit.conformance.csi.FakeIdentityService.answer;

import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

import dev.nodekit.conformance.csi.FakePlugin.Defect;
import dev.nodekit.conformance.csi.FakePlugin.Held;
import dev.nodekit.conformance.csi.FakePlugin.Kind;
import dev.nodekit.conformance.csi.FakePlugin.Vol;
import dev.nodekit.spec.csi.v1.NodeExpandVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeExpandVolumeResponse;
import dev.nodekit.spec.csi.v1.NodeGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.NodeGetCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.NodeGetInfoRequest;
import dev.nodekit.spec.csi.v1.NodeGetInfoResponse;
import dev.nodekit.spec.csi.v1.NodeGetVolumeStatsRequest;
import dev.nodekit.spec.csi.v1.NodeGetVolumeStatsResponse;
import dev.nodekit.spec.csi.v1.NodeGrpc;
import dev.nodekit.spec.csi.v1.NodePublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodePublishVolumeResponse;
import dev.nodekit.spec.csi.v1.NodeServiceCapability;
import dev.nodekit.spec.csi.v1.NodeStageVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeStageVolumeResponse;
import dev.nodekit.spec.csi.v1.NodeUnpublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnpublishVolumeResponse;
import dev.nodekit.spec.csi.v1.NodeUnstageVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnstageVolumeResponse;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import dev.nodekit.spec.csi.v1.VolumeCondition;
import dev.nodekit.spec.csi.v1.VolumeUsage;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * Node of {@link FakePlugin}, working on the real filesystem like csi-driver-host-path: stage binds
 * the volume's directory (or attaches its image to a loop device), publish binds the staged volume
 * (or the loop device) to the target, read-only by a bind remount.
 */
@SuppressWarnings("try") // operation locks are held by try-with-resources and never referenced
final class FakeNodeService extends NodeGrpc.NodeImplBase {
    private final FakePlugin f;

    FakeNodeService(FakePlugin f) {
        this.f = f;
    }

    private boolean has(Defect d) {
        return f.has(d);
    }

    private boolean stages() {
        return f.nodeCaps.contains(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME);
    }

    private void cap(NodeServiceCapability.RPC.Type rpc) {
        if (!f.nodeCaps.contains(rpc)) {
            throw f.error(Status.Code.UNIMPLEMENTED, rpc + " is not supported");
        }
    }

    private Vol volume(String id) {
        Optional<Vol> v = f.volume(id);
        if (v.isEmpty()) {
            throw f.error(has(Defect.NODE_UNKNOWN_VOLUME_INTERNAL) ? Status.Code.INTERNAL : Status.Code.NOT_FOUND,
                    "volume " + id + " does not exist");
        }
        return v.get();
    }

    private Path absolute(String path, String field) {
        if (path.isEmpty()) {
            return Path.of(""); // only reachable with the field's INVALID_ARGUMENT check switched off
        }
        Path p = Path.of(path);
        if (!p.isAbsolute()) {
            throw f.error(Status.Code.INVALID_ARGUMENT, field + " '" + path + "' is not absolute");
        }
        return p.normalize();
    }

    private void kindMatches(Vol v, VolumeCapability c) {
        Kind k = c.hasBlock() ? Kind.BLOCK : Kind.MOUNT;
        if (k != v.kind) {
            throw f.error(Status.Code.FAILED_PRECONDITION, "volume " + v.id + " is a " + v.kind + " volume, not "
                    + k);
        }
    }

    private static NodeServiceCapability capability(NodeServiceCapability.RPC.Type t) {
        return NodeServiceCapability.newBuilder().setRpc(NodeServiceCapability.RPC.newBuilder().setType(t)).build();
    }

    @Override
    public void nodeGetCapabilities(NodeGetCapabilitiesRequest request, StreamObserver<NodeGetCapabilitiesResponse> out) {
        answer(f, out, () -> {
            NodeGetCapabilitiesResponse.Builder b = NodeGetCapabilitiesResponse.newBuilder();
            f.nodeCaps.stream().sorted().forEach(t -> b.addCapabilities(capability(t)));
            if (has(Defect.DUPLICATE_NODE_CAPABILITY) && !f.nodeCaps.isEmpty()) {
                b.addCapabilities(capability(f.nodeCaps.stream().sorted().findFirst().orElseThrow()));
            }
            return b.build();
        });
    }

    @Override
    public void nodeGetInfo(NodeGetInfoRequest request, StreamObserver<NodeGetInfoResponse> out) {
        answer(f, out, () -> {
            NodeGetInfoResponse.Builder b = NodeGetInfoResponse.newBuilder()
                    .setNodeId(has(Defect.NODE_ID_TOO_LONG) ? "n".repeat(300) : FakePlugin.NODE_ID)
                    .setMaxVolumesPerNode(16);
            if (f.accessibility) {
                b.setAccessibleTopology(f.topology());
            }
            return b.build();
        });
    }

    // ---- stage / unstage

    @Override
    public void nodeStageVolume(NodeStageVolumeRequest req, StreamObserver<NodeStageVolumeResponse> out) {
        answer(f, out, () -> {
            cap(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME);
            f.authorize(req.getSecretsMap());
            f.require(!req.getVolumeId().isEmpty(), "NodeStageVolume.volume_id", "volume_id is required");
            f.require(!req.getStagingTargetPath().isEmpty(), "NodeStageVolume.staging_target_path",
                    "staging_target_path is required");
            f.require(req.hasVolumeCapability(), "NodeStageVolume.volume_capability", "volume_capability is required");
            Vol v = volume(req.getVolumeId());
            kindMatches(v, req.getVolumeCapability());
            Path staging = absolute(req.getStagingTargetPath(), "staging_target_path");
            try (Held l = f.lock("vol:" + v.id)) {
                VolumeCapability prev = v.staged.get(staging);
                if (prev != null && !has(Defect.STAGE_STACKS_MOUNTS)) {
                    if (!prev.equals(req.getVolumeCapability())) {
                        throw f.error(Status.Code.ALREADY_EXISTS, "volume " + v.id + " is staged at " + staging
                                + " with another capability");
                    }
                    return NodeStageVolumeResponse.getDefaultInstance();
                }
                f.requireMounts();
                Files.createDirectories(staging);
                if (v.kind == Kind.MOUNT) {
                    f.activate(v);
                    if (!has(Defect.STAGE_WITHOUT_MOUNT)) {
                        f.mount("--bind", f.volumeData(v).toString(), staging.toString());
                    }
                } else if (v.loop == null) {
                    v.loop = f.attachLoop(v);
                }
                v.staged.put(staging, req.getVolumeCapability());
                v.unstagedOnce.remove(staging);
                return NodeStageVolumeResponse.getDefaultInstance();
            }
        });
    }

    @Override
    public void nodeUnstageVolume(NodeUnstageVolumeRequest req, StreamObserver<NodeUnstageVolumeResponse> out) {
        answer(f, out, () -> {
            cap(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME);
            f.require(!req.getVolumeId().isEmpty(), "NodeUnstageVolume.volume_id", "volume_id is required");
            f.require(!req.getStagingTargetPath().isEmpty(), "NodeUnstageVolume.staging_target_path",
                    "staging_target_path is required");
            Vol v = volume(req.getVolumeId());
            Path staging = absolute(req.getStagingTargetPath(), "staging_target_path");
            try (Held l = f.lock("vol:" + v.id)) {
                if (!v.staged.containsKey(staging)) {
                    if (has(Defect.UNSTAGE_SECOND_CALL_FAILS) && v.unstagedOnce.contains(staging)) {
                        throw f.error(Status.Code.INTERNAL, "umount " + staging + ": not mounted");
                    }
                    if (has(Defect.UNSTAGE_NOT_STAGED_NOT_FOUND)) {
                        throw f.error(Status.Code.NOT_FOUND, "volume " + v.id + " is not staged at " + staging);
                    }
                    return NodeUnstageVolumeResponse.getDefaultInstance();
                }
                if (v.kind == Kind.MOUNT) {
                    if (!has(Defect.UNSTAGE_KEEPS_MOUNT)) {
                        f.unmountAll(staging);
                    }
                } else if (v.staged.size() == 1 && v.loop != null && v.published.isEmpty()) {
                    f.detachLoop(v.loop);
                    v.loop = null;
                }
                v.staged.remove(staging);
                v.unstagedOnce.add(staging);
                return NodeUnstageVolumeResponse.getDefaultInstance();
            }
        });
    }

    // ---- publish / unpublish

    @Override
    public void nodePublishVolume(NodePublishVolumeRequest req, StreamObserver<NodePublishVolumeResponse> out) {
        answer(f, out, () -> {
            f.authorize(req.getSecretsMap());
            f.require(!req.getVolumeId().isEmpty(), "NodePublishVolume.volume_id", "volume_id is required");
            f.require(!req.getTargetPath().isEmpty(), "NodePublishVolume.target_path", "target_path is required");
            f.require(req.hasVolumeCapability(), "NodePublishVolume.volume_capability", "volume_capability is required");
            Vol v = volume(req.getVolumeId());
            kindMatches(v, req.getVolumeCapability());
            Path target = absolute(req.getTargetPath(), "target_path");
            Optional<Path> staging = Optional.empty();
            if (stages()) {
                if (req.getStagingTargetPath().isEmpty()) {
                    if (!has(Defect.PUBLISH_WITHOUT_STAGING_OK)) {
                        throw f.error(Status.Code.FAILED_PRECONDITION, "staging_target_path is required: the plugin "
                                + "has STAGE_UNSTAGE_VOLUME");
                    }
                } else {
                    staging = Optional.of(absolute(req.getStagingTargetPath(), "staging_target_path"));
                    if (!v.staged.containsKey(staging.get())) {
                        throw f.error(Status.Code.FAILED_PRECONDITION, "volume " + v.id + " is not staged at "
                                + staging.get());
                    }
                }
            }
            try (Held l = f.lock("vol:" + v.id)) {
                Boolean prevReadonly = v.published.get(target);
                if (prevReadonly != null && !has(Defect.PUBLISH_STACKS_MOUNTS)) {
                    boolean same = prevReadonly == req.getReadonly()
                            && req.getVolumeCapability().equals(v.publishedCaps.get(target));
                    if (!same && !has(Defect.PUBLISH_IGNORES_ARG_CHANGE)) {
                        throw f.error(Status.Code.ALREADY_EXISTS, "volume " + v.id + " is published at " + target
                                + " with other arguments (readonly=" + prevReadonly + ")");
                    }
                    return NodePublishVolumeResponse.getDefaultInstance();
                }
                if (prevReadonly == null && !v.published.isEmpty()) {
                    VolumeCapability.AccessMode.Mode mode = req.getVolumeCapability().getAccessMode().getMode();
                    if ((mode == VolumeCapability.AccessMode.Mode.SINGLE_NODE_SINGLE_WRITER
                            && !has(Defect.SINGLE_WRITER_ALLOWS_SECOND)) || has(Defect.MULTI_WRITER_REFUSES_SECOND)) {
                        throw f.error(Status.Code.FAILED_PRECONDITION, "volume " + v.id + " (" + mode
                                + ") is already published at " + v.published.keySet());
                    }
                }
                f.requireMounts();
                if (v.kind == Kind.MOUNT) {
                    Files.createDirectories(target);
                    if (!has(Defect.PUBLISH_MKDIR_ONLY)) {
                        Path src;
                        if (has(Defect.PUBLISH_BINDS_WRONG_DIR)) {
                            src = Files.createDirectories(f.scratch(v));
                        } else if (staging.isPresent()) {
                            src = staging.get();
                        } else {
                            f.activate(v);
                            src = f.volumeData(v);
                        }
                        f.mount("--bind", src.toString(), target.toString());
                    }
                } else {
                    if (v.loop == null) {
                        v.loop = f.attachLoop(v);
                    }
                    if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                        Files.createFile(target);
                    }
                    String dev = has(Defect.BLOCK_TARGET_NOT_DEVICE) ? f.volumeData(v).toString() : v.loop;
                    f.mount("--bind", dev, target.toString());
                }
                if (req.getReadonly() && !has(Defect.IGNORE_READONLY) && !has(Defect.PUBLISH_MKDIR_ONLY)) {
                    f.mount("-o", "remount,bind,ro", target.toString());
                }
                v.published.put(target, req.getReadonly());
                v.publishedCaps.put(target, req.getVolumeCapability());
                v.unpublishedOnce.remove(target);
                return NodePublishVolumeResponse.getDefaultInstance();
            }
        });
    }

    @Override
    public void nodeUnpublishVolume(NodeUnpublishVolumeRequest req, StreamObserver<NodeUnpublishVolumeResponse> out) {
        answer(f, out, () -> {
            f.require(!req.getVolumeId().isEmpty(), "NodeUnpublishVolume.volume_id", "volume_id is required");
            f.require(!req.getTargetPath().isEmpty(), "NodeUnpublishVolume.target_path", "target_path is required");
            Vol v = volume(req.getVolumeId());
            Path target = absolute(req.getTargetPath(), "target_path");
            try (Held l = f.lock("vol:" + v.id)) {
                if (!v.published.containsKey(target)) {
                    if (has(Defect.UNPUBLISH_SECOND_CALL_FAILS) && v.unpublishedOnce.contains(target)) {
                        throw f.error(Status.Code.INTERNAL, "umount " + target + ": no such file or directory");
                    }
                    if (has(Defect.UNPUBLISH_NOT_PUBLISHED_NOT_FOUND)) {
                        throw f.error(Status.Code.NOT_FOUND, "volume " + v.id + " is not published at " + target);
                    }
                    return NodeUnpublishVolumeResponse.getDefaultInstance();
                }
                f.unmountAll(target);
                if (!has(Defect.LEAVE_TARGET_DIR)) {
                    Files.deleteIfExists(target);
                }
                v.published.remove(target);
                v.publishedCaps.remove(target);
                v.unpublishedOnce.add(target);
                if (!stages() && v.kind == Kind.BLOCK && v.published.isEmpty() && v.loop != null) {
                    f.detachLoop(v.loop);
                    v.loop = null;
                }
                return NodeUnpublishVolumeResponse.getDefaultInstance();
            }
        });
    }

    // ---- stats and expansion

    private boolean usedAt(Vol v, Path p) {
        return v.staged.containsKey(p) || v.published.containsKey(p);
    }

    @Override
    public void nodeGetVolumeStats(NodeGetVolumeStatsRequest req, StreamObserver<NodeGetVolumeStatsResponse> out) {
        answer(f, out, () -> {
            if (!f.nodeCaps.contains(NodeServiceCapability.RPC.Type.GET_VOLUME_STATS)) {
                cap(NodeServiceCapability.RPC.Type.VOLUME_CONDITION);
            }
            f.require(!req.getVolumeId().isEmpty(), "NodeGetVolumeStats.volume_id", "volume_id is required");
            f.require(!req.getVolumePath().isEmpty(), "NodeGetVolumeStats.volume_path", "volume_path is required");
            Vol v = volume(req.getVolumeId());
            Path p = absolute(req.getVolumePath(), "volume_path");
            if (!usedAt(v, p) && !has(Defect.STATS_ANY_PATH)) {
                throw f.error(Status.Code.NOT_FOUND, "volume " + v.id + " is not staged or published at " + p);
            }
            NodeGetVolumeStatsResponse.Builder b = NodeGetVolumeStatsResponse.newBuilder();
            boolean healthy = Files.exists(f.volumeData(v));
            if (v.kind == Kind.BLOCK) {
                long size = has(Defect.BLOCK_STATS_ZERO) ? 0 : Files.size(f.volumeData(v));
                b.addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.BYTES).setTotal(size));
            } else {
                FileStore fs = Files.getFileStore(p);
                long total = fs.getTotalSpace();
                long free = fs.getUnallocatedSpace();
                long used = has(Defect.STATIC_STATS) ? 0 : total - free;
                b.addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.BYTES).setTotal(total)
                        .setAvailable(fs.getUsableSpace()).setUsed(used));
                String[] inodes = FakePlugin.run("stat", "-f", "-c", "%c %d", p.toString()).trim().split(" ");
                long itotal = Long.parseLong(inodes[0]);
                long ifree = Long.parseLong(inodes[1]);
                b.addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.INODES).setTotal(itotal)
                        .setAvailable(ifree).setUsed(itotal - ifree));
            }
            if (!has(Defect.NO_VOLUME_CONDITION)) {
                b.setVolumeCondition(VolumeCondition.newBuilder().setAbnormal(!healthy)
                        .setMessage(healthy ? "volume is healthy" : "the volume's data is gone"));
            }
            return b.build();
        });
    }

    @Override
    public void nodeExpandVolume(NodeExpandVolumeRequest req, StreamObserver<NodeExpandVolumeResponse> out) {
        answer(f, out, () -> {
            cap(NodeServiceCapability.RPC.Type.EXPAND_VOLUME);
            f.authorize(req.getSecretsMap());
            f.require(!req.getVolumeId().isEmpty(), "NodeExpandVolume.volume_id", "volume_id is required");
            f.require(!req.getVolumePath().isEmpty(), "NodeExpandVolume.volume_path", "volume_path is required");
            Vol v = volume(req.getVolumeId());
            Path p = absolute(req.getVolumePath(), "volume_path");
            if (!usedAt(v, p)) {
                throw f.error(Status.Code.NOT_FOUND, "volume " + v.id + " is not staged or published at " + p);
            }
            try (Held l = f.lock("vol:" + v.id)) {
                long target = Math.max(v.capacity, req.getCapacityRange().getRequiredBytes());
                if (has(Defect.NODE_EXPAND_NOOP)) {
                    return NodeExpandVolumeResponse.newBuilder().setCapacityBytes(target).build();
                }
                if (v.kind == Kind.MOUNT) {
                    if (v.active && v.fsSize < target) {
                        f.mount("-o", "remount,size=" + target, f.volumeData(v).toString());
                        v.fsSize = target;
                    }
                } else if (v.loop != null) {
                    FakePlugin.run("losetup", "--set-capacity", v.loop);
                }
                return NodeExpandVolumeResponse.newBuilder().setCapacityBytes(target).build();
            }
        });
    }
}
