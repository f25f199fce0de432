package dev.nodekit.conformance.csi;

import static dev.nodekit.conformance.Expect.ok;
import static dev.nodekit.conformance.Expect.that;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.nodekit.conformance.CheckFailed;
import dev.nodekit.conformance.CheckSkipped;
import dev.nodekit.spec.csi.v1.ControllerPublishVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.ControllerUnpublishVolumeRequest;
import dev.nodekit.spec.csi.v1.CreateSnapshotRequest;
import dev.nodekit.spec.csi.v1.CreateSnapshotResponse;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.DeleteSnapshotRequest;
import dev.nodekit.spec.csi.v1.DeleteVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeGetInfoRequest;
import dev.nodekit.spec.csi.v1.NodePublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeServiceCapability;
import dev.nodekit.spec.csi.v1.NodeStageVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnpublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnstageVolumeRequest;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.spec.csi.v1.Snapshot;
import dev.nodekit.spec.csi.v1.Volume;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * What one check created on the plugin and the host, undone in reverse order by {@link #close()}
 * whatever happened: unpublish, unstage, controller-unpublish, delete snapshots and volumes, remove
 * the directories the check made. The negating calls are registered before the call they negate
 * (they are idempotent by the spec), so a half-done stage or publish is undone too. A cleanup
 * step that fails, or a mount the plugin left in a directory of the run, fails the check.
 */
final class CsiResources implements AutoCloseable {
    private final CsiTarget t;
    private final Deque<Step> undo = new ArrayDeque<>();
    private final Set<String> volumes = new HashSet<>();
    private final Set<String> snapshots = new HashSet<>();
    private String nodeId;
    private Boolean stageUnstage;
    private Boolean controllerPublish;

    private record Step(String what, Action action) {
    }

    @FunctionalInterface
    private interface Action {
        void run() throws Exception;
    }

    /** A volume made ready on this node: controller-published if the plugin needs it, staged if it stages. */
    record Staged(Volume volume, VolumeCapability capability, Optional<Path> stagingPath,
            Map<String, String> publishContext) {
        String volumeId() {
            return volume.getVolumeId();
        }

        boolean block() {
            return capability.hasBlock();
        }
    }

    /** A staged volume published at {@code target}. */
    record Published(Staged staged, Path target, boolean readonly) {
        String volumeId() {
            return staged.volumeId();
        }
    }

    CsiResources(CsiTarget t) {
        this.t = t;
    }

    // ---- controller objects

    /** Creates a volume with the run's default request and a unique name starting with {@code prefix}. */
    Volume createVolume(String prefix) {
        return createVolume(t.createVolumeRequest(t.uniqueName(prefix)).build());
    }

    /** Creates a volume of access type {@code type} and access mode {@code mode}. */
    Volume createVolume(String prefix, VolumeCapability capability) {
        return createVolume(t.createVolumeRequest(t.uniqueName(prefix)).clearVolumeCapabilities()
                .addVolumeCapabilities(capability).build());
    }

    /** Sends {@code req}, which must succeed, and registers the volume for deletion. */
    Volume createVolume(CreateVolumeRequest req) {
        Volume v = ok("CreateVolume " + req.getName(), () -> t.controller().createVolume(req)).getVolume();
        that(!v.getVolumeId().isEmpty(), "CreateVolume %s returned an empty volume_id", req.getName());
        trackVolume(v.getVolumeId());
        return v;
    }

    /** Registers a volume some call created, so it is deleted at the end (once, however often it is registered). */
    void trackVolume(String id) {
        if (!id.isEmpty() && volumes.add(id)) {
            undo.push(new Step("DeleteVolume " + id, () -> t.controller().deleteVolume(
                    DeleteVolumeRequest.newBuilder().setVolumeId(id).putAllSecrets(t.secrets()).build())));
        }
    }

    /** The default CreateSnapshot request: a unique name, the source volume, the run's secrets. */
    CreateSnapshotRequest snapshotRequest(String prefix, String sourceVolumeId) {
        return CreateSnapshotRequest.newBuilder().setName(t.uniqueName(prefix)).setSourceVolumeId(sourceVolumeId)
                .putAllSecrets(t.secrets()).build();
    }

    /** Cuts a snapshot of {@code sourceVolumeId} and waits until it is ready to use. */
    Snapshot createSnapshot(String prefix, String sourceVolumeId) throws InterruptedException {
        return createSnapshot(snapshotRequest(prefix, sourceVolumeId));
    }

    /**
     * Sends {@code req}, registers the snapshot for deletion and, while it is not {@code ready_to_use},
     * repeats the same request (as the CSI snapshotter does) for up to a minute.
     */
    Snapshot createSnapshot(CreateSnapshotRequest req) throws InterruptedException {
        CreateSnapshotResponse r = ok("CreateSnapshot " + req.getName(), () -> t.controller().createSnapshot(req));
        Snapshot s = r.getSnapshot();
        that(!s.getSnapshotId().isEmpty(), "CreateSnapshot %s returned an empty snapshot_id", req.getName());
        trackSnapshot(s.getSnapshotId());
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!s.getReadyToUse()) {
            if (System.nanoTime() > deadline) {
                throw new CheckFailed("snapshot " + s.getSnapshotId() + " is still not ready_to_use after 60 s");
            }
            Thread.sleep(1000);
            Snapshot again = ok("CreateSnapshot " + req.getName() + " (waiting for ready_to_use)",
                    () -> t.controller().createSnapshot(req)).getSnapshot();
            that(again.getSnapshotId().equals(s.getSnapshotId()), "repeated CreateSnapshot %s returned snapshot_id %s, "
                    + "first %s", req.getName(), again.getSnapshotId(), s.getSnapshotId());
            s = again;
        }
        return s;
    }

    /** Registers a snapshot some call created, so it is deleted at the end. */
    void trackSnapshot(String id) {
        if (!id.isEmpty() && snapshots.add(id)) {
            undo.push(new Step("DeleteSnapshot " + id, () -> t.controller().deleteSnapshot(
                    DeleteSnapshotRequest.newBuilder().setSnapshotId(id).putAllSecrets(t.secrets()).build())));
        }
    }

    /**
     * The id of a volume that existed and was deleted: well formed for this plugin but unknown, the
     * fairest "does not exist" input (a made-up id may be rejected as malformed instead).
     */
    String goneVolumeId() {
        t.requireController(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME);
        Volume v = createVolume("csi-gone");
        ok("DeleteVolume " + v.getVolumeId(), () -> t.controller().deleteVolume(DeleteVolumeRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).putAllSecrets(t.secrets()).build()));
        return v.getVolumeId();
    }

    /** The id of a snapshot that existed and was deleted. */
    String goneSnapshotId() throws InterruptedException {
        t.requireController(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME,
                ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT);
        Volume v = createVolume("csi-gone-src");
        Snapshot s = createSnapshot("csi-gone-snap", v.getVolumeId());
        ok("DeleteSnapshot " + s.getSnapshotId(), () -> t.controller().deleteSnapshot(DeleteSnapshotRequest
                .newBuilder().setSnapshotId(s.getSnapshotId()).putAllSecrets(t.secrets()).build()));
        return s.getSnapshotId();
    }

    // ---- node

    /** The node id from NodeGetInfo (asked once per check). */
    String nodeId() {
        if (nodeId == null) {
            nodeId = ok("NodeGetInfo", () -> t.node().nodeGetInfo(NodeGetInfoRequest.getDefaultInstance())).getNodeId();
        }
        return nodeId;
    }

    boolean stageUnstage() {
        if (stageUnstage == null) {
            stageUnstage = t.nodeCapabilities().contains(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME);
        }
        return stageUnstage;
    }

    boolean controllerPublish() {
        if (controllerPublish == null) {
            controllerPublish = t.hasService(PluginCapability.Service.Type.CONTROLLER_SERVICE)
                    && t.controllerCapabilities().contains(ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME);
        }
        return controllerPublish;
    }

    /** Skips unless the plugin can provision volumes for node checks (csi-sanity skips the same way). */
    void requireProvisioning() {
        if (!t.hasService(PluginCapability.Service.Type.CONTROLLER_SERVICE)) {
            throw new CheckSkipped("plugin does not advertise CONTROLLER_SERVICE: no volume to stage and publish");
        }
        t.requireController(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME);
    }

    /** A new, empty, uniquely named staging directory (the CO creates staging directories). */
    Path newStagingPath() throws IOException {
        Path dir = t.config().stagingDir().resolve(t.uniqueName("stage"));
        Files.createDirectories(dir);
        undo.push(new Step("remove " + dir, () -> leftovers(dir)));
        return dir;
    }

    /**
     * A new publish target: a uniquely named parent directory that exists, and the path
     * {@code parent/target} in it that does not (the SP creates and removes the target itself).
     */
    Path newTargetPath() throws IOException {
        Path parent = t.config().targetDir().resolve(t.uniqueName("publish"));
        Files.createDirectories(parent);
        undo.push(new Step("remove " + parent, () -> leftovers(parent)));
        return parent.resolve("target");
    }

    private void leftovers(Path dir) throws IOException {
        List<String> left = NodeIo.removeTree(dir);
        if (!left.isEmpty()) {
            throw new CheckFailed("the plugin left behind " + String.join(", ", left));
        }
    }

    /** Registers a ControllerUnpublish of {@code volumeId} from {@code node} (idempotent by the spec). */
    void trackControllerPublish(String volumeId, String node) {
        undo.push(new Step("ControllerUnpublishVolume " + volumeId + " from " + node, () -> notFoundIsDone(
                () -> t.controller().controllerUnpublishVolume(ControllerUnpublishVolumeRequest.newBuilder()
                        .setVolumeId(volumeId).setNodeId(node).putAllSecrets(t.secrets()).build()))));
    }

    /** ControllerPublish (when advertised) and NodeStage (when advertised) of {@code v} with {@code cap}. */
    Staged stage(Volume v, VolumeCapability cap) throws IOException {
        Map<String, String> context = Map.of();
        if (controllerPublish()) {
            String node = nodeId();
            trackControllerPublish(v.getVolumeId(), node);
            context = ok("ControllerPublishVolume " + v.getVolumeId(), () -> t.controller().controllerPublishVolume(
                    ControllerPublishVolumeRequest.newBuilder().setVolumeId(v.getVolumeId()).setNodeId(node)
                            .setVolumeCapability(cap).putAllVolumeContext(v.getVolumeContextMap())
                            .putAllSecrets(t.secrets()).build())).getPublishContextMap();
        }
        if (!stageUnstage()) {
            return new Staged(v, cap, Optional.empty(), context);
        }
        Path staging = newStagingPath();
        Staged s = new Staged(v, cap, Optional.of(staging), context);
        stageAt(s);
        return s;
    }

    /** Sends NodeStage for {@code s} (registering NodeUnstage first). */
    void stageAt(Staged s) {
        Path staging = s.stagingPath().orElseThrow();
        trackStage(s.volumeId(), staging);
        ok("NodeStageVolume " + s.volumeId() + " at " + staging, () -> t.node().nodeStageVolume(stageRequest(s)));
    }

    /** Registers a NodeUnstage of {@code volumeId} at {@code staging} (idempotent by the spec). */
    void trackStage(String volumeId, Path staging) {
        undo.push(new Step("NodeUnstageVolume " + volumeId + " " + staging, () -> notFoundIsDone(() -> t.node()
                .nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(volumeId)
                        .setStagingTargetPath(staging.toString()).build()))));
    }

    /** Registers a NodeUnpublish of {@code volumeId} at {@code target} (idempotent by the spec). */
    void trackPublish(String volumeId, Path target) {
        undo.push(new Step("NodeUnpublishVolume " + volumeId + " " + target, () -> notFoundIsDone(() -> t.node()
                .nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId)
                        .setTargetPath(target.toString()).build()))));
    }

    /**
     * Runs a negating call for which NOT_FOUND means there is nothing to undo (the spec answers NOT_FOUND
     * for a volume that does not exist; a mount it might still have left is caught by the directory check).
     */
    private static void notFoundIsDone(Runnable call) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
                throw e;
            }
        }
    }

    NodeStageVolumeRequest stageRequest(Staged s) {
        return NodeStageVolumeRequest.newBuilder().setVolumeId(s.volumeId())
                .setStagingTargetPath(s.stagingPath().orElseThrow().toString()).setVolumeCapability(s.capability())
                .putAllPublishContext(s.publishContext()).putAllVolumeContext(s.volume().getVolumeContextMap())
                .putAllSecrets(t.secrets()).build();
    }

    /** Publishes {@code s} at a new target. */
    Published publish(Staged s, boolean readonly) throws IOException {
        return publishAt(s, newTargetPath(), readonly);
    }

    /** Publishes {@code s} at {@code target} (registering NodeUnpublish first). */
    Published publishAt(Staged s, Path target, boolean readonly) {
        trackPublish(s.volumeId(), target);
        ok("NodePublishVolume " + s.volumeId() + " at " + target, () -> t.node().nodePublishVolume(
                publishRequest(s, target, readonly)));
        return new Published(s, target, readonly);
    }

    NodePublishVolumeRequest publishRequest(Staged s, Path target, boolean readonly) {
        NodePublishVolumeRequest.Builder b = NodePublishVolumeRequest.newBuilder().setVolumeId(s.volumeId())
                .setTargetPath(target.toString()).setVolumeCapability(s.capability()).setReadonly(readonly)
                .putAllPublishContext(s.publishContext()).putAllVolumeContext(s.volume().getVolumeContextMap())
                .putAllSecrets(t.secrets());
        s.stagingPath().ifPresent(p -> b.setStagingTargetPath(p.toString()));
        return b.build();
    }

    /** Creates a volume with {@code cap}, stages and publishes it. */
    Published publishedVolume(String prefix, VolumeCapability cap, boolean readonly) throws IOException {
        requireProvisioning();
        Volume v = createVolume(prefix, cap);
        return publish(stage(v, cap), readonly);
    }

    /** NodeUnpublish, which must succeed. */
    void unpublish(String volumeId, Path target) {
        ok("NodeUnpublishVolume " + volumeId + " " + target, () -> t.node().nodeUnpublishVolume(
                NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId).setTargetPath(target.toString()).build()));
    }

    /** NodeUnstage, which must succeed (nothing when the plugin does not stage). */
    void unstage(Staged s) {
        s.stagingPath().ifPresent(p -> ok("NodeUnstageVolume " + s.volumeId() + " " + p, () -> t.node()
                .nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(s.volumeId())
                        .setStagingTargetPath(p.toString()).build())));
    }

    /** Unpublishes and unstages {@code p}: the volume is no longer in use on the node. */
    void release(Published p) {
        unpublish(p.volumeId(), p.target());
        unstage(p.staged());
    }

    /** Undoes everything in reverse order; fails if a step failed (the first failure of the check wins). */
    @Override
    public void close() {
        List<String> failures = new ArrayList<>();
        while (!undo.isEmpty()) {
            Step s = undo.pop();
            try {
                s.action().run();
            } catch (StatusRuntimeException e) {
                failures.add(s.what() + ": " + CsiExpect.describe(e));
            } catch (CheckFailed e) {
                failures.add(s.what() + ": " + e.getMessage());
            } catch (Exception e) {
                failures.add(s.what() + ": " + e);
            }
        }
        if (!failures.isEmpty()) {
            throw new CheckFailed("cleanup failed: " + String.join("; ", failures));
        }
    }
}
