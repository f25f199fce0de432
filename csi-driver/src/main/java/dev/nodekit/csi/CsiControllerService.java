package dev.nodekit.csi;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.Int64Value;
import com.google.protobuf.Timestamp;

import dev.nodekit.csi.spi.Capacity;
import dev.nodekit.csi.spi.ContentSource;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.Health;
import dev.nodekit.csi.spi.Image;
import dev.nodekit.csi.spi.ImageSpec;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.Page;
import dev.nodekit.csi.spi.PageRequest;
import dev.nodekit.csi.spi.Snapshot;
import dev.nodekit.csi.spi.SnapshotSpec;
import dev.nodekit.csi.spi.StorageBackend;
import dev.nodekit.csi.spi.StorageException;
import dev.nodekit.spec.csi.v1.CapacityRange;
import dev.nodekit.spec.csi.v1.ControllerExpandVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerExpandVolumeResponse;
import dev.nodekit.spec.csi.v1.ControllerGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.ControllerGetCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.ControllerGetVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerGetVolumeResponse;
import dev.nodekit.spec.csi.v1.ControllerGrpc;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
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
import dev.nodekit.spec.csi.v1.ValidateVolumeCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.ValidateVolumeCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.Volume;
import dev.nodekit.spec.csi.v1.VolumeCondition;
import dev.nodekit.spec.csi.v1.VolumeContentSource;
import io.grpc.stub.StreamObserver;

/**
 * CSI Controller: volumes, snapshots, clones, expansion and capacity, on a {@link StorageBackend}.
 * Every RPC reads as a checklist (see the package notes): required fields, one INVALID_ARGUMENT per
 * field naming it; ids parsed before anything is built from them; a per-name or per-id lock that
 * answers ABORTED at once when busy; look-up; early return when the work is done; the backend call;
 * the answer. Reads (list, get, validate, capacity) take no lock.
 *
 * <p>Not offered: ControllerPublish/Unpublish (the data is local to the node that stages it, so
 * there is nothing to attach from the controller; the CSIDriver object says
 * {@code attachRequired: false}) and ControllerModifyVolume (no mutable parameters). Both answer
 * UNIMPLEMENTED, as for any capability not advertised.
 */
@SuppressWarnings("try") // locks and permits are held, not used
public final class CsiControllerService extends ControllerGrpc.ControllerImplBase {
    private static final Logger log = LoggerFactory.getLogger(CsiControllerService.class);

    /** What this controller advertises, in this order. */
    static final List<ControllerServiceCapability.RPC.Type> CAPABILITIES = List.of(
            ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME,
            ControllerServiceCapability.RPC.Type.LIST_VOLUMES,
            ControllerServiceCapability.RPC.Type.GET_CAPACITY,
            ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT,
            ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS,
            ControllerServiceCapability.RPC.Type.GET_SNAPSHOT,
            ControllerServiceCapability.RPC.Type.CLONE_VOLUME,
            ControllerServiceCapability.RPC.Type.EXPAND_VOLUME,
            ControllerServiceCapability.RPC.Type.GET_VOLUME,
            ControllerServiceCapability.RPC.Type.VOLUME_CONDITION,
            ControllerServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER);

    /** StorageClass parameter naming the pool; it becomes {@link ImageSpec#pool()}, not a backend parameter. */
    static final String POOL_PARAMETER = "pool";
    /**
     * Keys the Kubernetes sidecars add ({@code --extra-create-metadata}: PVC/PV and snapshot names);
     * accepted and not passed on, so the same StorageClass works with and without that flag.
     */
    static final String K8S_PREFIX = "csi.storage.k8s.io/";

    /**
     * Node expansion is required for filesystem volumes (the filesystem must grow) and also for
     * block volumes: a loop device keeps its old size until the node refreshes it
     * ({@code LOOP_SET_CAPACITY}), so without NodeExpandVolume a running pod would not see the new
     * size of its raw device until the volume is staged again. Also when the volume was already
     * large enough: an earlier NodeExpandVolume may have failed, and it is idempotent.
     */
    static final boolean NODE_EXPANSION_REQUIRED = true;

    private final StorageBackend backend;
    private final Topology topology;
    private final WorkLimiter limiter;
    private final OperationLocks locks = new OperationLocks();
    private final ControllerGetCapabilitiesResponse capabilities;
    /**
     * The backend's minimum and maximum volume size per parameter set, re-read after
     * {@link #limitsTtlNanos}: they are configuration, while asking for them costs a statvfs and a
     * mount-table scan on every create (measured: most of a 3 ms create on tmpfs).
     */
    private final Map<Map<String, String>, CachedLimits> limits = new java.util.concurrent.ConcurrentHashMap<>();
    private final long limitsTtlNanos;
    static final Duration LIMITS_TTL = Duration.ofSeconds(30);

    /** Sizes a backend allows, and when they were read. */
    private record CachedLimits(long min, long max, long readAt) {
    }

    CsiControllerService(StorageBackend backend, Topology topology, WorkLimiter limiter) {
        this(backend, topology, limiter, LIMITS_TTL);
    }

    CsiControllerService(StorageBackend backend, Topology topology, WorkLimiter limiter, Duration limitsTtl) {
        this.limitsTtlNanos = limitsTtl.toNanos();
        this.backend = Objects.requireNonNull(backend, "backend");
        this.topology = Objects.requireNonNull(topology, "topology");
        this.limiter = Objects.requireNonNull(limiter, "limiter");
        ControllerGetCapabilitiesResponse.Builder b = ControllerGetCapabilitiesResponse.newBuilder();
        for (ControllerServiceCapability.RPC.Type t : CAPABILITIES) {
            b.addCapabilities(ControllerServiceCapability.newBuilder()
                    .setRpc(ControllerServiceCapability.RPC.newBuilder().setType(t)));
        }
        this.capabilities = b.build();
    }

    /** The locks, for tests that prove what they exclude. */
    OperationLocks locks() {
        return locks;
    }

    @Override
    public void createVolume(CreateVolumeRequest req, StreamObserver<CreateVolumeResponse> out) {
        Rpcs.unary("CreateVolume", out, () -> {
            String name = Requests.name(req.getName(), "name");
            if (req.getVolumeCapabilitiesCount() == 0) {
                throw Requests.invalid("volume_capabilities is required");
            }
            List<VolumeAccess> caps = new ArrayList<>();
            for (int i = 0; i < req.getVolumeCapabilitiesCount(); i++) {
                String field = "volume_capabilities[" + i + "]";
                VolumeAccess a = VolumeAccess.parse(req.getVolumeCapabilities(i), field);
                a.unsupported().ifPresent(why -> {
                    throw Requests.invalid(field + ": " + why);
                });
                caps.add(a);
            }
            VolumeAccess access = VolumeAccess.single(caps, "volume_capabilities");
            CapacityRange range = req.getCapacityRange();
            Sizes.check(range, "capacity_range");
            Requests.mapSize(req.getParametersMap(), "parameters");
            Requests.mapSize(req.getSecretsMap(), "secrets");
            if (req.getMutableParamsCount() > 0) {
                throw Requests.invalid("mutable_parameters are not supported by this driver (it does not advertise "
                        + "MODIFY_VOLUME); remove them from the VolumeAttributesClass");
            }
            BackendParameters params = parameters(req.getParametersMap(), "parameters");
            Optional<ContentSource> source = contentSource(req);
            if (req.hasAccessibilityRequirements() && !topology.satisfies(req.getAccessibilityRequirements())) {
                throw Requests.resourceExhausted("accessibility_requirements cannot be satisfied: this driver creates "
                        + "volumes only where it runs, topology {" + topology.key() + "=" + topology.value() + "}");
            }
            Credentials creds = Credentials.of(req.getSecretsMap());
            try (OperationLocks.Held held = locks.tryAcquire("volume name", OperationLocks.nameKey(name))) {
                Optional<Image> existing = backend.findImageByName(name, creds);
                if (existing.isPresent()) {
                    checkCompatible(existing.get(), range, source, params, access);
                    log.atDebug().addKeyValue("name", name).addKeyValue("volume_id", existing.get().id())
                            .log("volume exists; returning it");
                    return CreateVolumeResponse.newBuilder().setVolume(volume(existing.get())).build();
                }
                long sourceBytes = sourceSize(source, creds);
                CachedLimits bounds = limits(params.withPool(), creds);
                long floor = access.type() == VolumeAccess.Type.MOUNT && access.fsType().equals("xfs")
                        ? Sizes.XFS_MIN_BYTES : 0;
                long size = Sizes.forCreate(range, sourceBytes, floor, bounds.min(), bounds.max());
                ImageSpec spec = new ImageSpec(name, params.pool(), size, source, params.backend(), access.metadata());
                Image image;
                if (source.isPresent()) {
                    try (WorkLimiter.Permit p = limiter.acquire("copy")) {
                        image = backend.createImage(spec, creds);
                    }
                } else {
                    image = backend.createImage(spec, creds);
                }
                log.atInfo().addKeyValue("name", name).addKeyValue("volume_id", image.id())
                        .addKeyValue("size_bytes", image.sizeBytes()).addKeyValue("source", describe(source))
                        .log("volume created");
                return CreateVolumeResponse.newBuilder().setVolume(volume(image)).build();
            }
        });
    }

    @Override
    public void deleteVolume(DeleteVolumeRequest req, StreamObserver<DeleteVolumeResponse> out) {
        Rpcs.unary("DeleteVolume", out, () -> {
            Optional<ObjectId> id = Requests.idOrAbsent(req.getVolumeId(), ObjectId.Kind.VOLUME, "volume_id");
            Requests.mapSize(req.getSecretsMap(), "secrets");
            if (id.isEmpty()) {
                log.atDebug().addKeyValue("volume_id", Requests.shorten(req.getVolumeId()))
                        .log("not a volume id of this driver; nothing to delete");
                return DeleteVolumeResponse.getDefaultInstance();
            }
            try (OperationLocks.Held held = locks.tryAcquire("volume", OperationLocks.idKey(id.get().encode()))) {
                backend.deleteImage(id.get(), Credentials.of(req.getSecretsMap()));
            }
            log.atInfo().addKeyValue("volume_id", id.get()).log("volume deleted");
            return DeleteVolumeResponse.getDefaultInstance();
        });
    }

    @Override
    public void validateVolumeCapabilities(ValidateVolumeCapabilitiesRequest req,
            StreamObserver<ValidateVolumeCapabilitiesResponse> out) {
        Rpcs.unary("ValidateVolumeCapabilities", out, () -> {
            ObjectId id = Requests.existingId(req.getVolumeId(), ObjectId.Kind.VOLUME, "volume_id");
            if (req.getVolumeCapabilitiesCount() == 0) {
                throw Requests.invalid("volume_capabilities is required");
            }
            List<VolumeAccess> caps = new ArrayList<>();
            for (int i = 0; i < req.getVolumeCapabilitiesCount(); i++) {
                caps.add(VolumeAccess.parse(req.getVolumeCapabilities(i), "volume_capabilities[" + i + "]"));
            }
            Requests.mapSize(req.getParametersMap(), "parameters");
            Requests.mapSize(req.getVolumeContextMap(), "volume_context");
            Requests.mapSize(req.getSecretsMap(), "secrets");
            Image image = backend.findImage(id, Credentials.of(req.getSecretsMap()))
                    .orElseThrow(() -> Requests.notFound("volume " + id + " does not exist"));
            List<String> problems = new ArrayList<>();
            for (int i = 0; i < caps.size(); i++) {
                String field = "volume_capabilities[" + i + "]: ";
                caps.get(i).unsupported().ifPresent(why -> problems.add(field + why));
                caps.get(i).incompatibleWith(image.metadata()).ifPresent(why -> problems.add(field + why));
            }
            unknownParameters(req.getParametersMap()).ifPresent(problems::add);
            if (req.getMutableParamsCount() > 0) {
                problems.add("mutable_parameters are not supported");
            }
            if (!problems.isEmpty()) {
                return ValidateVolumeCapabilitiesResponse.newBuilder().setMessage(String.join("; ", problems)).build();
            }
            return ValidateVolumeCapabilitiesResponse.newBuilder()
                    .setConfirmed(ValidateVolumeCapabilitiesResponse.Confirmed.newBuilder()
                            .addAllVolumeCapabilities(req.getVolumeCapabilitiesList())
                            .putAllVolumeContext(req.getVolumeContextMap())
                            .putAllParameters(req.getParametersMap()))
                    .build();
        });
    }

    @Override
    public void listVolumes(ListVolumesRequest req, StreamObserver<ListVolumesResponse> out) {
        Rpcs.unary("ListVolumes", out, () -> {
            if (req.getMaxEntries() < 0) {
                throw Requests.invalid("max_entries must not be negative");
            }
            Page<Image> page = backend.listImages(new PageRequest(req.getStartingToken(), req.getMaxEntries()),
                    Credentials.none());
            Health health = backend.health();
            ListVolumesResponse.Builder b = ListVolumesResponse.newBuilder();
            for (Image image : page.items()) {
                b.addEntries(ListVolumesResponse.Entry.newBuilder().setVolume(volume(image))
                        .setStatus(ListVolumesResponse.VolumeStatus.newBuilder()
                                .setVolumeCondition(condition(health, image.id(), Credentials.none()))));
            }
            page.nextToken().ifPresent(b::setNextToken);
            return b.build();
        });
    }

    @Override
    public void getCapacity(GetCapacityRequest req, StreamObserver<GetCapacityResponse> out) {
        Rpcs.unary("GetCapacity", out, () -> {
            List<VolumeAccess> caps = new ArrayList<>();
            for (int i = 0; i < req.getVolumeCapabilitiesCount(); i++) {
                caps.add(VolumeAccess.parse(req.getVolumeCapabilities(i), "volume_capabilities[" + i + "]"));
            }
            Requests.mapSize(req.getParametersMap(), "parameters");
            BackendParameters params = parameters(req.getParametersMap(), "parameters");
            boolean servable = caps.stream().allMatch(c -> c.unsupported().isEmpty())
                    && (!req.hasAccessibleTopology() || topology.matches(req.getAccessibleTopology()));
            if (!servable) {
                // Capacity for volumes this driver cannot create there is none, not an error.
                return GetCapacityResponse.newBuilder().setAvailableCapacity(0).build();
            }
            Capacity c = backend.capacity(params.withPool(), Credentials.none());
            GetCapacityResponse.Builder b = GetCapacityResponse.newBuilder().setAvailableCapacity(c.availableBytes());
            if (c.maximumVolumeSize() > 0) {
                b.setMaximumVolumeSize(Int64Value.of(c.maximumVolumeSize()));
            }
            long min = Math.max(c.minimumVolumeSize(), caps.stream().anyMatch(a -> a.type() == VolumeAccess.Type.MOUNT
                    && a.fsType().equals("xfs")) ? Sizes.XFS_MIN_BYTES : 0);
            if (min > 0) {
                b.setMinimumVolumeSize(Int64Value.of(min));
            }
            return b.build();
        });
    }

    @Override
    public void controllerGetCapabilities(ControllerGetCapabilitiesRequest req,
            StreamObserver<ControllerGetCapabilitiesResponse> out) {
        out.onNext(capabilities);
        out.onCompleted();
    }

    @Override
    public void createSnapshot(CreateSnapshotRequest req, StreamObserver<CreateSnapshotResponse> out) {
        Rpcs.unary("CreateSnapshot", out, () -> {
            String name = Requests.name(req.getName(), "name");
            Requests.required(req.getSourceVolumeId(), "source_volume_id");
            Requests.mapSize(req.getParametersMap(), "parameters");
            Requests.mapSize(req.getSecretsMap(), "secrets");
            ObjectId source = Requests.existingId(req.getSourceVolumeId(), ObjectId.Kind.VOLUME, "source_volume_id");
            Map<String, String> params = withoutK8sKeys(req.getParametersMap());
            Credentials creds = Credentials.of(req.getSecretsMap());
            try (OperationLocks.Held held = locks.tryAcquire("snapshot name", OperationLocks.nameKey(name))) {
                Snapshot s;
                try (WorkLimiter.Permit p = limiter.acquire("copy")) {
                    s = backend.createSnapshot(new SnapshotSpec(name, source, params), creds);
                }
                log.atInfo().addKeyValue("name", name).addKeyValue("snapshot_id", s.id())
                        .addKeyValue("source_volume_id", source).log("snapshot created");
                return CreateSnapshotResponse.newBuilder().setSnapshot(snapshot(s)).build();
            }
        });
    }

    @Override
    public void deleteSnapshot(DeleteSnapshotRequest req, StreamObserver<DeleteSnapshotResponse> out) {
        Rpcs.unary("DeleteSnapshot", out, () -> {
            Optional<ObjectId> id = Requests.idOrAbsent(req.getSnapshotId(), ObjectId.Kind.SNAPSHOT, "snapshot_id");
            Requests.mapSize(req.getSecretsMap(), "secrets");
            if (id.isEmpty()) {
                return DeleteSnapshotResponse.getDefaultInstance();
            }
            try (OperationLocks.Held held = locks.tryAcquire("snapshot", OperationLocks.idKey(id.get().encode()))) {
                backend.deleteSnapshot(id.get(), Credentials.of(req.getSecretsMap()));
            }
            log.atInfo().addKeyValue("snapshot_id", id.get()).log("snapshot deleted");
            return DeleteSnapshotResponse.getDefaultInstance();
        });
    }

    @Override
    public void listSnapshots(ListSnapshotsRequest req, StreamObserver<ListSnapshotsResponse> out) {
        Rpcs.unary("ListSnapshots", out, () -> {
            if (req.getMaxEntries() < 0) {
                throw Requests.invalid("max_entries must not be negative");
            }
            Requests.mapSize(req.getSecretsMap(), "secrets");
            Optional<Optional<ObjectId>> bySource = Requests.filter(req.getSourceVolumeId(), ObjectId.Kind.VOLUME);
            Optional<Optional<ObjectId>> byId = Requests.filter(req.getSnapshotId(), ObjectId.Kind.SNAPSHOT);
            if (bySource.map(Optional::isEmpty).orElse(false) || byId.map(Optional::isEmpty).orElse(false)) {
                // A filter naming an object that cannot exist matches nothing (the spec: empty, not NOT_FOUND).
                return ListSnapshotsResponse.getDefaultInstance();
            }
            Page<Snapshot> page = backend.listSnapshots(bySource.flatMap(o -> o), byId.flatMap(o -> o),
                    new PageRequest(req.getStartingToken(), req.getMaxEntries()), Credentials.of(req.getSecretsMap()));
            ListSnapshotsResponse.Builder b = ListSnapshotsResponse.newBuilder();
            for (Snapshot s : page.items()) {
                b.addEntries(ListSnapshotsResponse.Entry.newBuilder().setSnapshot(snapshot(s)));
            }
            page.nextToken().ifPresent(b::setNextToken);
            return b.build();
        });
    }

    @Override
    public void getSnapshot(GetSnapshotRequest req, StreamObserver<GetSnapshotResponse> out) {
        Rpcs.unary("GetSnapshot", out, () -> {
            ObjectId id = Requests.existingId(req.getSnapshotId(), ObjectId.Kind.SNAPSHOT, "snapshot_id");
            Requests.mapSize(req.getSecretsMap(), "secrets");
            Snapshot s = backend.findSnapshot(id, Credentials.of(req.getSecretsMap()))
                    .orElseThrow(() -> Requests.notFound("snapshot " + id + " does not exist"));
            return GetSnapshotResponse.newBuilder().setSnapshot(snapshot(s)).build();
        });
    }

    @Override
    public void controllerExpandVolume(ControllerExpandVolumeRequest req,
            StreamObserver<ControllerExpandVolumeResponse> out) {
        Rpcs.unary("ControllerExpandVolume", out, () -> {
            ObjectId id = Requests.existingId(req.getVolumeId(), ObjectId.Kind.VOLUME, "volume_id");
            if (!req.hasCapacityRange()) {
                throw Requests.invalid("capacity_range is required");
            }
            Sizes.check(req.getCapacityRange(), "capacity_range");
            Requests.mapSize(req.getSecretsMap(), "secrets");
            if (req.hasVolumeCapability()) {
                VolumeAccess a = VolumeAccess.parse(req.getVolumeCapability(), "volume_capability");
                a.unsupported().ifPresent(why -> {
                    throw Requests.invalid("volume_capability: " + why);
                });
            }
            Credentials creds = Credentials.of(req.getSecretsMap());
            try (OperationLocks.Held held = locks.tryAcquire("volume", OperationLocks.idKey(id.encode()))) {
                Image image = backend.findImage(id, creds)
                        .orElseThrow(() -> Requests.notFound("volume " + id + " does not exist"));
                long max = limits(image.parameters(), creds).max();
                long size = Sizes.forExpand(req.getCapacityRange(), image.sizeBytes(), max);
                Image grown = image;
                if (size > image.sizeBytes()) {
                    grown = backend.resizeImage(id, size, creds);
                    log.atInfo().addKeyValue("volume_id", id).addKeyValue("from_bytes", image.sizeBytes())
                            .addKeyValue("to_bytes", grown.sizeBytes()).log("volume expanded");
                }
                return ControllerExpandVolumeResponse.newBuilder().setCapacityBytes(grown.sizeBytes())
                        .setNodeExpansionRequired(NODE_EXPANSION_REQUIRED).build();
            }
        });
    }

    @Override
    public void controllerGetVolume(ControllerGetVolumeRequest req, StreamObserver<ControllerGetVolumeResponse> out) {
        Rpcs.unary("ControllerGetVolume", out, () -> {
            ObjectId id = Requests.existingId(req.getVolumeId(), ObjectId.Kind.VOLUME, "volume_id");
            Image image = backend.findImage(id, Credentials.none())
                    .orElseThrow(() -> Requests.notFound("volume " + id + " does not exist"));
            return ControllerGetVolumeResponse.newBuilder().setVolume(volume(image))
                    .setStatus(ControllerGetVolumeResponse.VolumeStatus.newBuilder()
                            .setVolumeCondition(condition(backend.health(), id, Credentials.none())))
                    .build();
        });
    }


    private CachedLimits limits(Map<String, String> params, Credentials creds) throws StorageException {
        long now = System.nanoTime();
        CachedLimits c = limits.get(params);
        if (c == null || now - c.readAt() >= limitsTtlNanos) {
            Capacity cap = backend.capacity(params, creds);
            c = new CachedLimits(cap.minimumVolumeSize(), cap.maximumVolumeSize(), now);
            if (limits.size() > 64) {
                limits.clear();
            }
            limits.put(Map.copyOf(params), c);
        }
        return c;
    }

    /** A same-name volume must match the request: size within range, same source, parameters and access. */
    private static void checkCompatible(Image existing, CapacityRange range, Optional<ContentSource> source,
            BackendParameters params, VolumeAccess access) {
        String name = existing.name();
        if (!Sizes.within(range, existing.sizeBytes())) {
            throw Requests.alreadyExists("volume '" + Requests.shorten(name) + "' exists with " + existing.sizeBytes()
                    + " bytes, outside the requested capacity_range [" + range.getRequiredBytes() + ", "
                    + (range.getLimitBytes() == 0 ? "unlimited" : range.getLimitBytes()) + "]");
        }
        if (!existing.source().equals(source)) {
            throw Requests.alreadyExists("volume '" + Requests.shorten(name) + "' exists with content source "
                    + describe(existing.source()) + ", not " + describe(source));
        }
        if (!existing.parameters().equals(params.backend())) {
            throw Requests.alreadyExists("volume '" + Requests.shorten(name) + "' exists with other parameters "
                    + new TreeSet<>(existing.parameters().keySet()) + " than requested "
                    + new TreeSet<>(params.backend().keySet()));
        }
        access.incompatibleWith(existing.metadata()).ifPresent(why -> {
            throw Requests.alreadyExists("volume '" + Requests.shorten(name) + "' exists but " + why);
        });
    }

    private long sourceSize(Optional<ContentSource> source, Credentials creds) throws StorageException {
        if (source.isEmpty()) {
            return 0;
        }
        if (source.get() instanceof ContentSource.FromSnapshot s) {
            Snapshot snap = backend.findSnapshot(s.snapshot(), creds)
                    .orElseThrow(() -> Requests.notFound("content source snapshot " + s.snapshot() + " does not exist"));
            if (!snap.readyToUse()) {
                throw Requests.status(io.grpc.Status.UNAVAILABLE, "content source snapshot " + s.snapshot()
                        + " is not ready to use yet; retry later");
            }
            return snap.sizeBytes();
        }
        ContentSource.FromImage i = (ContentSource.FromImage) source.get();
        return backend.findImage(i.image(), creds)
                .orElseThrow(() -> Requests.notFound("content source volume " + i.image() + " does not exist"))
                .sizeBytes();
    }

    private static Optional<ContentSource> contentSource(CreateVolumeRequest req) {
        if (!req.hasVolumeContentSource()) {
            return Optional.empty();
        }
        VolumeContentSource s = req.getVolumeContentSource();
        if (s.hasSnapshot()) {
            return Optional.of(new ContentSource.FromSnapshot(Requests.existingId(s.getSnapshot().getSnapshotId(),
                    ObjectId.Kind.SNAPSHOT, "volume_content_source.snapshot.snapshot_id")));
        }
        if (s.hasVolume()) {
            return Optional.of(new ContentSource.FromImage(Requests.existingId(s.getVolume().getVolumeId(),
                    ObjectId.Kind.VOLUME, "volume_content_source.volume.volume_id")));
        }
        throw Requests.invalid("volume_content_source needs a snapshot or a volume");
    }

    /** The pool and the backend's parameters of a request; unknown keys are INVALID_ARGUMENT, by name. */
    private BackendParameters parameters(Map<String, String> all, String field) {
        Optional<String> pool = Optional.empty();
        Map<String, String> forBackend = new HashMap<>();
        List<String> known = backend.parameterKeys();
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(all).entrySet()) {
            String k = e.getKey();
            if (k.startsWith(K8S_PREFIX)) {
                continue;
            }
            if (k.equals(POOL_PARAMETER)) {
                if (e.getValue().isEmpty()) {
                    throw Requests.invalid(field + "." + POOL_PARAMETER + " must not be empty");
                }
                pool = Optional.of(e.getValue());
            } else if (known.contains(k)) {
                forBackend.put(k, e.getValue());
            } else {
                throw Requests.invalid(unknownParameterMessage(field, k));
            }
        }
        return new BackendParameters(pool, forBackend);
    }

    private Optional<String> unknownParameters(Map<String, String> all) {
        for (String k : new TreeSet<>(all.keySet())) {
            if (!k.startsWith(K8S_PREFIX) && !k.equals(POOL_PARAMETER) && !backend.parameterKeys().contains(k)) {
                return Optional.of(unknownParameterMessage("parameters", k));
            }
        }
        return Optional.empty();
    }

    private String unknownParameterMessage(String field, String key) {
        List<String> supported = new ArrayList<>(backend.parameterKeys());
        if (!supported.contains(POOL_PARAMETER)) {
            supported.add(POOL_PARAMETER);
        }
        supported.sort(null);
        return field + " key '" + Requests.shorten(key) + "' is not supported by the " + backend.kind()
                + " backend (supported: " + String.join(", ", supported) + ", and " + K8S_PREFIX + "* keys)";
    }

    private static Map<String, String> withoutK8sKeys(Map<String, String> params) {
        Map<String, String> out = new HashMap<>();
        params.forEach((k, v) -> {
            if (!k.startsWith(K8S_PREFIX)) {
                out.put(k, v);
            }
        });
        return out;
    }

    private Volume volume(Image image) {
        Volume.Builder b = Volume.newBuilder().setVolumeId(image.id().encode()).setCapacityBytes(image.sizeBytes())
                .addAccessibleTopology(topology.toProto());
        image.source().ifPresent(s -> b.setContentSource(contentSource(s)));
        return b.build();
    }

    private static VolumeContentSource contentSource(ContentSource s) {
        if (s instanceof ContentSource.FromSnapshot fs) {
            return VolumeContentSource.newBuilder().setSnapshot(VolumeContentSource.SnapshotSource.newBuilder()
                    .setSnapshotId(fs.snapshot().encode())).build();
        }
        ContentSource.FromImage fi = (ContentSource.FromImage) s;
        return VolumeContentSource.newBuilder().setVolume(VolumeContentSource.VolumeSource.newBuilder()
                .setVolumeId(fi.image().encode())).build();
    }

    private static dev.nodekit.spec.csi.v1.Snapshot snapshot(Snapshot s) {
        return dev.nodekit.spec.csi.v1.Snapshot.newBuilder().setSnapshotId(s.id().encode())
                .setSourceVolumeId(s.source().encode()).setSizeBytes(s.sizeBytes())
                .setCreationTime(Timestamp.newBuilder().setSeconds(s.created().getEpochSecond())
                        .setNanos(s.created().getNano()))
                .setReadyToUse(s.readyToUse()).build();
    }

    /**
     * Abnormal when the backend is unhealthy or reports a problem with the image itself (its data
     * is gone); an image deleted between the listing and this look-up is reported as such.
     */
    private VolumeCondition condition(Health h, ObjectId id, Credentials creds) throws StorageException {
        if (!h.healthy()) {
            return abnormal("storage backend unhealthy: " + h.message());
        }
        Optional<String> problem;
        try {
            problem = backend.imageCondition(id, creds);
        } catch (StorageException.NotFound e) {
            return abnormal("volume " + id + " no longer exists");
        }
        return problem.isPresent() ? abnormal(problem.get())
                : VolumeCondition.newBuilder().setAbnormal(false).setMessage("volume is healthy").build();
    }

    private static VolumeCondition abnormal(String message) {
        return VolumeCondition.newBuilder().setAbnormal(true).setMessage(message).build();
    }

    private static String describe(Optional<ContentSource> s) {
        if (s.isEmpty()) {
            return "none";
        }
        return s.get() instanceof ContentSource.FromSnapshot fs ? "snapshot " + fs.snapshot()
                : "volume " + ((ContentSource.FromImage) s.get()).image();
    }

    /** A request's pool and the parameters passed to the backend. */
    private record BackendParameters(Optional<String> pool, Map<String, String> backend) {
        BackendParameters {
            backend = Map.copyOf(backend);
        }

        /** The backend parameters plus the pool, as {@link StorageBackend#capacity} reads them. */
        Map<String, String> withPool() {
            if (pool.isEmpty()) {
                return backend;
            }
            Map<String, String> m = new HashMap<>(backend);
            m.put(POOL_PARAMETER, pool.get());
            return m;
        }
    }
}
