package dev.nodekit.csi;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.mount.MountException;
import dev.nodekit.common.mount.MountInfo;
import dev.nodekit.common.mount.Mounter;
import dev.nodekit.common.mount.Mounts;
import dev.nodekit.common.mount.Mounts.FilesystemLocation;
import dev.nodekit.csi.spi.Attachment;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.Image;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.StorageBackend;
import dev.nodekit.csi.spi.StorageException;
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
import dev.nodekit.spec.csi.v1.VolumeCondition;
import dev.nodekit.spec.csi.v1.VolumeUsage;
import io.grpc.stub.StreamObserver;

/**
 * CSI Node: attach an image as a block device, format it only when it has no filesystem, mount
 * it at the staging path, bind it to each target, and undo all of it; volume stats, online
 * expansion and the node's identity. Every RPC reads as a checklist, like the controller's.
 *
 * <p>The node keeps no state file: the kernel's mount table and the backend's attachment records
 * are the truth, so nothing can disagree with them after a crash, and a restarted plugin finds
 * every staged and published volume where it left it ({@link #reconcile()} re-attaches what the
 * kernel lost). Mount volumes: staging = the device mounted with its filesystem; publish = a bind
 * mount of the staging path. Block volumes: staging = attach only; publish = the device node
 * bound onto a file the plugin creates at the target.
 */
@SuppressWarnings("try") // locks and permits are held, not used
public final class CsiNodeService extends NodeGrpc.NodeImplBase {
    private static final Logger log = LoggerFactory.getLogger(CsiNodeService.class);

    /** What this node service advertises. */
    static final List<NodeServiceCapability.RPC.Type> CAPABILITIES = List.of(
            NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME,
            NodeServiceCapability.RPC.Type.GET_VOLUME_STATS,
            NodeServiceCapability.RPC.Type.EXPAND_VOLUME,
            NodeServiceCapability.RPC.Type.VOLUME_CONDITION,
            NodeServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER);

    /** At most this many stacked mounts are removed from one target by one unpublish. */
    private static final int MAX_STACKED_UNMOUNTS = 8;

    private final StorageBackend backend;
    private final String nodeId;
    private final long maxVolumesPerNode;
    private final Topology topology;
    private final Mounter mounter;
    private final Mounts mounts;
    private final Filesystems fs;
    private final WorkLimiter limiter;
    private final OperationLocks locks = new OperationLocks();
    private final NodeGetCapabilitiesResponse capabilities;

    CsiNodeService(StorageBackend backend, String nodeId, long maxVolumesPerNode, Topology topology, Mounter mounter,
            Mounts mounts, Filesystems fs, WorkLimiter limiter) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
        this.maxVolumesPerNode = maxVolumesPerNode;
        this.topology = Objects.requireNonNull(topology, "topology");
        this.mounter = Objects.requireNonNull(mounter, "mounter");
        this.mounts = Objects.requireNonNull(mounts, "mounts");
        this.fs = Objects.requireNonNull(fs, "fs");
        this.limiter = Objects.requireNonNull(limiter, "limiter");
        NodeGetCapabilitiesResponse.Builder b = NodeGetCapabilitiesResponse.newBuilder();
        for (NodeServiceCapability.RPC.Type t : CAPABILITIES) {
            b.addCapabilities(NodeServiceCapability.newBuilder().setRpc(NodeServiceCapability.RPC.newBuilder().setType(t)));
        }
        this.capabilities = b.build();
    }

    OperationLocks locks() {
        return locks;
    }

    /**
     * After a start: every attachment the backend recorded whose device the kernel no longer has
     * (a reboot, a loop device detached by hand) is attached again, so that NodeStage retried by
     * kubelet, NodeUnstage and NodeGetVolumeStats find it. Mounts are left to kubelet, which
     * stages again what it needs. Failures are logged, not fatal: one broken image must not keep
     * the node plugin from serving the others.
     *
     * @return how many attachments were restored
     */
    int reconcile() {
        List<Attachment> recorded;
        try {
            recorded = backend.attachments();
        } catch (StorageException | RuntimeException e) {
            log.atError().setCause(e).log("cannot list the backend's attachments; nothing reconciled");
            return 0;
        }
        int restored = 0;
        for (Attachment a : recorded) {
            try {
                if (backend.findAttachment(a.image()).isPresent()) {
                    continue;
                }
                Attachment again = backend.attach(a.image(), a.readOnly(), Credentials.none());
                restored++;
                log.atWarn().addKeyValue("volume_id", a.image()).addKeyValue("old_device", a.device())
                        .addKeyValue("device", again.device()).log("re-attached a volume the kernel had lost");
            } catch (StorageException | RuntimeException e) {
                // A RuntimeException here is a defect (a record or sysfs file we cannot read), but
                // one broken attachment must not keep the node plugin from serving the others.
                log.atError().addKeyValue("volume_id", a.image()).setCause(e).log("cannot re-attach volume");
            }
        }
        log.atInfo().addKeyValue("attachments", recorded.size()).addKeyValue("restored", restored)
                .log("node reconciled with the backend's attachments");
        return restored;
    }

    @Override
    public void nodeStageVolume(NodeStageVolumeRequest req, StreamObserver<NodeStageVolumeResponse> out) {
        Rpcs.unary("NodeStageVolume", out, () -> {
            ObjectId id = Requests.existingId(req.getVolumeId(), ObjectId.Kind.VOLUME, "volume_id");
            Path staging = Requests.absolutePath(req.getStagingTargetPath(), "staging_target_path");
            if (!req.hasVolumeCapability()) {
                throw Requests.invalid("volume_capability is required");
            }
            VolumeAccess access = VolumeAccess.parse(req.getVolumeCapability(), "volume_capability");
            Requests.mapSize(req.getSecretsMap(), "secrets");
            Requests.mapSize(req.getPublishContextMap(), "publish_context");
            Requests.mapSize(req.getVolumeContextMap(), "volume_context");
            access.unsupported().ifPresent(why -> {
                throw Requests.failedPrecondition("volume_capability: " + why);
            });
            Credentials creds = Credentials.of(req.getSecretsMap());
            try (OperationLocks.Held held = locks.tryAcquire("volume", OperationLocks.idKey(id.encode()))) {
                Image image = backend.findImage(id, creds)
                        .orElseThrow(() -> Requests.notFound("volume " + id + " does not exist"));
                access.incompatibleWith(image.metadata()).ifPresent(why -> {
                    throw Requests.failedPrecondition("volume_capability: " + why);
                });
                if (access.type() == VolumeAccess.Type.BLOCK) {
                    stageBlock(id, staging, access, creds);
                } else {
                    stageMount(id, staging, access, creds);
                }
                return NodeStageVolumeResponse.getDefaultInstance();
            }
        });
    }

    private void stageBlock(ObjectId id, Path staging, VolumeAccess access, Credentials creds)
            throws StorageException, IOException {
        Optional<MountInfo> there = mounts.findByMountPoint(staging);
        if (there.isPresent()) {
            throw Requests.alreadyExists("staging_target_path " + staging + " has " + there.get().source()
                    + " mounted; a block volume is staged without a mount (was it staged as a filesystem?)");
        }
        Attachment a;
        try (WorkLimiter.Permit p = limiter.acquire("attach")) {
            a = backend.attach(id, access.readOnlyMode(), creds);
        }
        log.atInfo().addKeyValue("volume_id", id).addKeyValue("device", a.device()).log("block volume staged");
    }

    private void stageMount(ObjectId id, Path staging, VolumeAccess access, Credentials creds)
            throws StorageException, MountException, CommandException, IOException {
        Optional<MountInfo> there = mounts.findByMountPoint(staging);
        if (there.isPresent()) {
            MountInfo m = there.get();
            Optional<Attachment> att = backend.findAttachment(id);
            if (att.isPresent() && sameDevice(m.source(), att.get().device()) && m.fsType().equals(access.fsType())
                    && m.readOnly() == access.readOnlyMode()) {
                log.atDebug().addKeyValue("volume_id", id).log("already staged");
                return;
            }
            throw Requests.alreadyExists("staging_target_path " + staging + " already has " + m.source() + " ("
                    + m.fsType() + (m.readOnly() ? ", ro" : "") + ") mounted; wanted volume " + id + " as "
                    + access.fsType() + (access.readOnlyMode() ? ", ro" : ""));
        }
        boolean wasAttached = backend.findAttachment(id).isPresent();
        boolean committed = false;
        boolean mounted = false;
        try {
            Attachment att;
            try (WorkLimiter.Permit p = limiter.acquire("attach")) {
                att = backend.attach(id, false, creds);
            }
            Path device = att.device();
            boolean formatted = prepareFilesystem(id, device, access);
            if (!Files.isDirectory(staging)) {
                Files.createDirectories(staging);
            }
            List<String> options = new ArrayList<>(access.mountFlags());
            if (access.readOnlyMode() && !options.contains("ro")) {
                options.add("ro");
            }
            if (access.fsType().equals("xfs") && !options.contains("nouuid")) {
                // Clones and restored snapshots carry their source's UUID; XFS refuses a second mount of one.
                options.add("nouuid");
            }
            mounter.mount(device.toString(), staging, access.fsType(), options);
            mounted = true;
            if (!formatted && access.fsType().equals("xfs") && !options.contains("ro")) {
                try (WorkLimiter.Permit p = limiter.acquire("resize")) {
                    fs.xfsGrow(staging);
                }
            }
            committed = true;
            log.atInfo().addKeyValue("volume_id", id).addKeyValue("device", device).addKeyValue("staging_path", staging)
                    .addKeyValue("fs_type", access.fsType()).addKeyValue("formatted", formatted).log("volume staged");
        } finally {
            if (!committed) {
                undoStage(id, staging, mounted, !wasAttached);
            }
        }
    }

    /**
     * Formats a device that has no filesystem and no partition table; never anything else. An
     * ext4 filesystem smaller than its device (a grow that could not be done online) is checked
     * and grown offline before it is mounted.
     *
     * @return true when the device was formatted now
     */
    private boolean prepareFilesystem(ObjectId id, Path device, VolumeAccess access)
            throws CommandException {
        Filesystems.Probe probe = fs.probe(device);
        if (probe.empty()) {
            try (WorkLimiter.Permit p = limiter.acquire("mkfs")) {
                fs.format(device, access.fsType());
            }
            log.atInfo().addKeyValue("volume_id", id).addKeyValue("device", device).addKeyValue("fs_type", access.fsType())
                    .log("formatted new volume");
            return true;
        }
        if (probe.fsType().isEmpty()) {
            throw Requests.failedPrecondition("volume " + id + " holds a " + probe.partitionTable().orElse("")
                    + " partition table and no filesystem; it is never formatted over");
        }
        String found = probe.fsType().get();
        if (!found.equals(access.fsType())) {
            throw Requests.failedPrecondition("volume " + id + " holds a " + Requests.shorten(found)
                    + " filesystem, not " + access.fsType() + "; an existing filesystem is never reformatted");
        }
        if (found.equals("ext4") && !access.readOnlyMode()) {
            long deviceBytes = fs.deviceSize(device);
            Filesystems.Ext4Size size = fs.ext4Size(device);
            if (size.smallerThan(deviceBytes)) {
                try (WorkLimiter.Permit p = limiter.acquire("resize")) {
                    fs.ext4Check(device);
                    fs.ext4Grow(device).checkSuccess();
                }
                log.atInfo().addKeyValue("volume_id", id).addKeyValue("from_bytes", size.bytes())
                        .addKeyValue("device_bytes", deviceBytes).log("grew ext4 offline before mounting");
            }
        }
        return false;
    }

    private void undoStage(ObjectId id, Path staging, boolean mounted, boolean detach) {
        try {
            if (mounted) {
                mounter.unmount(staging);
            }
            if (detach) {
                backend.detach(id);
            }
        } catch (MountException | StorageException | RuntimeException e) {
            log.atWarn().addKeyValue("volume_id", id).setCause(e).log("could not undo a failed stage");
        }
    }

    @Override
    public void nodeUnstageVolume(NodeUnstageVolumeRequest req, StreamObserver<NodeUnstageVolumeResponse> out) {
        Rpcs.unary("NodeUnstageVolume", out, () -> {
            ObjectId id = Requests.existingId(req.getVolumeId(), ObjectId.Kind.VOLUME, "volume_id");
            Path staging = Requests.absolutePath(req.getStagingTargetPath(), "staging_target_path");
            try (OperationLocks.Held held = locks.tryAcquire("volume", OperationLocks.idKey(id.encode()))) {
                Optional<Attachment> att = backend.findAttachment(id);
                Optional<MountInfo> there = mounts.findByMountPoint(staging);
                if (there.isPresent()) {
                    if (att.isPresent() && !sameDevice(there.get().source(), att.get().device())) {
                        throw Requests.failedPrecondition("staging_target_path " + staging + " has "
                                + there.get().source() + " mounted, not volume " + id + " (" + att.get().device()
                                + "); left alone");
                    }
                    mounter.unmount(staging);
                }
                if (att.isPresent()) {
                    List<Path> users = usersOf(att.get().device());
                    if (!users.isEmpty()) {
                        throw Requests.failedPrecondition("volume " + id + " is still published at " + users
                                + "; unpublish it before unstaging");
                    }
                    backend.detach(id);
                }
                log.atInfo().addKeyValue("volume_id", id).addKeyValue("staging_path", staging).log("volume unstaged");
                return NodeUnstageVolumeResponse.getDefaultInstance();
            }
        });
    }

    @Override
    public void nodePublishVolume(NodePublishVolumeRequest req, StreamObserver<NodePublishVolumeResponse> out) {
        Rpcs.unary("NodePublishVolume", out, () -> {
            ObjectId id = Requests.existingId(req.getVolumeId(), ObjectId.Kind.VOLUME, "volume_id");
            Path target = Requests.absolutePath(req.getTargetPath(), "target_path");
            if (!req.hasVolumeCapability()) {
                throw Requests.invalid("volume_capability is required");
            }
            VolumeAccess access = VolumeAccess.parse(req.getVolumeCapability(), "volume_capability");
            if (req.getStagingTargetPath().isEmpty()) {
                throw Requests.failedPrecondition("staging_target_path is required: this plugin advertises "
                        + "STAGE_UNSTAGE_VOLUME, so volumes are staged before they are published");
            }
            Path staging = Requests.absolutePath(req.getStagingTargetPath(), "staging_target_path");
            Requests.mapSize(req.getSecretsMap(), "secrets");
            Requests.mapSize(req.getPublishContextMap(), "publish_context");
            Requests.mapSize(req.getVolumeContextMap(), "volume_context");
            access.unsupported().ifPresent(why -> {
                throw Requests.failedPrecondition("volume_capability: " + why);
            });
            if (target.equals(staging)) {
                throw Requests.invalid("target_path must differ from staging_target_path");
            }
            boolean readOnly = req.getReadonly() || access.readOnlyMode();
            try (OperationLocks.Held held = locks.tryAcquire("volume", OperationLocks.idKey(id.encode()))) {
                Image image = backend.findImage(id, Credentials.of(req.getSecretsMap()))
                        .orElseThrow(() -> Requests.notFound("volume " + id + " does not exist"));
                access.incompatibleWith(image.metadata()).ifPresent(why -> {
                    throw Requests.failedPrecondition("volume_capability: " + why);
                });
                Attachment att = backend.findAttachment(id).orElseThrow(() -> Requests.failedPrecondition("volume "
                        + id + " is not staged on this node (not attached); NodeStageVolume comes first"));
                Path source;
                if (access.type() == VolumeAccess.Type.MOUNT) {
                    MountInfo staged = mounts.findByMountPoint(staging).orElseThrow(() -> Requests.failedPrecondition(
                            "volume " + id + " is not staged at " + staging + " (nothing mounted there)"));
                    if (!sameDevice(staged.source(), att.device())) {
                        throw Requests.failedPrecondition("staging_target_path " + staging + " has " + staged.source()
                                + " mounted, not volume " + id);
                    }
                    source = staging;
                } else {
                    source = att.device();
                }
                publish(id, source, target, access, readOnly);
                return NodePublishVolumeResponse.getDefaultInstance();
            }
        });
    }

    private void publish(ObjectId id, Path source, Path target, VolumeAccess access, boolean readOnly)
            throws MountException, IOException {
        FilesystemLocation want = mounts.locate(source)
                .orElseThrow(() -> Requests.failedPrecondition(source + " is on no mount in the mount table"));
        Optional<MountInfo> there = mounts.findByMountPoint(target);
        if (there.isPresent()) {
            MountInfo m = there.get();
            if (FilesystemLocation.of(m).equals(want) && m.readOnly() == readOnly) {
                log.atDebug().addKeyValue("volume_id", id).addKeyValue("target_path", target).log("already published");
                return;
            }
            throw Requests.alreadyExists("target_path " + target + " already has " + m.source() + " ("
                    + (m.readOnly() ? "ro" : "rw") + ") mounted; wanted volume " + id + (readOnly ? " read-only" : ""));
        }
        if (!access.multipleTargets()) {
            Path sourceReal = realOrSelf(source);
            Path targetReal = realOrSelf(target);
            List<Path> others = new ArrayList<>();
            for (MountInfo m : mounts.list()) {
                Path p = m.mountPoint();
                if (FilesystemLocation.of(m).equals(want) && !p.equals(sourceReal) && !p.equals(targetReal)) {
                    others.add(p);
                }
            }
            if (!others.isEmpty()) {
                throw Requests.failedPrecondition("volume " + id + " is already published at " + others
                        + " and access mode " + access.mode() + " allows one target per node");
            }
        }
        boolean created = createTarget(target, access.type());
        boolean committed = false;
        try {
            if (readOnly) {
                mounter.bindMountReadOnly(source, target);
            } else {
                mounter.bindMount(source, target);
            }
            committed = true;
        } finally {
            if (!committed && created) {
                Files.deleteIfExists(target);
            }
        }
        log.atInfo().addKeyValue("volume_id", id).addKeyValue("target_path", target).addKeyValue("read_only", readOnly)
                .log("volume published");
    }

    /** Creates the target (a directory, or a file for a block volume) if missing; true when it did. */
    private static boolean createTarget(Path target, VolumeAccess.Type type) throws IOException {
        if (type == VolumeAccess.Type.MOUNT) {
            if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                return false;
            }
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                throw Requests.failedPrecondition("target_path " + target + " exists and is not a directory");
            }
            Files.createDirectories(target);
            return true;
        }
        if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw Requests.failedPrecondition("target_path " + target + " exists and is not a file; a block volume "
                    + "is published onto a file the plugin creates");
        }
        Path parent = target.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            Files.createDirectories(parent);
        }
        try {
            Files.createFile(target);
        } catch (FileAlreadyExistsException e) {
            return false;
        }
        return true;
    }

    @Override
    public void nodeUnpublishVolume(NodeUnpublishVolumeRequest req, StreamObserver<NodeUnpublishVolumeResponse> out) {
        Rpcs.unary("NodeUnpublishVolume", out, () -> {
            ObjectId id = Requests.existingId(req.getVolumeId(), ObjectId.Kind.VOLUME, "volume_id");
            Path target = Requests.absolutePath(req.getTargetPath(), "target_path");
            try (OperationLocks.Held held = locks.tryAcquire("volume", OperationLocks.idKey(id.encode()))) {
                for (int i = 0; i < MAX_STACKED_UNMOUNTS && mounts.isMountPoint(target); i++) {
                    mounter.unmount(target);
                }
                if (mounts.isMountPoint(target)) {
                    throw Requests.failedPrecondition("target_path " + target + " still has mounts after "
                            + MAX_STACKED_UNMOUNTS + " unmounts; left alone");
                }
                try {
                    // The spec: the plugin removes the file or directory it created at target_path.
                    Files.deleteIfExists(target);
                } catch (DirectoryNotEmptyException e) {
                    throw Requests.failedPrecondition("target_path " + target + " is not empty after unmounting; "
                            + "it holds files written outside the volume and is left for an operator");
                }
                log.atInfo().addKeyValue("volume_id", id).addKeyValue("target_path", target).log("volume unpublished");
                return NodeUnpublishVolumeResponse.getDefaultInstance();
            }
        });
    }

    @Override
    public void nodeGetVolumeStats(NodeGetVolumeStatsRequest req, StreamObserver<NodeGetVolumeStatsResponse> out) {
        Rpcs.unary("NodeGetVolumeStats", out, () -> {
            ObjectId id = Requests.existingId(req.getVolumeId(), ObjectId.Kind.VOLUME, "volume_id");
            Path path = Requests.absolutePath(req.getVolumePath(), "volume_path");
            if (!req.getStagingTargetPath().isEmpty()) {
                Requests.absolutePath(req.getStagingTargetPath(), "staging_target_path");
            }
            if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                throw Requests.notFound("volume_path " + path + " does not exist");
            }
            MountInfo m = mounts.findByMountPoint(path)
                    .orElseThrow(() -> Requests.notFound("volume " + id + " is not mounted at " + path));
            Optional<Attachment> att = backend.findAttachment(id);
            ImageCheck imageCheck = imageCheck(id);
            boolean block = !Files.isDirectory(path);
            if (att.isPresent()) {
                boolean ours = block ? mounts.locate(att.get().device()).map(l -> l.equals(FilesystemLocation.of(m)))
                        .orElse(false) : sameDevice(m.source(), att.get().device());
                if (!ours) {
                    throw Requests.notFound("volume_path " + path + " holds " + m.source() + ", not volume " + id);
                }
            }
            NodeGetVolumeStatsResponse.Builder b = NodeGetVolumeStatsResponse.newBuilder();
            if (block) {
                long size = fs.deviceSize(path);
                b.addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.BYTES).setTotal(size));
            } else {
                Filesystems.Usage u = fs.usage(path);
                b.addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.BYTES).setTotal(u.totalBytes())
                        .setAvailable(u.availableBytes()).setUsed(u.usedBytes()));
                b.addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.INODES).setTotal(u.totalInodes())
                        .setAvailable(u.freeInodes()).setUsed(u.usedInodes()));
            }
            String problem = imageCheck.gone() ? "the backing image of volume " + id + " is gone"
                    : att.isEmpty() ? "the block device of volume " + id + " is gone (not attached on this node)"
                    : imageCheck.problem();
            b.setVolumeCondition(VolumeCondition.newBuilder().setAbnormal(!problem.isEmpty())
                    .setMessage(problem.isEmpty() ? "volume is healthy" : problem));
            return b.build();
        });
    }

    /**
     * Why the volume's backing image is not usable, or empty text: checked only where the backend
     * can read without secrets (NodeGetVolumeStats carries none), and a backend that cannot answer
     * now (an unreachable cluster) does not fail the stats call: kubelet polls it every minute.
     */
    private ImageCheck imageCheck(ObjectId id) {
        if (!backend.features().contains(StorageBackend.Feature.READS_WITHOUT_SECRETS)) {
            return ImageCheck.UNKNOWN;
        }
        try {
            return new ImageCheck(false, backend.imageCondition(id, Credentials.none()).orElse(""));
        } catch (StorageException.NotFound e) {
            return new ImageCheck(true, "");
        } catch (StorageException e) {
            log.atWarn().addKeyValue("volume_id", id).addKeyValue("error", e.getMessage())
                    .log("cannot check the backing image for the volume stats");
            return ImageCheck.UNKNOWN;
        }
    }

    /** Whether the image is gone, else what the backend says is wrong with it ("" when nothing or unknown). */
    private record ImageCheck(boolean gone, String problem) {
        static final ImageCheck UNKNOWN = new ImageCheck(false, "");
    }

    @Override
    public void nodeExpandVolume(NodeExpandVolumeRequest req, StreamObserver<NodeExpandVolumeResponse> out) {
        Rpcs.unary("NodeExpandVolume", out, () -> {
            ObjectId id = Requests.existingId(req.getVolumeId(), ObjectId.Kind.VOLUME, "volume_id");
            Path path = Requests.absolutePath(req.getVolumePath(), "volume_path");
            Sizes.check(req.getCapacityRange(), "capacity_range");
            Optional<Path> staging = req.getStagingTargetPath().isEmpty() ? Optional.empty()
                    : Optional.of(Requests.absolutePath(req.getStagingTargetPath(), "staging_target_path"));
            Optional<VolumeAccess> access = Optional.empty();
            if (req.hasVolumeCapability()) {
                access = Optional.of(VolumeAccess.parse(req.getVolumeCapability(), "volume_capability"));
            }
            Requests.mapSize(req.getSecretsMap(), "secrets");
            try (OperationLocks.Held held = locks.tryAcquire("volume", OperationLocks.idKey(id.encode()))) {
                Image image = backend.findImage(id, Credentials.of(req.getSecretsMap()))
                        .orElseThrow(() -> Requests.notFound("volume " + id + " does not exist"));
                if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                    throw Requests.notFound("volume_path " + path + " does not exist");
                }
                if (req.getCapacityRange().getRequiredBytes() > image.sizeBytes()) {
                    throw Requests.outOfRange("capacity_range.required_bytes " + req.getCapacityRange().getRequiredBytes()
                            + " is above the volume's size " + image.sizeBytes() + "; expand it with the controller first");
                }
                if (backend.findAttachment(id).isEmpty()) {
                    throw Requests.failedPrecondition("volume " + id + " is not attached on this node");
                }
                Attachment att = backend.refreshAttachment(id);
                long deviceBytes = fs.deviceSize(att.device());
                boolean block = access.map(a -> a.type() == VolumeAccess.Type.BLOCK).orElse(!Files.isDirectory(path));
                if (!block) {
                    growFilesystem(id, att.device(), staging.filter(this::isMountPoint).orElse(path), deviceBytes);
                }
                return NodeExpandVolumeResponse.newBuilder().setCapacityBytes(deviceBytes).build();
            }
        });
    }

    private void growFilesystem(ObjectId id, Path device, Path mountPoint, long deviceBytes)
            throws IOException, CommandException {
        MountInfo m = mounts.findByMountPoint(mountPoint)
                .orElseThrow(() -> Requests.notFound("volume " + id + " is not mounted at " + mountPoint));
        if (!sameDevice(m.source(), device)) {
            throw Requests.notFound(mountPoint + " holds " + m.source() + ", not volume " + id);
        }
        switch (m.fsType()) {
            case "xfs" -> {
                try (WorkLimiter.Permit p = limiter.acquire("resize")) {
                    fs.xfsGrow(mountPoint);
                }
            }
            case "ext4" -> {
                if (!fs.ext4Size(device).smallerThan(deviceBytes)) {
                    return;
                }
                CommandResult r;
                try (WorkLimiter.Permit p = limiter.acquire("resize")) {
                    r = fs.ext4Grow(device);
                }
                if (!r.succeeded()) {
                    String err = r.stderrTail();
                    String why = err.contains("Permission denied") || err.contains("Operation not permitted")
                            ? "; online ext4 resize needs CAP_SYS_RESOURCE, which this plugin lacks" : "";
                    throw Requests.failedPrecondition("ext4 on volume " + id + " cannot grow while mounted on this "
                            + "host (" + lastLine(r.stderrTail()) + why + "); it grows offline when the volume is "
                            + "next staged");
                }
            }
            default -> throw Requests.failedPrecondition("filesystem " + m.fsType() + " on volume " + id
                    + " cannot be grown by this driver");
        }
        log.atInfo().addKeyValue("volume_id", id).addKeyValue("fs_type", m.fsType()).addKeyValue("device_bytes", deviceBytes)
                .log("filesystem grown online");
    }

    @Override
    public void nodeGetCapabilities(NodeGetCapabilitiesRequest req, StreamObserver<NodeGetCapabilitiesResponse> out) {
        out.onNext(capabilities);
        out.onCompleted();
    }

    @Override
    public void nodeGetInfo(NodeGetInfoRequest req, StreamObserver<NodeGetInfoResponse> out) {
        NodeGetInfoResponse.Builder b = NodeGetInfoResponse.newBuilder().setNodeId(nodeId)
                .setMaxVolumesPerNode(maxVolumesPerNode);
        if (backend.features().contains(StorageBackend.Feature.NODE_LOCAL)) {
            b.setAccessibleTopology(topology.toProto());
        }
        out.onNext(b.build());
        out.onCompleted();
    }

    /** Mount points that show the device: bind mounts of its filesystem, or of the device node itself. */
    private List<Path> usersOf(Path device) throws IOException {
        List<Path> users = new ArrayList<>();
        Optional<FilesystemLocation> node = mounts.locate(device);
        for (MountInfo m : mounts.list()) {
            if (sameDevice(m.source(), device) || node.map(l -> l.equals(FilesystemLocation.of(m))).orElse(false)) {
                users.add(m.mountPoint());
            }
        }
        return users;
    }

    /** The last line of a tool's stderr, where the reason usually is; at most 200 characters. */
    private static String lastLine(String stderr) {
        List<String> lines = stderr.strip().lines().toList();
        String last = lines.isEmpty() ? "no error output" : lines.get(lines.size() - 1).strip();
        return last.length() > 200 ? last.substring(0, 200) + "..." : last;
    }

    private boolean isMountPoint(Path p) {
        try {
            return mounts.isMountPoint(p);
        } catch (IOException e) {
            return false;
        }
    }

    /** A mountinfo source is the device when it names it or the path it resolves to. */
    private static boolean sameDevice(String mountSource, Path device) {
        return mountSource.equals(device.toString()) || mountSource.equals(realOrSelf(device).toString());
    }

    private static Path realOrSelf(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }
}
