package dev.nodekit.conformance.csi;

import static dev.nodekit.conformance.csi.FakeIdentityService.answer;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.google.protobuf.Int64Value;
import com.google.protobuf.Timestamp;

import dev.nodekit.conformance.csi.FakePlugin.Defect;
import dev.nodekit.conformance.csi.FakePlugin.Held;
import dev.nodekit.conformance.csi.FakePlugin.Kind;
import dev.nodekit.conformance.csi.FakePlugin.Snap;
import dev.nodekit.conformance.csi.FakePlugin.Vol;
import dev.nodekit.spec.csi.v1.CapacityRange;
import dev.nodekit.spec.csi.v1.ControllerExpandVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerExpandVolumeResponse;
import dev.nodekit.spec.csi.v1.ControllerGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.ControllerGetCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.ControllerGetVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerGetVolumeResponse;
import dev.nodekit.spec.csi.v1.ControllerGrpc;
import dev.nodekit.spec.csi.v1.ControllerModifyVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerModifyVolumeResponse;
import dev.nodekit.spec.csi.v1.ControllerPublishVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerPublishVolumeResponse;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.ControllerUnpublishVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerUnpublishVolumeResponse;
import dev.nodekit.spec.csi.v1.CreateSnapshotRequest;
import dev.nodekit.spec.csi.v1.CreateSnapshotResponse;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.CreateVolumeResponse;
import dev.nodekit.spec.csi.v1.DeleteSnapshotRequest;
import dev.nodekit.spec.csi.v1.DeleteSnapshotResponse;
import dev.nodekit.spec.csi.v1.DeleteVolumeRequest;
import dev.nodekit.spec.csi.v1.DeleteVolumeResponse;
import dev.nodekit.spec.csi.v1.GetCapacityRequest;
import dev.nodekit.spec.csi.v1.GetCapacityResponse;
import dev.nodekit.spec.csi.v1.GetSnapshotRequest;
import dev.nodekit.spec.csi.v1.GetSnapshotResponse;
import dev.nodekit.spec.csi.v1.ListSnapshotsRequest;
import dev.nodekit.spec.csi.v1.ListSnapshotsResponse;
import dev.nodekit.spec.csi.v1.ListVolumesRequest;
import dev.nodekit.spec.csi.v1.ListVolumesResponse;
import dev.nodekit.spec.csi.v1.Snapshot;
import dev.nodekit.spec.csi.v1.Topology;
import dev.nodekit.spec.csi.v1.ValidateVolumeCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.ValidateVolumeCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.Volume;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import dev.nodekit.spec.csi.v1.VolumeCondition;
import dev.nodekit.spec.csi.v1.VolumeContentSource;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * Controller of {@link FakePlugin}. Each RPC reads as the checklist the style guide asks for:
 * capability, required fields, lock, look up, return early if done, act, record. The defect
 * switches sit exactly where the healthy code makes the decision they break.
 */
@SuppressWarnings("try") // operation locks are held by try-with-resources and never referenced
final class FakeControllerService extends ControllerGrpc.ControllerImplBase {
    private static final Set<VolumeCapability.AccessMode.Mode> MODES = Set.of(
            VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER, VolumeCapability.AccessMode.Mode.SINGLE_NODE_READER_ONLY,
            VolumeCapability.AccessMode.Mode.SINGLE_NODE_SINGLE_WRITER,
            VolumeCapability.AccessMode.Mode.SINGLE_NODE_MULTI_WRITER);
    private static final Set<String> FS_TYPES = Set.of("", "ext4", "xfs");
    private final FakePlugin f;

    FakeControllerService(FakePlugin f) {
        this.f = f;
    }

    private boolean has(Defect d) {
        return f.has(d);
    }

    private void cap(ControllerServiceCapability.RPC.Type rpc) {
        if (!f.controllerService || !f.controllerCaps.contains(rpc)) {
            throw f.error(Status.Code.UNIMPLEMENTED, rpc + " is not supported");
        }
    }

    private static ControllerServiceCapability capability(ControllerServiceCapability.RPC.Type t) {
        return ControllerServiceCapability.newBuilder().setRpc(ControllerServiceCapability.RPC.newBuilder().setType(t))
                .build();
    }

    @Override
    public void controllerGetCapabilities(ControllerGetCapabilitiesRequest request,
            StreamObserver<ControllerGetCapabilitiesResponse> out) {
        answer(f, out, () -> {
            if (!f.controllerService) {
                throw f.error(Status.Code.UNIMPLEMENTED, "no controller service");
            }
            ControllerGetCapabilitiesResponse.Builder b = ControllerGetCapabilitiesResponse.newBuilder();
            f.controllerCaps.stream().sorted().forEach(t -> b.addCapabilities(capability(t)));
            if (has(Defect.DUPLICATE_CONTROLLER_CAPABILITY)) {
                b.addCapabilities(capability(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME));
            }
            return b.build();
        });
    }

    @Override
    public void getCapacity(GetCapacityRequest request, StreamObserver<GetCapacityResponse> out) {
        answer(f, out, () -> {
            cap(ControllerServiceCapability.RPC.Type.GET_CAPACITY);
            long used = f.volumesInOrder().stream().mapToLong(v -> v.capacity).sum();
            long available = has(Defect.NEGATIVE_AVAILABLE_CAPACITY) ? -1 : Math.max(0, FakePlugin.TOTAL_CAPACITY - used);
            return GetCapacityResponse.newBuilder().setAvailableCapacity(available)
                    .setMaximumVolumeSize(Int64Value.of(FakePlugin.MAX_SIZE))
                    .setMinimumVolumeSize(Int64Value.of(FakePlugin.MIN_SIZE)).build();
        });
    }

    // ---- CreateVolume

    /** What a CreateVolume request asks for, validated. */
    private record Ask(Kind kind, VolumeCapability.AccessMode.Mode mode, long required, long limit) {
    }

    private Ask validate(CreateVolumeRequest req) {
        f.require(!req.getName().isEmpty(), "CreateVolume.name", "name is required");
        if (has(Defect.REJECT_LONG_NAMES) && req.getName().length() > 64) {
            throw f.error(Status.Code.INVALID_ARGUMENT, "names longer than 64 characters are not supported");
        }
        f.require(req.getVolumeCapabilitiesCount() > 0, "CreateVolume.volume_capabilities",
                "volume_capabilities are required");
        Kind kind = null;
        VolumeCapability.AccessMode.Mode mode = VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER;
        for (VolumeCapability c : req.getVolumeCapabilitiesList()) {
            f.require(c.hasAccessMode() && c.getAccessMode().getMode() != VolumeCapability.AccessMode.Mode.UNKNOWN,
                    "CreateVolume.access_mode", "volume_capabilities[].access_mode is required");
            f.require(c.hasMount() || c.hasBlock(), "CreateVolume.access_type",
                    "volume_capabilities[].access_type (mount or block) is required");
            if (c.hasAccessMode() && c.getAccessMode().getMode() != VolumeCapability.AccessMode.Mode.UNKNOWN) {
                if (!MODES.contains(c.getAccessMode().getMode())) {
                    throw f.error(Status.Code.INVALID_ARGUMENT, "access mode " + c.getAccessMode().getMode()
                            + " is not supported: volumes are local to one node");
                }
                mode = c.getAccessMode().getMode();
            }
            if (c.hasMount() && !FS_TYPES.contains(c.getMount().getFsType())) {
                throw f.error(Status.Code.INVALID_ARGUMENT, "fs_type '" + c.getMount().getFsType() + "' is not supported");
            }
            Kind k = c.hasBlock() ? Kind.BLOCK : Kind.MOUNT;
            if (kind != null && kind != k) {
                throw f.error(Status.Code.INVALID_ARGUMENT, "a volume is either mount or block, not both");
            }
            kind = k;
        }
        CapacityRange r = req.getCapacityRange();
        f.require(r.getRequiredBytes() >= 0 && r.getLimitBytes() >= 0, "CreateVolume.capacity_range",
                "capacity_range values must not be negative");
        if (r.getLimitBytes() > 0 && r.getRequiredBytes() > r.getLimitBytes() && !has(Defect.IGNORE_LIMIT)) {
            throw f.error(Status.Code.OUT_OF_RANGE, "required_bytes " + r.getRequiredBytes() + " > limit_bytes "
                    + r.getLimitBytes());
        }
        if (f.accessibility && req.hasAccessibilityRequirements()
                && req.getAccessibilityRequirements().getRequisiteCount() > 0) {
            Topology mine = Topology.newBuilder().putSegments(FakePlugin.TOPOLOGY_KEY, FakePlugin.NODE_ID).build();
            boolean ok = req.getAccessibilityRequirements().getRequisiteList().stream()
                    .anyMatch(t -> mine.getSegmentsMap().entrySet().containsAll(t.getSegmentsMap().entrySet()));
            if (!ok) {
                throw f.error(Status.Code.RESOURCE_EXHAUSTED, "no requisite topology is this node");
            }
        }
        return new Ask(kind == null ? Kind.MOUNT : kind, mode, r.getRequiredBytes(), r.getLimitBytes());
    }

    /** The size to provision: required, else the default within the limit; never below a source. */
    private long size(Ask a, long sourceSize, boolean fromSnapshot) {
        long size = a.required() > 0 ? a.required()
                : a.limit() > 0 ? Math.min(a.limit(), FakePlugin.DEFAULT_SIZE) : FakePlugin.DEFAULT_SIZE;
        if (sourceSize > 0 && size < sourceSize) {
            boolean allowSmaller = fromSnapshot ? has(Defect.RESTORE_ALLOWS_SMALLER) : has(Defect.CLONE_ALLOWS_SMALLER);
            if (a.limit() > 0 && a.limit() < sourceSize && !allowSmaller) {
                throw f.error(Status.Code.OUT_OF_RANGE, "limit_bytes " + a.limit() + " is smaller than the source's "
                        + sourceSize + " bytes");
            }
            if (!allowSmaller) {
                size = sourceSize;
            }
        }
        if (size > FakePlugin.MAX_SIZE && !has(Defect.NO_MAX_SIZE_ENFORCED)) {
            throw f.error(Status.Code.OUT_OF_RANGE, size + " bytes exceeds the maximum volume size " + FakePlugin.MAX_SIZE);
        }
        if (a.limit() > 0 && a.limit() < FakePlugin.MIN_SIZE) {
            throw f.error(Status.Code.OUT_OF_RANGE, "limit_bytes " + a.limit() + " is below the minimum volume size "
                    + FakePlugin.MIN_SIZE);
        }
        return Math.max(size, FakePlugin.MIN_SIZE);
    }

    private boolean compatible(Vol v, Ask a, CreateVolumeRequest req) {
        boolean size = (a.required() == 0 || v.capacity >= a.required()) && (a.limit() == 0 || v.capacity <= a.limit());
        boolean source = v.source.equals(req.getVolumeContentSource());
        return (size || has(Defect.CREATE_IGNORES_SIZE_CONFLICT)) && (source || has(Defect.CREATE_IGNORES_SOURCE_CONFLICT))
                && v.kind == a.kind() && v.parameters.equals(req.getParametersMap());
    }

    @Override
    public void createVolume(CreateVolumeRequest req, StreamObserver<CreateVolumeResponse> out) {
        answer(f, out, () -> {
            cap(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME);
            f.authorize(req.getSecretsMap());
            Ask a = validate(req);
            Optional<Path> from = Optional.empty();
            long sourceSize = 0;
            Snap snap = null;
            Vol srcVol = null;
            VolumeContentSource source = req.getVolumeContentSource();
            if (source.hasSnapshot()) {
                cap(ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT);
                snap = f.snapshot(source.getSnapshot().getSnapshotId()).orElse(null);
                if (snap == null && !has(Defect.RESTORE_UNKNOWN_SNAPSHOT_EMPTY)) {
                    throw f.error(Status.Code.NOT_FOUND, "snapshot " + source.getSnapshot().getSnapshotId()
                            + " does not exist");
                }
                if (snap != null) {
                    if (snap.kind != a.kind()) {
                        throw f.error(Status.Code.INVALID_ARGUMENT, "snapshot " + snap.id + " is of a " + snap.kind
                                + " volume");
                    }
                    sourceSize = snap.size;
                    from = Optional.of(f.snapshotData(snap));
                }
            } else if (source.hasVolume()) {
                cap(ControllerServiceCapability.RPC.Type.CLONE_VOLUME);
                srcVol = f.volume(source.getVolume().getVolumeId()).orElse(null);
                if (srcVol == null && !has(Defect.CLONE_UNKNOWN_SOURCE_EMPTY)) {
                    throw f.error(Status.Code.NOT_FOUND, "volume " + source.getVolume().getVolumeId() + " does not exist");
                }
                if (srcVol != null) {
                    if (srcVol.kind != a.kind()) {
                        throw f.error(Status.Code.INVALID_ARGUMENT, "volume " + srcVol.id + " is a " + srcVol.kind
                                + " volume");
                    }
                    sourceSize = srcVol.capacity;
                }
            }
            long size = size(a, sourceSize, source.hasSnapshot());
            long capacity = size;
            if (has(Defect.RESTORE_LARGER_SILENTLY_SMALLER) && snap != null && size > snap.size) {
                capacity = snap.size;
            }
            if (has(Defect.CLONE_CAPACITY_SMALLER) && srcVol != null) {
                capacity = size / 2;
            }
            if (has(Defect.CAPACITY_BELOW_REQUIRED) && a.required() > 0) {
                capacity = a.required() / 2;
            }
            try (Held l = has(Defect.CREATE_RACE) ? () -> { } : f.lock("name:" + req.getName())) {
                if (!has(Defect.CREATE_NOT_IDEMPOTENT)) {
                    Optional<Vol> existing;
                    synchronized (f) {
                        existing = Optional.ofNullable(f.volumeByName.get(req.getName())).map(f.volumes::get);
                    }
                    if (existing.isPresent()) {
                        if (!compatible(existing.get(), a, req)) {
                            throw f.error(Status.Code.ALREADY_EXISTS, "volume " + req.getName()
                                    + " exists with another size, source, access type or parameters");
                        }
                        return CreateVolumeResponse.newBuilder().setVolume(existing.get().proto).build();
                    }
                }
                if (has(Defect.CREATE_RACE)) {
                    Thread.sleep(50);
                }
                Vol v = new Vol(FakePlugin.newVolumeId(), req.getName(), a.kind(), a.mode(), req.getParametersMap(),
                        source, capacity);
                if (has(Defect.RESTORE_DOES_NOT_GROW_FS) && snap != null) {
                    v.fsOverride = snap.size;
                }
                if (srcVol != null) {
                    if (has(Defect.CLONE_SHARES_SOURCE)) {
                        v.lazySource = srcVol;
                    } else {
                        Path copy = f.dataDir.resolve("clone-" + v.id + (a.kind() == Kind.BLOCK ? ".img" : ""));
                        try (Held src = f.lock("vol:" + srcVol.id)) {
                            f.copyData(srcVol, copy);
                        }
                        from = Optional.of(copy);
                    }
                }
                f.createData(v, from);
                if (srcVol != null && from.isPresent()) {
                    if (a.kind() == Kind.BLOCK) {
                        Files.deleteIfExists(from.get());
                    } else {
                        FakePlugin.deleteTree(from.get());
                    }
                }
                Volume.Builder p = Volume.newBuilder().setVolumeId(v.id).setCapacityBytes(capacity)
                        .putVolumeContext("fake.nodekit.dev/kind", a.kind().name().toLowerCase());
                if (source.hasSnapshot() || source.hasVolume()) {
                    p.setContentSource(has(Defect.RESTORE_WRONG_CONTENT_SOURCE) && source.hasSnapshot()
                            ? VolumeContentSource.newBuilder().setVolume(VolumeContentSource.VolumeSource.newBuilder()
                                    .setVolumeId(source.getSnapshot().getSnapshotId())).build()
                            : source);
                }
                if (f.accessibility) {
                    p.addAccessibleTopology(has(Defect.WRONG_TOPOLOGY) ? Topology.newBuilder()
                            .putSegments(FakePlugin.TOPOLOGY_KEY, "another-node").build() : f.topology());
                }
                v.proto = p.build();
                synchronized (f) {
                    f.volumes.put(v.id, v);
                    f.volumeByName.put(req.getName(), v.id);
                }
                return CreateVolumeResponse.newBuilder().setVolume(v.proto).build();
            }
        });
    }

    @Override
    public void deleteVolume(DeleteVolumeRequest req, StreamObserver<DeleteVolumeResponse> out) {
        answer(f, out, () -> {
            cap(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME);
            f.authorize(req.getSecretsMap());
            f.require(!req.getVolumeId().isEmpty(), "DeleteVolume.volume_id", "volume_id is required");
            try (Held l = f.lock("vol:" + req.getVolumeId())) {
                Optional<Vol> found = f.volume(req.getVolumeId());
                if (found.isEmpty()) {
                    if (has(Defect.DELETE_UNKNOWN_NOT_FOUND)) {
                        throw f.error(Status.Code.NOT_FOUND, "volume " + req.getVolumeId() + " does not exist");
                    }
                    return DeleteVolumeResponse.getDefaultInstance();
                }
                Vol v = found.get();
                if (!v.staged.isEmpty() || !v.published.isEmpty() || !v.controllerPublished.isEmpty()) {
                    throw f.error(Status.Code.FAILED_PRECONDITION, "volume " + v.id + " is in use (staged "
                            + v.staged.keySet() + ", published " + v.published.keySet() + ", attached to "
                            + v.controllerPublished.keySet() + ")");
                }
                if (has(Defect.DELETE_KEEPS_VOLUME)) {
                    return DeleteVolumeResponse.getDefaultInstance();
                }
                f.deactivate(v);
                if (v.kind == Kind.BLOCK) {
                    Files.deleteIfExists(f.volumeData(v));
                } else {
                    FakePlugin.deleteTree(f.volumeData(v));
                }
                FakePlugin.deleteTree(f.seed(v));
                FakePlugin.deleteTree(f.scratch(v));
                synchronized (f) {
                    f.volumes.remove(v.id);
                    f.volumeByName.remove(v.name);
                    if (has(Defect.LIST_SHOWS_DELETED)) {
                        f.ghosts.put(v.id, v);
                    }
                }
                return DeleteVolumeResponse.getDefaultInstance();
            }
        });
    }

    @Override
    public void validateVolumeCapabilities(ValidateVolumeCapabilitiesRequest req,
            StreamObserver<ValidateVolumeCapabilitiesResponse> out) {
        answer(f, out, () -> {
            if (!f.controllerService) {
                throw f.error(Status.Code.UNIMPLEMENTED, "no controller service");
            }
            f.authorize(req.getSecretsMap());
            f.require(!req.getVolumeId().isEmpty(), "ValidateVolumeCapabilities.volume_id", "volume_id is required");
            f.require(req.getVolumeCapabilitiesCount() > 0, "ValidateVolumeCapabilities.volume_capabilities",
                    "volume_capabilities are required");
            Optional<Vol> v = f.volume(req.getVolumeId());
            ValidateVolumeCapabilitiesResponse.Confirmed confirmed = ValidateVolumeCapabilitiesResponse.Confirmed
                    .newBuilder().addAllVolumeCapabilities(req.getVolumeCapabilitiesList())
                    .putAllVolumeContext(req.getVolumeContextMap()).putAllParameters(req.getParametersMap()).build();
            if (v.isEmpty()) {
                if (has(Defect.VALIDATE_UNKNOWN_OK)) {
                    return ValidateVolumeCapabilitiesResponse.newBuilder().setConfirmed(confirmed).build();
                }
                throw f.error(Status.Code.NOT_FOUND, "volume " + req.getVolumeId() + " does not exist");
            }
            for (VolumeCapability c : req.getVolumeCapabilitiesList()) {
                Kind k = c.hasBlock() ? Kind.BLOCK : Kind.MOUNT;
                if (k != v.get().kind || !MODES.contains(c.getAccessMode().getMode())) {
                    return ValidateVolumeCapabilitiesResponse.newBuilder().setMessage("capability "
                            + c.getAccessMode().getMode() + " " + k + " is not supported by this " + v.get().kind
                            + " volume").build();
                }
            }
            if (has(Defect.VALIDATE_NEVER_CONFIRMS)) {
                return ValidateVolumeCapabilitiesResponse.newBuilder().setMessage("not sure").build();
            }
            return ValidateVolumeCapabilitiesResponse.newBuilder().setConfirmed(confirmed).build();
        });
    }

    // ---- ListVolumes (tokens are the last id returned; a deleted id is still a valid position)

    private String startAfter(String token, boolean volumes) {
        if (token.isEmpty()) {
            return "";
        }
        boolean wellFormed = volumes ? FakePlugin.isVolumeId(token) : FakePlugin.isSnapshotId(token);
        if (!wellFormed) {
            if (has(Defect.BAD_TOKEN_RESTARTS)) {
                return "";
            }
            throw f.error(Status.Code.ABORTED, "starting_token '" + token + "' is not a token of this plugin");
        }
        if (volumes && has(Defect.TOKEN_NEEDS_EXISTING_ENTRY) && f.volume(token).isEmpty()) {
            throw f.error(Status.Code.ABORTED, "starting_token '" + token + "' no longer exists");
        }
        return token;
    }

    private VolumeCondition healthy() {
        return VolumeCondition.newBuilder().setAbnormal(false).setMessage("volume is healthy").build();
    }

    @Override
    public void listVolumes(ListVolumesRequest req, StreamObserver<ListVolumesResponse> out) {
        answer(f, out, () -> {
            cap(ControllerServiceCapability.RPC.Type.LIST_VOLUMES);
            f.require(req.getMaxEntries() >= 0, "ListVolumes.max_entries", "max_entries must not be negative");
            String after = startAfter(req.getStartingToken(), true);
            List<Vol> rest = f.volumesInOrder().stream().filter(v -> v.id.compareTo(after) > 0).toList();
            int max = req.getMaxEntries() > 0 && !has(Defect.LIST_IGNORES_MAX_ENTRIES) ? req.getMaxEntries() : rest.size();
            List<Vol> page = rest.subList(0, Math.min(max, rest.size()));
            ListVolumesResponse.Builder b = ListVolumesResponse.newBuilder();
            for (Vol v : page) {
                b.addEntries(ListVolumesResponse.Entry.newBuilder().setVolume(v.proto).setStatus(
                        ListVolumesResponse.VolumeStatus.newBuilder().addAllPublishedNodeIds(v.controllerPublished.keySet())
                                .setVolumeCondition(healthy())));
            }
            if (page.size() < rest.size()) {
                b.setNextToken(page.get(page.size() - 1).id);
            }
            return b.build();
        });
    }

    @Override
    public void controllerGetVolume(ControllerGetVolumeRequest req, StreamObserver<ControllerGetVolumeResponse> out) {
        answer(f, out, () -> {
            cap(ControllerServiceCapability.RPC.Type.GET_VOLUME);
            f.require(!req.getVolumeId().isEmpty(), "ControllerGetVolume.volume_id", "volume_id is required");
            Optional<Vol> v = f.volume(req.getVolumeId());
            if (v.isEmpty()) {
                throw f.error(has(Defect.GET_VOLUME_UNKNOWN_INTERNAL) ? Status.Code.INTERNAL : Status.Code.NOT_FOUND,
                        "volume " + req.getVolumeId() + " does not exist");
            }
            ControllerGetVolumeResponse.VolumeStatus.Builder st = ControllerGetVolumeResponse.VolumeStatus.newBuilder()
                    .addAllPublishedNodeIds(v.get().controllerPublished.keySet());
            if (!has(Defect.GET_VOLUME_NO_CONDITION)) {
                st.setVolumeCondition(healthy());
            }
            return ControllerGetVolumeResponse.newBuilder().setVolume(v.get().proto).setStatus(st).build();
        });
    }

    // ---- ControllerPublish / Unpublish: the fake only records the attachment

    @Override
    public void controllerPublishVolume(ControllerPublishVolumeRequest req,
            StreamObserver<ControllerPublishVolumeResponse> out) {
        answer(f, out, () -> {
            cap(ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME);
            f.authorize(req.getSecretsMap());
            f.require(!req.getVolumeId().isEmpty(), "ControllerPublishVolume.volume_id", "volume_id is required");
            f.require(!req.getNodeId().isEmpty(), "ControllerPublishVolume.node_id", "node_id is required");
            f.require(req.hasVolumeCapability(), "ControllerPublishVolume.volume_capability",
                    "volume_capability is required");
            Optional<Vol> v = f.volume(req.getVolumeId());
            if (v.isEmpty()) {
                if (has(Defect.CPUBLISH_UNKNOWN_VOLUME_OK)) {
                    return ControllerPublishVolumeResponse.getDefaultInstance();
                }
                throw f.error(Status.Code.NOT_FOUND, "volume " + req.getVolumeId() + " does not exist");
            }
            if (!req.getNodeId().equals(FakePlugin.NODE_ID) && !has(Defect.CPUBLISH_ANY_NODE)) {
                throw f.error(Status.Code.NOT_FOUND, "node " + req.getNodeId() + " does not exist");
            }
            try (Held l = f.lock("vol:" + req.getVolumeId())) {
                Boolean prev = v.get().controllerPublished.get(req.getNodeId());
                if (prev != null) {
                    if (prev != req.getReadonly() && !has(Defect.CPUBLISH_IGNORES_READONLY)) {
                        throw f.error(Status.Code.ALREADY_EXISTS, "volume " + req.getVolumeId()
                                + " is already published to " + req.getNodeId() + " with readonly=" + prev);
                    }
                    if (has(Defect.CPUBLISH_NOT_IDEMPOTENT)) {
                        throw f.error(Status.Code.FAILED_PRECONDITION, "volume " + req.getVolumeId()
                                + " is already published");
                    }
                }
                v.get().controllerPublished.put(req.getNodeId(), req.getReadonly());
                return ControllerPublishVolumeResponse.newBuilder()
                        .putPublishContext("fake.nodekit.dev/node", req.getNodeId()).build();
            }
        });
    }

    @Override
    public void controllerUnpublishVolume(ControllerUnpublishVolumeRequest req,
            StreamObserver<ControllerUnpublishVolumeResponse> out) {
        answer(f, out, () -> {
            cap(ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME);
            f.authorize(req.getSecretsMap());
            f.require(!req.getVolumeId().isEmpty(), "ControllerUnpublishVolume.volume_id", "volume_id is required");
            Optional<Vol> v = f.volume(req.getVolumeId());
            if (v.isEmpty()) {
                return ControllerUnpublishVolumeResponse.getDefaultInstance();
            }
            try (Held l = f.lock("vol:" + req.getVolumeId())) {
                boolean was = req.getNodeId().isEmpty() ? !v.get().controllerPublished.isEmpty()
                        : v.get().controllerPublished.containsKey(req.getNodeId());
                if (!was && has(Defect.CUNPUBLISH_NOT_PUBLISHED_NOT_FOUND)) {
                    throw f.error(Status.Code.NOT_FOUND, "volume " + req.getVolumeId() + " is not published");
                }
                if (req.getNodeId().isEmpty()) {
                    v.get().controllerPublished.clear();
                } else {
                    v.get().controllerPublished.remove(req.getNodeId());
                }
                return ControllerUnpublishVolumeResponse.getDefaultInstance();
            }
        });
    }

    @Override
    public void controllerModifyVolume(ControllerModifyVolumeRequest req,
            StreamObserver<ControllerModifyVolumeResponse> out) {
        answer(f, out, () -> {
            cap(ControllerServiceCapability.RPC.Type.MODIFY_VOLUME);
            f.authorize(req.getSecretsMap());
            f.require(!req.getVolumeId().isEmpty(), "ControllerModifyVolume.volume_id", "volume_id is required");
            f.require(req.getMutableParametersCount() > 0, "ControllerModifyVolume.mutable_parameters",
                    "mutable_parameters are required");
            if (f.volume(req.getVolumeId()).isEmpty()) {
                if (has(Defect.MODIFY_UNKNOWN_OK)) {
                    return ControllerModifyVolumeResponse.getDefaultInstance();
                }
                throw f.error(Status.Code.NOT_FOUND, "volume " + req.getVolumeId() + " does not exist");
            }
            for (Map.Entry<String, String> e : req.getMutableParametersMap().entrySet()) {
                boolean known = e.getKey().equals(FakePlugin.TIER_KEY) && Set.of("fast", "slow").contains(e.getValue());
                if (!known && !has(Defect.MODIFY_ACCEPTS_ANY)) {
                    throw f.error(Status.Code.INVALID_ARGUMENT, "mutable parameter " + e.getKey() + "=" + e.getValue()
                            + " is not supported; nothing was changed");
                }
            }
            return ControllerModifyVolumeResponse.getDefaultInstance();
        });
    }

    // ---- snapshots

    private Snapshot proto(Snap s) {
        Snapshot.Builder b = Snapshot.newBuilder().setSnapshotId(s.id).setSourceVolumeId(s.sourceVolumeId)
                .setSizeBytes(s.size).setReadyToUse(true);
        if (s.created != null) {
            b.setCreationTime(s.created);
        }
        return b.build();
    }

    @Override
    public void createSnapshot(CreateSnapshotRequest req, StreamObserver<CreateSnapshotResponse> out) {
        answer(f, out, () -> {
            cap(ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT);
            f.authorize(req.getSecretsMap());
            f.require(!req.getSourceVolumeId().isEmpty(), "CreateSnapshot.source_volume_id",
                    "source_volume_id is required");
            f.require(!req.getName().isEmpty(), "CreateSnapshot.name", "name is required");
            if (has(Defect.REJECT_LONG_NAMES) && req.getName().length() > 64) {
                throw f.error(Status.Code.INVALID_ARGUMENT, "names longer than 64 characters are not supported");
            }
            Optional<Vol> src = f.volume(req.getSourceVolumeId());
            if (src.isEmpty()) {
                throw f.error(has(Defect.SNAPSHOT_UNKNOWN_SOURCE_INTERNAL) ? Status.Code.INTERNAL : Status.Code.NOT_FOUND,
                        "volume " + req.getSourceVolumeId() + " does not exist");
            }
            try (Held l = has(Defect.SNAPSHOT_RACE) ? () -> { } : f.lock("snapname:" + req.getName())) {
                if (!has(Defect.SNAPSHOT_NOT_IDEMPOTENT)) {
                    Optional<Snap> existing;
                    synchronized (f) {
                        existing = Optional.ofNullable(f.snapshotByName.get(req.getName())).map(f.snapshots::get);
                    }
                    if (existing.isPresent()) {
                        if (!existing.get().sourceVolumeId.equals(req.getSourceVolumeId())
                                && !has(Defect.SNAPSHOT_IGNORES_SOURCE_CONFLICT)) {
                            throw f.error(Status.Code.ALREADY_EXISTS, "snapshot " + req.getName()
                                    + " exists for volume " + existing.get().sourceVolumeId);
                        }
                        return CreateSnapshotResponse.newBuilder().setSnapshot(proto(existing.get())).build();
                    }
                }
                if (has(Defect.SNAPSHOT_RACE)) {
                    Thread.sleep(50);
                }
                Vol v = src.get();
                Timestamp created = has(Defect.SNAPSHOT_NO_CREATION_TIME) ? null : FakePlugin.now();
                Snap s = new Snap(FakePlugin.newSnapshotId(), req.getName(), v.id, v.capacity, v.kind, created);
                try (Held vl = has(Defect.SNAPSHOT_RACE) ? () -> { } : f.lock("vol:" + v.id)) {
                    if (has(Defect.SNAPSHOT_WITHOUT_DATA)) {
                        if (v.kind == Kind.BLOCK) {
                            try (RandomAccessFile file = new RandomAccessFile(f.snapshotData(s).toFile(), "rw")) {
                                file.setLength(s.size);
                            }
                        } else {
                            Files.createDirectories(f.snapshotData(s));
                        }
                    } else {
                        f.copyData(v, f.snapshotData(s));
                    }
                }
                synchronized (f) {
                    f.snapshots.put(s.id, s);
                    f.snapshotByName.put(s.name, s.id);
                }
                return CreateSnapshotResponse.newBuilder().setSnapshot(proto(s)).build();
            }
        });
    }

    @Override
    public void deleteSnapshot(DeleteSnapshotRequest req, StreamObserver<DeleteSnapshotResponse> out) {
        answer(f, out, () -> {
            cap(ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT);
            f.authorize(req.getSecretsMap());
            f.require(!req.getSnapshotId().isEmpty(), "DeleteSnapshot.snapshot_id", "snapshot_id is required");
            try (Held l = f.lock("snap:" + req.getSnapshotId())) {
                Optional<Snap> s = f.snapshot(req.getSnapshotId());
                if (s.isEmpty()) {
                    if (has(Defect.DELETE_SNAPSHOT_UNKNOWN_NOT_FOUND)) {
                        throw f.error(Status.Code.NOT_FOUND, "snapshot " + req.getSnapshotId() + " does not exist");
                    }
                    return DeleteSnapshotResponse.getDefaultInstance();
                }
                if (has(Defect.DELETE_SNAPSHOT_KEEPS)) {
                    return DeleteSnapshotResponse.getDefaultInstance();
                }
                Path data = f.snapshotData(s.get());
                if (Files.isDirectory(data)) {
                    FakePlugin.deleteTree(data);
                } else {
                    Files.deleteIfExists(data);
                }
                synchronized (f) {
                    f.snapshots.remove(s.get().id);
                    f.snapshotByName.remove(s.get().name);
                }
                return DeleteSnapshotResponse.getDefaultInstance();
            }
        });
    }

    @Override
    public void listSnapshots(ListSnapshotsRequest req, StreamObserver<ListSnapshotsResponse> out) {
        answer(f, out, () -> {
            cap(ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS);
            f.authorize(req.getSecretsMap());
            f.require(req.getMaxEntries() >= 0, "ListSnapshots.max_entries", "max_entries must not be negative");
            String after = startAfter(req.getStartingToken(), false);
            List<Snap> all = new ArrayList<>(f.snapshotsInOrder());
            if (!req.getSnapshotId().isEmpty() && !has(Defect.LIST_SNAPSHOTS_IGNORES_ID_FILTER)) {
                all.removeIf(s -> !s.id.equals(req.getSnapshotId()));
            }
            if (!req.getSourceVolumeId().isEmpty() && !has(Defect.LIST_SNAPSHOTS_IGNORES_SOURCE_FILTER)) {
                all.removeIf(s -> !s.sourceVolumeId.equals(req.getSourceVolumeId()));
            }
            if (all.isEmpty() && has(Defect.LIST_SNAPSHOTS_UNKNOWN_FILTER_NOT_FOUND)
                    && (!req.getSnapshotId().isEmpty() || !req.getSourceVolumeId().isEmpty())) {
                throw f.error(Status.Code.NOT_FOUND, "no such snapshot");
            }
            List<Snap> rest = all.stream().filter(s -> s.id.compareTo(after) > 0).toList();
            int max = req.getMaxEntries() > 0 ? req.getMaxEntries() : rest.size();
            List<Snap> page = rest.subList(0, Math.min(max, rest.size()));
            ListSnapshotsResponse.Builder b = ListSnapshotsResponse.newBuilder();
            for (Snap s : page) {
                Snapshot p = proto(s);
                if (has(Defect.LIST_SNAPSHOTS_NO_SOURCE)) {
                    p = p.toBuilder().clearSourceVolumeId().build();
                }
                b.addEntries(ListSnapshotsResponse.Entry.newBuilder().setSnapshot(p));
            }
            if (page.size() < rest.size() && !has(Defect.LIST_SNAPSHOTS_NO_NEXT_TOKEN)) {
                b.setNextToken(page.get(page.size() - 1).id);
            }
            return b.build();
        });
    }

    @Override
    public void getSnapshot(GetSnapshotRequest req, StreamObserver<GetSnapshotResponse> out) {
        answer(f, out, () -> {
            cap(ControllerServiceCapability.RPC.Type.GET_SNAPSHOT);
            f.authorize(req.getSecretsMap());
            f.require(!req.getSnapshotId().isEmpty(), "GetSnapshot.snapshot_id", "snapshot_id is required");
            Optional<Snap> s = f.snapshot(req.getSnapshotId());
            if (s.isEmpty()) {
                throw f.error(has(Defect.GET_SNAPSHOT_UNKNOWN_INTERNAL) ? Status.Code.INTERNAL : Status.Code.NOT_FOUND,
                        "snapshot " + req.getSnapshotId() + " does not exist");
            }
            Snapshot p = proto(s.get());
            if (has(Defect.GET_SNAPSHOT_WRONG_SOURCE)) {
                p = p.toBuilder().setSourceVolumeId("fakevol-00000000-0000-0000-0000-000000000000").build();
            }
            return GetSnapshotResponse.newBuilder().setSnapshot(p).build();
        });
    }

    // ---- expansion

    @Override
    public void controllerExpandVolume(ControllerExpandVolumeRequest req,
            StreamObserver<ControllerExpandVolumeResponse> out) {
        answer(f, out, () -> {
            cap(ControllerServiceCapability.RPC.Type.EXPAND_VOLUME);
            f.authorize(req.getSecretsMap());
            f.require(!req.getVolumeId().isEmpty(), "ControllerExpandVolume.volume_id", "volume_id is required");
            f.require(req.hasCapacityRange(), "ControllerExpandVolume.capacity_range", "capacity_range is required");
            CapacityRange r = req.getCapacityRange();
            Optional<Vol> found = f.volume(req.getVolumeId());
            if (found.isEmpty()) {
                if (has(Defect.EXPAND_UNKNOWN_OK)) {
                    return ControllerExpandVolumeResponse.newBuilder().setCapacityBytes(r.getRequiredBytes()).build();
                }
                throw f.error(Status.Code.NOT_FOUND, "volume " + req.getVolumeId() + " does not exist");
            }
            if (r.getRequiredBytes() < 0 || r.getLimitBytes() < 0) {
                throw f.error(Status.Code.INVALID_ARGUMENT, "capacity_range values must not be negative");
            }
            if (r.getLimitBytes() > 0 && r.getRequiredBytes() > r.getLimitBytes() && !has(Defect.EXPAND_IGNORES_LIMIT)) {
                throw f.error(Status.Code.OUT_OF_RANGE, "required_bytes " + r.getRequiredBytes() + " > limit_bytes "
                        + r.getLimitBytes());
            }
            if (r.getRequiredBytes() > FakePlugin.MAX_SIZE && !has(Defect.NO_MAX_SIZE_ENFORCED)) {
                throw f.error(Status.Code.OUT_OF_RANGE, r.getRequiredBytes() + " bytes exceeds the maximum volume size "
                        + FakePlugin.MAX_SIZE);
            }
            Vol v = found.get();
            try (Held l = f.lock("vol:" + v.id)) {
                long target = r.getRequiredBytes();
                if (target > v.capacity || (has(Defect.EXPAND_SHRINKS) && target > 0)) {
                    if (v.kind == Kind.BLOCK && target > v.capacity) {
                        try (RandomAccessFile file = new RandomAccessFile(f.volumeData(v).toFile(), "rw")) {
                            file.setLength(target);
                        }
                    }
                    v.capacity = target;
                    v.proto = v.proto.toBuilder().setCapacityBytes(target).build();
                }
                return ControllerExpandVolumeResponse.newBuilder().setCapacityBytes(v.capacity)
                        .setNodeExpansionRequired(!has(Defect.EXPAND_NO_NODE_EXPANSION)).build();
            }
        });
    }
}
