package dev.nodekit.csi.rbd;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.csi.Failpoints;
import dev.nodekit.csi.Failpoints.Point;
import dev.nodekit.csi.rbd.ceph.CephAlreadyExistsException;
import dev.nodekit.csi.rbd.ceph.CephCredentials;
import dev.nodekit.csi.rbd.ceph.CephException;
import dev.nodekit.csi.rbd.ceph.CephNotFoundException;
import dev.nodekit.csi.rbd.ceph.CephPermissionDeniedException;
import dev.nodekit.csi.rbd.ceph.ClusterStats;
import dev.nodekit.csi.rbd.ceph.ImageOptions;
import dev.nodekit.csi.rbd.ceph.ParentRef;
import dev.nodekit.csi.rbd.ceph.PoolUsage;
import dev.nodekit.csi.rbd.ceph.RadosPool;
import dev.nodekit.csi.rbd.ceph.RbdFeature;
import dev.nodekit.csi.rbd.ceph.RbdImages;
import dev.nodekit.csi.rbd.ceph.SnapshotInfo;
import dev.nodekit.csi.rbd.ceph.SnapshotNamespace;
import dev.nodekit.csi.rbd.ceph.Watcher;
import dev.nodekit.csi.spi.Attachment;
import dev.nodekit.csi.spi.Capacity;
import dev.nodekit.csi.spi.ContentSource;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.Health;
import dev.nodekit.csi.spi.Image;
import dev.nodekit.csi.spi.ImageSpec;
import dev.nodekit.csi.spi.InvalidIdException;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.Page;
import dev.nodekit.csi.spi.PageRequest;
import dev.nodekit.csi.spi.Snapshot;
import dev.nodekit.csi.spi.SnapshotSpec;
import dev.nodekit.csi.spi.StorageBackend;
import dev.nodekit.csi.spi.StorageException;

/**
 * The Ceph RBD storage backend: volumes are RBD images, snapshots are "snapshot images" (a clone
 * of a temporary snapshot of the source, with its own snapshot), restores and volume clones are
 * clone-v2 children, all recorded in an omap journal in ceph-csi's layout (see the package notes
 * for the journal, the step order and what each crash leaves). Ids are {@link ObjectId}s of backend
 * {@code rbd}, the clusterID, the pool id as 16 hex digits (stable under pool renames) and the UUID.
 *
 * <p>Open it with {@link RbdBackendFactory}. Thread-safe; each call leases a pooled Ceph session of
 * the request's user ({@code userID}/{@code userKey} secrets) or of the cluster's credential file.
 */
public final class RbdBackend implements StorageBackend {
    /** The backend kind in ids and in {@code --backend}. */
    public static final String KIND = "rbd";
    /** Secret keys of a CSI request. */
    static final String USER_ID = "userID";
    static final String USER_KEY = "userKey";

    private static final Logger log = LoggerFactory.getLogger(RbdBackend.class);
    private static final Pattern POOL_HEX = Pattern.compile("[0-9a-f]{16}");
    private static final String VOLUME_PREFIX = "csi-vol-";
    private static final String SNAPSHOT_PREFIX = "csi-snap-";
    private static final String CLONE_TMP_PREFIX = "csi-tmp-";
    private static final Duration LOCK_WAIT = Duration.ofSeconds(30);
    private static final int ENOTEMPTY = 39;

    private final RbdConfig config;
    private final Sessions sessions;
    private final NodeAttachments node;
    private final Background background;
    private final Clock clock;
    private final KeyedLocks locks = new KeyedLocks(LOCK_WAIT);

    RbdBackend(RbdConfig config, Sessions sessions, NodeAttachments node, Background background, Clock clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.sessions = Objects.requireNonNull(sessions, "sessions");
        this.node = Objects.requireNonNull(node, "node");
        this.background = Objects.requireNonNull(background, "background");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public String kind() {
        return KIND;
    }

    /**
     * Never NODE_LOCAL (an RBD image is reachable from every node); READS_WITHOUT_SECRETS when every
     * configured cluster has a credential file.
     */
    @Override
    public Set<Feature> features() {
        return config.everyClusterHasCredentials() ? EnumSet.of(Feature.READS_WITHOUT_SECRETS)
                : EnumSet.noneOf(Feature.class);
    }

    /**
     * Always healthy once open: an unreachable cluster is reported per call (UNAVAILABLE), not by
     * Probe, because a liveness probe that fails would restart the node plugin, which cures
     * nothing and would take user-space mounts with it.
     */
    @Override
    public Health health() {
        return Health.ok();
    }

    @Override
    public List<String> parameterKeys() {
        return VolumeParams.KEYS;
    }

    // ------------------------------------------------------------------ capacity

    @Override
    public Capacity capacity(Map<String, String> parameters, Credentials credentials) throws StorageException {
        VolumeParams.rejectUnknown(parameters, VolumeParams.KEYS);
        String clusterId = VolumeParams.clusterId(parameters, config);
        Optional<String> pool = Optional.ofNullable(parameters.get(VolumeParams.POOL));
        try (Ctx ctx = open(clusterId, credentials)) {
            return ctx.call("reading the capacity of " + pool.map(p -> "pool " + p).orElse("the cluster"), () -> {
                if (pool.isPresent()) {
                    PoolUsage u = ctx.session().rados().poolUsage(pool.get());
                    return new Capacity(u.maxAvailableBytes(), u.storedBytes() + u.maxAvailableBytes(), 0, 0);
                }
                ClusterStats c = ctx.session().rados().clusterStats();
                return new Capacity(c.availableBytes(), c.totalBytes(), 0, 0);
            });
        }
    }

    // ------------------------------------------------------------------ create

    @Override
    public Image createImage(ImageSpec spec, Credentials credentials) throws StorageException {
        VolumeParams p = VolumeParams.parse(spec.parameters(), spec.pool(), config);
        try (KeyedLocks.Held held = locks.acquire("volume name " + spec.name());
                Ctx ctx = open(p.clusterId(), credentials)) {
            RadosPool imagePool = ctx.imagePool(p.pool());
            Journal journal = ctx.volumes(imagePool);
            Optional<JournalEntries.Volume> existing = ctx.call("looking up volume '" + spec.name() + "'",
                    () -> findVolumeByName(journal, spec.name()));
            if (existing.isPresent()) {
                JournalEntries.Volume rec = existing.get();
                checkCompatible(rec, spec, p);
                if (rec.ready()) {
                    return image(ctx.cluster().clusterID(), rec);
                }
                log.atInfo().addKeyValue("name", spec.name()).addKeyValue("uuid", rec.uuid())
                        .log("resuming an unfinished create");
            }
            Source source = resolveSource(ctx, spec.source());
            if (source.size() > spec.sizeBytes()) {
                throw new StorageException.OutOfRange("the content source " + describe(spec.source()) + " has "
                        + source.size() + " bytes, more than the requested " + spec.sizeBytes());
            }
            int depth = source.parentDepth() + (spec.source().isPresent() ? 1 : 0);
            checkDepth(ctx, source, depth);
            JournalEntries.Volume rec = existing.isPresent() ? existing.get() : reserveVolume(ctx, journal, spec, p,
                    imagePool);
            boolean committed = false;
            try {
                materialize(ctx, imagePool, rec, source, p);
                JournalEntries.Volume ready = rec.asReady();
                ctx.call("committing volume '" + spec.name() + "'", () -> {
                    journal.update(rec.uuid(), Map.of(JournalEntries.STATE, JournalEntries.READY,
                            JournalEntries.VERSION, Integer.toString(JournalEntries.CURRENT_VERSION)));
                    return null;
                });
                Failpoints.hit(Point.RBD_CREATE_COMMITTED);
                committed = true;
                if (depth > config.softMaxCloneDepth()) {
                    background.flatten(ctx.cluster(), ctx.creds(), imagePool.name(), rec.imageName(), depth);
                }
                log.atInfo().addKeyValue("name", spec.name()).addKeyValue("image", p.pool() + "/" + rec.imageName())
                        .addKeyValue("size_bytes", rec.sizeBytes()).addKeyValue("depth", depth).log("volume created");
                return image(ctx.cluster().clusterID(), ready);
            } catch (StorageException e) {
                if (!(e instanceof StorageException.Unavailable) && !(e instanceof StorageException.Pending)) {
                    undoVolume(ctx, journal, imagePool, rec, source);
                }
                throw e;
            } finally {
                if (!committed) {
                    log.atDebug().addKeyValue("name", spec.name()).log("volume create did not commit");
                }
            }
        }
    }

    private JournalEntries.Volume reserveVolume(Ctx ctx, Journal journal, ImageSpec spec, VolumeParams p,
            RadosPool imagePool) throws StorageException {
        Instant now = clock.instant();
        UUID uuid = reserve(ctx, journal, spec.name(), u -> new JournalEntries.Volume(u, spec.name(), VOLUME_PREFIX + u,
                imagePool.name(), imagePool.id(), spec.sizeBytes(), spec.sizeBytes(), spec.source().map(RbdBackend::encode),
                spec.parameters(), spec.metadata(), now, false).fields(),
                Point.RBD_CREATE_INTENT, Point.RBD_CREATE_RESERVED, Point.RBD_CREATE_NAME_BOUND);
        return new JournalEntries.Volume(uuid, spec.name(), VOLUME_PREFIX + uuid, imagePool.name(), imagePool.id(),
                spec.sizeBytes(), spec.sizeBytes(), spec.source().map(RbdBackend::encode), spec.parameters(),
                spec.metadata(), now, false);
    }

    /** Builds the fields of a reservation for a UUID. */
    @FunctionalInterface
    private interface Fields {
        Map<String, String> of(UUID uuid);
    }

    /**
     * Reserves a UUID for {@code name}: intent key, exclusive UUID object, name binding (ceph-csi's
     * order, bracketed by the intent so a crash between leaves no orphan). Resumes an intent left by
     * an earlier attempt.
     */
    private UUID reserve(Ctx ctx, Journal journal, String name, Fields fields, Point intent, Point reserved, Point bound)
            throws StorageException {
        return ctx.call("reserving '" + name + "' in the journal", () -> {
            List<UUID> pending = journal.intents(name);
            UUID uuid = pending.isEmpty() ? UUID.randomUUID() : pending.get(0);
            for (UUID extra : pending.subList(Math.min(1, pending.size()), pending.size())) {
                journal.removeRecord(extra);
                journal.removeIntent(extra);
            }
            if (pending.isEmpty()) {
                journal.writeIntent(uuid, name);
                Failpoints.hit(intent);
            }
            try {
                journal.reserve(uuid, fields.of(uuid));
            } catch (CephAlreadyExistsException e) {
                // An earlier attempt reserved it and died before binding: nothing was created yet, so
                // the record may take this request's fields.
                journal.update(uuid, fields.of(uuid));
            }
            Failpoints.hit(reserved);
            journal.bindName(name, uuid);
            Failpoints.hit(bound);
            return uuid;
        });
    }

    /** Creates the image of {@code rec} from its source; every step tolerates having been done before. */
    private void materialize(Ctx ctx, RadosPool imagePool, JournalEntries.Volume rec, Source source, VolumeParams p)
            throws StorageException {
        String doing = "creating image " + imagePool.name() + "/" + rec.imageName();
        ctx.call(doing, () -> {
            RbdImages images = imagePool.images();
            ImageOptions options = options(p);
            boolean exists = exists(images, rec.imageName());
            if (source.kind() == Source.Kind.NONE) {
                if (!exists) {
                    try {
                        images.create(rec.imageName(), rec.requestedBytes(), options);
                    } catch (CephAlreadyExistsException e) {
                        // a half-created image of an earlier attempt that cannot be opened: start over
                        images.remove(rec.imageName());
                        images.create(rec.imageName(), rec.requestedBytes(), options);
                    }
                    Failpoints.hit(Point.RBD_CREATE_IMAGE_CREATED);
                }
                return null;
            }
            RbdImages parentImages = source.pool().images();
            if (source.kind() == Source.Kind.VOLUME) {
                String tmp = CLONE_TMP_PREFIX + rec.uuid();
                if (!exists) {
                    try {
                        parentImages.createSnapshot(source.image(), tmp);
                    } catch (CephAlreadyExistsException e) {
                        // taken by the attempt that died
                    }
                    Failpoints.hit(Point.RBD_CLONE_SOURCE_SNAPSHOTTED);
                    parentImages.cloneInto(source.image(), tmp, images, rec.imageName(), options);
                    Failpoints.hit(Point.RBD_CREATE_IMAGE_CREATED);
                }
                removeSnapshotIfPresent(parentImages, source.image(), tmp);
                Failpoints.hit(Point.RBD_CLONE_SOURCE_SNAPSHOT_REMOVED);
            } else if (!exists) {
                parentImages.cloneInto(source.image(), source.snapshot(), images, rec.imageName(), options);
                Failpoints.hit(Point.RBD_CREATE_IMAGE_CREATED);
            }
            if (images.size(rec.imageName()) < rec.requestedBytes()) {
                images.resize(rec.imageName(), rec.requestedBytes(), false);
                Failpoints.hit(Point.RBD_CREATE_RESIZED);
            }
            return null;
        });
    }

    private void undoVolume(Ctx ctx, Journal journal, RadosPool imagePool, JournalEntries.Volume rec, Source source) {
        try {
            ctx.call("undoing the create of '" + rec.name() + "'", () -> {
                RbdImages images = imagePool.images();
                try {
                    images.remove(rec.imageName());
                } catch (CephNotFoundException e) {
                    // never created
                }
                if (source.kind() == Source.Kind.VOLUME) {
                    removeSnapshotIfPresent(source.pool().images(), source.image(), CLONE_TMP_PREFIX + rec.uuid());
                }
                journal.unbindName(rec.name(), rec.uuid());
                journal.removeRecord(rec.uuid());
                journal.removeIntent(rec.uuid());
                return null;
            });
            log.atInfo().addKeyValue("name", rec.name()).addKeyValue("uuid", rec.uuid()).log("undid a failed create");
        } catch (StorageException e) {
            log.atWarn().addKeyValue("name", rec.name()).addKeyValue("uuid", rec.uuid()).setCause(e)
                    .log("could not undo a failed create; a retry of the same request resumes it");
        }
    }

    private static void checkCompatible(JournalEntries.Volume rec, ImageSpec spec, VolumeParams p)
            throws StorageException.Conflict {
        List<String> diffs = new ArrayList<>();
        if (rec.requestedBytes() != spec.sizeBytes()) {
            diffs.add("size " + rec.requestedBytes() + " (requested " + spec.sizeBytes() + ")");
        }
        if (!rec.source().equals(spec.source().map(RbdBackend::encode))) {
            diffs.add("content source " + rec.source().orElse("none") + " (requested "
                    + spec.source().map(RbdBackend::encode).orElse("none") + ")");
        }
        if (!rec.parameters().equals(spec.parameters())) {
            diffs.add("parameters " + new java.util.TreeMap<>(rec.parameters()));
        }
        if (!rec.metadata().equals(spec.metadata())) {
            diffs.add("other volume capabilities/metadata");
        }
        if (!rec.pool().equals(p.pool())) {
            diffs.add("pool " + rec.pool());
        }
        if (!diffs.isEmpty()) {
            throw new StorageException.Conflict("volume '" + spec.name() + "' exists with " + String.join(", ", diffs));
        }
    }

    // ------------------------------------------------------------------ sources and clone depth

    /** Where a new image's data comes from. */
    private record Source(Kind kind, RadosPool pool, String image, String snapshot, long size, int parentDepth) {
        enum Kind { NONE, SNAPSHOT, VOLUME }

        static final Source NONE_SOURCE = new Source(Kind.NONE, null, "", "", 0, 0);
    }

    private Source resolveSource(Ctx ctx, Optional<ContentSource> source) throws StorageException {
        if (source.isEmpty()) {
            return Source.NONE_SOURCE;
        }
        if (source.get() instanceof ContentSource.FromSnapshot fs) {
            ObjectId id = fs.snapshot();
            if (!ours(id) || !id.cluster().equals(ctx.cluster().clusterID())) {
                throw new StorageException.NotFound("content source snapshot " + id + " does not exist"
                        + (ours(id) ? " in cluster " + ctx.cluster().clusterID() : ""));
            }
            RadosPool pool = ctx.poolById(id).orElseThrow(() -> new StorageException.NotFound(
                    "content source snapshot " + id + " does not exist (its pool is gone)"));
            JournalEntries.Snapshot rec = ctx.call("reading snapshot " + id, () -> readSnapshot(ctx.snapshots(pool),
                    id.uuid())).filter(JournalEntries.Snapshot::ready).orElseThrow(() ->
                    new StorageException.NotFound("content source snapshot " + id + " does not exist"));
            int depth = depth(ctx, pool, rec.imageName());
            return new Source(Source.Kind.SNAPSHOT, pool, rec.imageName(), rec.imageName(), rec.sizeBytes(), depth);
        }
        ObjectId id = ((ContentSource.FromImage) source.get()).image();
        if (!ours(id) || !id.cluster().equals(ctx.cluster().clusterID())) {
            throw new StorageException.NotFound("content source volume " + id + " does not exist");
        }
        RadosPool pool = ctx.poolById(id).orElseThrow(() -> new StorageException.NotFound(
                "content source volume " + id + " does not exist (its pool is gone)"));
        JournalEntries.Volume rec = ctx.call("reading volume " + id, () -> readVolume(ctx.volumes(pool), id.uuid()))
                .filter(JournalEntries.Volume::ready).orElseThrow(() ->
                        new StorageException.NotFound("content source volume " + id + " does not exist"));
        int depth = depth(ctx, pool, rec.imageName());
        return new Source(Source.Kind.VOLUME, pool, rec.imageName(), "", rec.sizeBytes(), depth);
    }

    /** How many clone parents {@code image} has, counted up to one past the hard limit. */
    private int depth(Ctx ctx, RadosPool pool, String image) throws StorageException {
        return ctx.call("walking the clone chain of " + pool.name() + "/" + image, () -> {
            Optional<ParentRef> parent = pool.images().stat(image).parent();
            int depth = 0;
            while (parent.isPresent() && depth <= config.hardMaxCloneDepth()) {
                depth++;
                ParentRef ref = parent.get();
                RadosPool pp = ctx.session().pool(ref.image().poolId());
                parent = pp.images().parentById(ref.image().imageId());
            }
            return depth;
        });
    }

    /**
     * A new image of {@code depth} must not exceed the hard limit: its parent is flattened in the
     * background first and the caller retries (Pending: ABORTED for the CO, which backs off).
     */
    private void checkDepth(Ctx ctx, Source source, int depth) throws StorageException {
        if (depth <= config.hardMaxCloneDepth()) {
            return;
        }
        background.flatten(ctx.cluster(), ctx.creds(), source.pool().name(), source.image(), depth - 1);
        throw new StorageException.Pending("a clone of " + source.pool().name() + "/" + source.image() + " would be "
                + depth + " clones deep (hardMaxCloneDepth " + config.hardMaxCloneDepth()
                + "); the source is being flattened in the background; retry");
    }

    private static ImageOptions options(VolumeParams p) {
        Set<RbdFeature> features = EnumSet.copyOf(p.features());
        // Flattening must detach a clone's snapshots too, or a chain could not be shortened.
        features.add(RbdFeature.DEEP_FLATTEN);
        ImageOptions o = ImageOptions.defaults().withFeatures(features);
        return p.dataPool().isPresent() ? o.withDataPool(p.dataPool().get()) : o;
    }

    // ------------------------------------------------------------------ lookups

    @Override
    public Optional<Image> findImage(ObjectId id, Credentials credentials) throws StorageException {
        if (!ours(id) || id.kind() != ObjectId.Kind.VOLUME) {
            return Optional.empty();
        }
        try (Ctx ctx = open(id.cluster(), credentials)) {
            Optional<RadosPool> pool = ctx.poolById(id);
            if (pool.isEmpty()) {
                return Optional.empty();
            }
            Optional<JournalEntries.Volume> rec = ctx.call("reading volume " + id,
                    () -> readVolume(ctx.volumes(pool.get()), id.uuid()));
            return rec.filter(JournalEntries.Volume::ready).map(r -> image(id.cluster(), r));
        }
    }

    @Override
    public Optional<String> imageCondition(ObjectId id, Credentials credentials) throws StorageException {
        Image image = findImage(id, credentials).orElseThrow(() ->
                new StorageException.NotFound("volume " + id + " does not exist"));
        try (Ctx ctx = open(id.cluster(), credentials)) {
            RadosPool pool = ctx.poolById(id).orElseThrow(() -> new StorageException.NotFound("volume " + id));
            String name = VOLUME_PREFIX + id.uuid();
            boolean exists = ctx.call("checking image " + name, () -> exists(pool.images(), name));
            return exists ? Optional.empty() : Optional.of("the RBD image " + pool.name() + "/" + name + " of volume "
                    + image.id() + " is missing");
        }
    }

    @Override
    public Optional<Image> findImageByName(String name, Credentials credentials) throws StorageException {
        for (RbdConfig.Cluster c : config.clusters()) {
            try (Ctx ctx = open(c.clusterID(), credentials)) {
                for (RadosPool journalPool : ctx.journalPools()) {
                    Journal j = new Journal(journalPool, Journal.Kind.VOLUME, config.instanceID());
                    Optional<JournalEntries.Volume> rec = ctx.callSkippingDenied("looking up volume '" + name + "'",
                            () -> findVolumeByName(j, name)).flatMap(o -> o);
                    if (rec.isPresent()) {
                        return rec.filter(JournalEntries.Volume::ready).map(r -> image(c.clusterID(), r));
                    }
                }
            } catch (StorageException.PermissionDenied e) {
                if (config.clusters().size() == 1) {
                    throw e;
                }
                log.atDebug().addKeyValue("cluster_id", c.clusterID()).log("skipping a cluster these credentials cannot read");
            }
        }
        return Optional.empty();
    }

    @Override
    public Optional<Image> findImageByName(String name, Optional<String> pool, Map<String, String> parameters,
            Credentials credentials) throws StorageException {
        VolumeParams p = VolumeParams.parse(parameters, pool, config);
        try (Ctx ctx = open(p.clusterId(), credentials)) {
            Optional<RadosPool> imagePool = ctx.imagePoolIfExists(p.pool());
            if (imagePool.isEmpty()) {
                return Optional.empty();
            }
            Journal j = ctx.volumes(imagePool.get());
            return ctx.call("looking up volume '" + name + "'", () -> findVolumeByName(j, name))
                    .filter(JournalEntries.Volume::ready).map(r -> image(p.clusterId(), r));
        }
    }

    private static Optional<JournalEntries.Volume> findVolumeByName(Journal j, String name) throws CephException {
        Optional<UUID> uuid = j.lookup(name);
        if (uuid.isEmpty()) {
            return Optional.empty();
        }
        return readVolume(j, uuid.get());
    }

    private static Optional<JournalEntries.Volume> readVolume(Journal j, UUID uuid) throws CephException {
        Optional<Map<String, String>> raw = j.read(uuid);
        if (raw.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(JournalEntries.Volume.decode(uuid, raw.get()));
        } catch (JournalEntries.BadRecordException e) {
            throw new BadJournalException(e.getMessage());
        }
    }

    private static Optional<JournalEntries.Snapshot> readSnapshot(Journal j, UUID uuid) throws CephException {
        Optional<Map<String, String>> raw = j.read(uuid);
        if (raw.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(JournalEntries.Snapshot.decode(uuid, raw.get()));
        } catch (JournalEntries.BadRecordException e) {
            throw new BadJournalException(e.getMessage());
        }
    }

    // ------------------------------------------------------------------ delete

    @Override
    public void deleteImage(ObjectId id, Credentials credentials) throws StorageException {
        if (!ours(id) || id.kind() != ObjectId.Kind.VOLUME) {
            return;
        }
        try (KeyedLocks.Held held = locks.acquire("volume " + id); Ctx ctx = open(id.cluster(), credentials)) {
            Optional<RadosPool> pool = ctx.poolById(id);
            if (pool.isEmpty()) {
                return;
            }
            Journal journal = ctx.volumes(pool.get());
            Optional<JournalEntries.Volume> rec = ctx.call("reading volume " + id,
                    () -> readVolume(journal, id.uuid()));
            String imageName = rec.map(JournalEntries.Volume::imageName).orElse(VOLUME_PREFIX + id.uuid());
            RbdImages images = ctx.call("opening pool " + pool.get().name(), () -> pool.get().images());
            String doing = "deleting image " + pool.get().name() + "/" + imageName;
            ctx.call(doing, () -> {
                requireUnwatched(images, imageName, id);
                removeImage(images, imageName);
                return null;
            });
            Failpoints.hit(Point.RBD_DELETE_IMAGE_REMOVED);
            if (rec.isPresent()) {
                ctx.call("releasing volume '" + rec.get().name() + "'", () -> {
                    journal.unbindName(rec.get().name(), id.uuid());
                    return null;
                });
                Failpoints.hit(Point.RBD_DELETE_NAME_RELEASED);
                ctx.call("removing the journal record of " + id, () -> {
                    journal.removeRecord(id.uuid());
                    return null;
                });
                Failpoints.hit(Point.RBD_DELETE_DONE);
            }
            background.purgeTrash(ctx.cluster(), ctx.creds(), pool.get().name());
            log.atInfo().addKeyValue("volume_id", id).addKeyValue("image", pool.get().name() + "/" + imageName)
                    .log("volume deleted");
        }
    }

    /** FailedPrecondition while a client has the image open (attached on some node). */
    private static void requireUnwatched(RbdImages images, String imageName, ObjectId id)
            throws CephException, StorageException.FailedPrecondition {
        List<Watcher> watchers;
        try {
            watchers = images.watchers(imageName);
        } catch (CephNotFoundException e) {
            return;
        }
        if (!watchers.isEmpty()) {
            throw new StorageException.FailedPrecondition("volume " + id + " is in use: image "
                    + images.pool().name() + "/" + imageName + " is open by " + watchers.stream()
                            .map(w -> "client." + w.clientId() + "@" + w.address()).toList()
                    + " (attached on a node); unstage it first");
        }
    }

    /**
     * Removes an image of ours; one whose snapshots still have clone children (they sit in the
     * trash namespace) goes to the RBD trash instead, purged in the background once the children
     * are gone or flattened. Leftover temporary clone snapshots are removed first.
     */
    private static void removeImage(RbdImages images, String name) throws CephException {
        try {
            images.remove(name);
            return;
        } catch (CephNotFoundException e) {
            return;
        } catch (CephException e) {
            if (e.errno() != ENOTEMPTY) {
                throw e;
            }
        }
        for (SnapshotInfo s : images.listSnapshots(name)) {
            if (s.namespace() == SnapshotNamespace.USER && (s.name().startsWith(CLONE_TMP_PREFIX)
                    || s.name().startsWith(SNAPSHOT_PREFIX))) {
                removeSnapshotIfPresent(images, name, s.name());
            }
        }
        try {
            images.remove(name);
        } catch (CephException e) {
            if (e.errno() != ENOTEMPTY) {
                throw e;
            }
            images.moveToTrash(name, Duration.ZERO);
        }
    }

    private static void removeSnapshotIfPresent(RbdImages images, String image, String snap) throws CephException {
        try {
            images.removeSnapshot(image, snap);
        } catch (CephNotFoundException e) {
            // gone already (or the image is)
        }
    }

    private static boolean exists(RbdImages images, String name) throws CephException {
        try {
            images.size(name);
            return true;
        } catch (CephNotFoundException e) {
            return false;
        }
    }

    // ------------------------------------------------------------------ resize

    @Override
    public Image resizeImage(ObjectId id, long sizeBytes, Credentials credentials) throws StorageException {
        if (!ours(id) || id.kind() != ObjectId.Kind.VOLUME) {
            throw new StorageException.NotFound("volume " + id + " does not exist");
        }
        try (KeyedLocks.Held held = locks.acquire("volume " + id); Ctx ctx = open(id.cluster(), credentials)) {
            RadosPool pool = ctx.poolById(id).orElseThrow(() -> new StorageException.NotFound("volume " + id
                    + " does not exist"));
            Journal journal = ctx.volumes(pool);
            JournalEntries.Volume rec = ctx.call("reading volume " + id, () -> readVolume(journal, id.uuid()))
                    .filter(JournalEntries.Volume::ready)
                    .orElseThrow(() -> new StorageException.NotFound("volume " + id + " does not exist"));
            if (sizeBytes < rec.sizeBytes()) {
                throw new StorageException.OutOfRange("volume " + id + " has " + rec.sizeBytes() + " bytes; shrinking to "
                        + sizeBytes + " is not supported");
            }
            if (sizeBytes == rec.sizeBytes()) {
                return image(id.cluster(), rec);
            }
            ctx.call("resizing image " + pool.name() + "/" + rec.imageName(), () -> {
                RbdImages images = pool.images();
                if (images.size(rec.imageName()) < sizeBytes) {
                    images.resize(rec.imageName(), sizeBytes, false);
                }
                Failpoints.hit(Point.RBD_RESIZE_IMAGE_GROWN);
                journal.update(rec.uuid(), Map.of(JournalEntries.SIZE, Long.toString(sizeBytes),
                        JournalEntries.VERSION, Integer.toString(JournalEntries.CURRENT_VERSION),
                        JournalEntries.REQUESTED_SIZE, Long.toString(rec.requestedBytes())));
                Failpoints.hit(Point.RBD_RESIZE_COMMITTED);
                return null;
            });
            log.atInfo().addKeyValue("volume_id", id).addKeyValue("from_bytes", rec.sizeBytes())
                    .addKeyValue("to_bytes", sizeBytes).log("volume resized");
            return image(id.cluster(), rec.withSize(sizeBytes));
        }
    }

    // ------------------------------------------------------------------ list

    @Override
    public Page<Image> listImages(PageRequest page, Credentials credentials) throws StorageException {
        return list(Journal.Kind.VOLUME, page, credentials, Optional.empty(), (cluster, j, e) ->
                readVolume(j, e.uuid()).filter(JournalEntries.Volume::ready).map(r -> image(cluster, r)));
    }

    /** Reads one directory entry into an item, or empty to skip it. */
    @FunctionalInterface
    private interface Reader<T> {
        Optional<T> read(String clusterId, Journal journal, Journal.Entry entry) throws CephException, StorageException;
    }

    /** Where a listing may look: one cluster and journal pool (a filter), or everywhere. */
    private record Scope(String clusterId, long poolId) {
    }

    private <T> Page<T> list(Journal.Kind kind, PageRequest page, Credentials credentials, Optional<Scope> scope,
            Reader<T> reader) throws StorageException {
        Optional<PageToken> start = page.startToken().isEmpty() ? Optional.empty()
                : Optional.of(PageToken.decode(page.startToken()));
        if (start.isPresent() && config.cluster(start.get().clusterId()).isEmpty()) {
            throw new StorageException.InvalidToken("starting_token names a cluster this driver does not know");
        }
        int max = page.maxEntries() == 0 ? Integer.MAX_VALUE : page.maxEntries();
        List<T> items = new ArrayList<>();
        List<PageToken> positions = new ArrayList<>();
        boolean reachedStart = start.isEmpty();
        for (RbdConfig.Cluster c : config.clusters()) {
            if (scope.isPresent() && !scope.get().clusterId().equals(c.clusterID())) {
                continue;
            }
            if (!reachedStart && !c.clusterID().equals(start.get().clusterId())) {
                continue;
            }
            try (Ctx ctx = open(c.clusterID(), credentials)) {
                List<RadosPool> pools;
                try {
                    pools = scope.isPresent() ? List.of(ctx.journalPoolFor(scope.get().poolId())) : ctx.journalPools();
                } catch (StorageException.NotFound e) {
                    pools = List.of();
                }
                for (RadosPool pool : pools) {
                    String after = "";
                    if (!reachedStart) {
                        if (pool.id() < start.get().poolId()) {
                            continue;
                        }
                        if (pool.id() == start.get().poolId()) {
                            after = start.get().afterKey();
                        }
                        reachedStart = true;
                    }
                    Journal j = new Journal(pool, kind, config.instanceID());
                    while (items.size() <= max) {
                        boolean[] more = {false};
                        String from = after;
                        List<Journal.Entry> entries = ctx.callSkippingDenied("listing " + j.directoryObject() + " in pool "
                                + pool.name(), () -> j.list(from, 500, more)).orElse(List.of());
                        for (Journal.Entry e : entries) {
                            Optional<T> item = ctx.call("reading " + e.uuid(), () -> reader.read(c.clusterID(), j, e));
                            if (item.isPresent()) {
                                items.add(item.get());
                                positions.add(new PageToken(c.clusterID(), pool.id(), e.key()));
                                if (items.size() > max) {
                                    break;
                                }
                            }
                        }
                        if (!more[0] || entries.isEmpty()) {
                            break;
                        }
                        after = entries.get(entries.size() - 1).key();
                    }
                    if (items.size() > max) {
                        return new Page<>(items.subList(0, max), Optional.of(positions.get(max - 1).encode()));
                    }
                }
            }
        }
        return new Page<>(items, Optional.empty());
    }

    // ------------------------------------------------------------------ snapshots

    @Override
    public Snapshot createSnapshot(SnapshotSpec spec, Credentials credentials) throws StorageException {
        ObjectId source = spec.source();
        VolumeParams.rejectUnknown(spec.parameters(), List.of(VolumeParams.CLUSTER_ID));
        if (!ours(source)) {
            throw new StorageException.NotFound("source volume " + source + " does not exist");
        }
        String clusterParam = spec.parameters().get(VolumeParams.CLUSTER_ID);
        if (clusterParam != null && !clusterParam.equals(source.cluster())) {
            throw new StorageException.InvalidArgument("parameters.clusterID '" + clusterParam
                    + "' differs from the source volume's cluster '" + source.cluster() + "'");
        }
        try (KeyedLocks.Held held = locks.acquire("snapshot name " + spec.name());
                Ctx ctx = open(source.cluster(), credentials)) {
            RadosPool pool = ctx.poolById(source).orElseThrow(() -> new StorageException.NotFound("source volume "
                    + source + " does not exist"));
            JournalEntries.Volume src = ctx.call("reading volume " + source, () -> readVolume(ctx.volumes(pool),
                    source.uuid())).filter(JournalEntries.Volume::ready).orElse(null);
            Journal journal = ctx.snapshots(pool);
            Optional<JournalEntries.Snapshot> existing = ctx.call("looking up snapshot '" + spec.name() + "'", () -> {
                Optional<UUID> u = journal.lookup(spec.name());
                return u.isEmpty() ? Optional.<JournalEntries.Snapshot>empty() : readSnapshot(journal, u.get());
            });
            if (existing.isPresent()) {
                if (!existing.get().source().equals(source.encode())) {
                    throw new StorageException.Conflict("snapshot '" + spec.name() + "' exists for another source volume "
                            + existing.get().source());
                }
                if (existing.get().ready()) {
                    return snapshot(source.cluster(), existing.get());
                }
            }
            if (src == null) {
                throw new StorageException.NotFound("source volume " + source + " does not exist");
            }
            int depth = depth(ctx, pool, src.imageName()) + 1;
            checkDepth(ctx, new Source(Source.Kind.VOLUME, pool, src.imageName(), "", src.sizeBytes(), depth - 1),
                    depth);
            Instant now = clock.instant();
            JournalEntries.Snapshot rec = existing.isPresent() ? existing.get() : snapshotRecord(reserve(ctx, journal,
                    spec.name(), u -> new JournalEntries.Snapshot(u, spec.name(), SNAPSHOT_PREFIX + u, source.encode(),
                            pool.id(), src.sizeBytes(), spec.parameters(), now, false).fields(),
                    Point.RBD_SNAPSHOT_INTENT, Point.RBD_SNAPSHOT_RESERVED, Point.RBD_SNAPSHOT_NAME_BOUND),
                    spec, source, pool, src, now);
            ctx.call("cutting snapshot " + pool.name() + "/" + rec.imageName(), () -> {
                RbdImages images = pool.images();
                String snap = rec.imageName();
                if (!exists(images, rec.imageName())) {
                    try {
                        images.createSnapshot(src.imageName(), snap);
                    } catch (CephAlreadyExistsException e) {
                        // the attempt that died took it
                    }
                    Failpoints.hit(Point.RBD_SNAPSHOT_SOURCE_SNAPSHOTTED);
                    images.clone(src.imageName(), snap, rec.imageName(), snapshotImageOptions(src));
                    Failpoints.hit(Point.RBD_SNAPSHOT_CLONED);
                }
                removeSnapshotIfPresent(images, src.imageName(), snap);
                Failpoints.hit(Point.RBD_SNAPSHOT_SOURCE_SNAPSHOT_REMOVED);
                try {
                    images.createSnapshot(rec.imageName(), snap);
                } catch (CephAlreadyExistsException e) {
                    // cut by the attempt that died
                }
                Failpoints.hit(Point.RBD_SNAPSHOT_SNAPPED);
                journal.update(rec.uuid(), Map.of(JournalEntries.STATE, JournalEntries.READY));
                Failpoints.hit(Point.RBD_SNAPSHOT_COMMITTED);
                return null;
            });
            if (depth > config.softMaxCloneDepth()) {
                background.flatten(ctx.cluster(), ctx.creds(), pool.name(), rec.imageName(), depth);
            }
            log.atInfo().addKeyValue("name", spec.name()).addKeyValue("source_volume_id", source)
                    .addKeyValue("image", pool.name() + "/" + rec.imageName()).log("snapshot created");
            return snapshot(source.cluster(), rec.asReady());
        }
    }

    private JournalEntries.Snapshot snapshotRecord(UUID uuid, SnapshotSpec spec, ObjectId source, RadosPool pool,
            JournalEntries.Volume src, Instant now) {
        return new JournalEntries.Snapshot(uuid, spec.name(), SNAPSHOT_PREFIX + uuid, source.encode(), pool.id(),
                src.sizeBytes(), spec.parameters(), now, false);
    }

    /** A snapshot image keeps the source's features (parsed back from its parameters) and deep-flatten. */
    private ImageOptions snapshotImageOptions(JournalEntries.Volume src) {
        Set<RbdFeature> features = EnumSet.of(RbdFeature.LAYERING, RbdFeature.DEEP_FLATTEN);
        try {
            features.addAll(VolumeParams.features(src.parameters().getOrDefault(VolumeParams.IMAGE_FEATURES, "layering")));
        } catch (StorageException.InvalidArgument e) {
            // the source was created with valid features; fall back to layering
        }
        return ImageOptions.defaults().withFeatures(features);
    }

    @Override
    public Optional<Snapshot> findSnapshot(ObjectId id, Credentials credentials) throws StorageException {
        if (!ours(id) || id.kind() != ObjectId.Kind.SNAPSHOT) {
            return Optional.empty();
        }
        try (Ctx ctx = open(id.cluster(), credentials)) {
            Optional<RadosPool> pool = ctx.poolById(id);
            if (pool.isEmpty()) {
                return Optional.empty();
            }
            return ctx.call("reading snapshot " + id, () -> readSnapshot(ctx.snapshots(pool.get()), id.uuid()))
                    .filter(JournalEntries.Snapshot::ready).map(r -> snapshot(id.cluster(), r));
        }
    }

    @Override
    public void deleteSnapshot(ObjectId id, Credentials credentials) throws StorageException {
        if (!ours(id) || id.kind() != ObjectId.Kind.SNAPSHOT) {
            return;
        }
        try (KeyedLocks.Held held = locks.acquire("snapshot " + id); Ctx ctx = open(id.cluster(), credentials)) {
            Optional<RadosPool> pool = ctx.poolById(id);
            if (pool.isEmpty()) {
                return;
            }
            Journal journal = ctx.snapshots(pool.get());
            Optional<JournalEntries.Snapshot> rec = ctx.call("reading snapshot " + id,
                    () -> readSnapshot(journal, id.uuid()));
            String imageName = SNAPSHOT_PREFIX + id.uuid();
            ctx.call("deleting snapshot image " + pool.get().name() + "/" + imageName, () -> {
                RbdImages images = pool.get().images();
                if (rec.isPresent() && !rec.get().ready()) {
                    // an unfinished cut may have left its temporary snapshot on the source
                    try {
                        ObjectId src = ObjectId.parse(rec.get().source(), ObjectId.Kind.VOLUME);
                        removeSnapshotIfPresent(images, VOLUME_PREFIX + src.uuid(), imageName);
                    } catch (InvalidIdException e) {
                        throw new BadJournalException("snapshot " + id + " names a malformed source " + e.getMessage());
                    }
                }
                removeSnapshotIfPresent(images, imageName, imageName);
                Failpoints.hit(Point.RBD_SNAPSHOT_DELETE_SNAP_REMOVED);
                requireUnwatched(images, imageName, id);
                removeImage(images, imageName);
                Failpoints.hit(Point.RBD_SNAPSHOT_DELETE_IMAGE_REMOVED);
                if (rec.isPresent()) {
                    journal.unbindName(rec.get().name(), id.uuid());
                    Failpoints.hit(Point.RBD_SNAPSHOT_DELETE_NAME_RELEASED);
                    journal.removeRecord(id.uuid());
                    Failpoints.hit(Point.RBD_SNAPSHOT_DELETE_DONE);
                }
                return null;
            });
            background.purgeTrash(ctx.cluster(), ctx.creds(), pool.get().name());
            log.atInfo().addKeyValue("snapshot_id", id).log("snapshot deleted");
        }
    }

    @Override
    public Page<Snapshot> listSnapshots(Optional<ObjectId> source, Optional<ObjectId> id, PageRequest page,
            Credentials credentials) throws StorageException {
        if (id.isPresent()) {
            if (!page.startToken().isEmpty()) {
                PageToken.decode(page.startToken());
                return new Page<>(List.of(), Optional.empty());
            }
            Optional<Snapshot> s = findSnapshot(id.get(), credentials);
            return new Page<>(s.filter(x -> source.isEmpty() || x.source().equals(source.get())).stream().toList(),
                    Optional.empty());
        }
        if (source.isPresent() && (!ours(source.get()) || source.get().kind() != ObjectId.Kind.VOLUME)) {
            return new Page<>(List.of(), Optional.empty());
        }
        Optional<Scope> scope = source.map(s -> new Scope(s.cluster(), Long.parseUnsignedLong(s.pool(), 16)));
        String wanted = source.map(ObjectId::encode).orElse(null);
        if (source.isPresent() && !page.startToken().isEmpty()) {
            PageToken t = PageToken.decode(page.startToken());
            if (!t.clusterId().equals(scope.get().clusterId())) {
                throw new StorageException.InvalidToken("starting_token belongs to another listing");
            }
        }
        return list(Journal.Kind.SNAPSHOT, page, credentials, scope, (cluster, j, e) ->
                readSnapshot(j, e.uuid()).filter(JournalEntries.Snapshot::ready)
                        .filter(r -> wanted == null || r.source().equals(wanted)).map(r -> snapshot(cluster, r)));
    }

    // ------------------------------------------------------------------ node

    @Override
    public Attachment attach(ObjectId image, boolean readOnly, Credentials credentials) throws StorageException {
        if (!ours(image) || image.kind() != ObjectId.Kind.VOLUME) {
            throw new StorageException.NotFound("volume " + image + " does not exist");
        }
        Optional<Attachment> existing = node.find(image);
        if (existing.isPresent()) {
            return existing.get();
        }
        try (KeyedLocks.Held held = locks.acquire("attach " + image); Ctx ctx = open(image.cluster(), credentials)) {
            Optional<Attachment> again = node.find(image);
            if (again.isPresent()) {
                return again.get();
            }
            RadosPool pool = ctx.poolById(image).orElseThrow(() -> new StorageException.NotFound("volume " + image
                    + " does not exist"));
            JournalEntries.Volume rec = ctx.call("reading volume " + image, () -> readVolume(ctx.volumes(pool),
                    image.uuid())).filter(JournalEntries.Volume::ready).orElseThrow(() ->
                    new StorageException.NotFound("volume " + image + " does not exist"));
            Optional<Mounter> wanted = Optional.ofNullable(rec.parameters().get(VolumeParams.MOUNTER)).map(Mounter::parse);
            return node.attach(new AttachTarget(image, ctx.cluster().clusterID(), ctx.cluster().monitors(), pool.name(),
                    rec.imageName(), wanted, readOnly), ctx.creds());
        }
    }

    @Override
    public Optional<Attachment> findAttachment(ObjectId image) throws StorageException {
        if (!ours(image)) {
            return Optional.empty();
        }
        return node.find(image);
    }

    @Override
    public Attachment refreshAttachment(ObjectId image) throws StorageException {
        return node.refresh(image);
    }

    @Override
    public void detach(ObjectId image) throws StorageException {
        if (!ours(image)) {
            return;
        }
        try (KeyedLocks.Held held = locks.acquire("attach " + image)) {
            node.detach(image);
        }
    }

    @Override
    public List<Attachment> attachments() throws StorageException {
        return node.all();
    }

    /** The fallback credential of {@code clusterId}, for node healing; empty without a credential file. */
    Optional<CephCredentials> credentialFile(String clusterId) {
        Optional<RbdConfig.Cluster> c = config.cluster(clusterId);
        if (c.isEmpty() || c.get().credentialPath().isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(CredentialFile.read(c.get().credentialPath().get()));
        } catch (IOException e) {
            log.atError().addKeyValue("cluster_id", clusterId).addKeyValue("error", e.getMessage())
                    .log("cannot read the cluster's credential file");
            return Optional.empty();
        }
    }

    /** The background work, for tests that wait for it. */
    Background backgroundForTests() {
        return background;
    }

    @Override
    public void close() {
        background.close();
        sessions.close();
        node.close();
    }

    // ------------------------------------------------------------------ helpers

    /** True for a well-formed id of this backend and a configured cluster. */
    private boolean ours(ObjectId id) {
        return id.backend().equals(KIND) && config.cluster(id.cluster()).isPresent() && POOL_HEX.matcher(id.pool()).matches();
    }

    static String poolToken(long poolId) {
        return String.format("%016x", poolId);
    }

    private Image image(String clusterId, JournalEntries.Volume r) {
        ObjectId id = new ObjectId(ObjectId.Kind.VOLUME, KIND, clusterId, poolToken(r.poolId()), r.uuid());
        return new Image(id, r.name(), r.sizeBytes(), r.source().map(RbdBackend::decodeSource), r.parameters(),
                r.metadata(), r.created());
    }

    private Snapshot snapshot(String clusterId, JournalEntries.Snapshot r) {
        ObjectId id = new ObjectId(ObjectId.Kind.SNAPSHOT, KIND, clusterId, poolToken(r.poolId()), r.uuid());
        ObjectId source;
        try {
            source = ObjectId.parse(r.source(), ObjectId.Kind.VOLUME);
        } catch (InvalidIdException e) {
            throw new IllegalStateException("journal record of snapshot " + id + " has a malformed source", e);
        }
        return new Snapshot(id, r.name(), source, r.sizeBytes(), r.created(), r.ready());
    }

    static String encode(ContentSource s) {
        return s instanceof ContentSource.FromSnapshot fs ? fs.snapshot().encode()
                : ((ContentSource.FromImage) s).image().encode();
    }

    static ContentSource decodeSource(String text) {
        try {
            return text.startsWith("s") ? new ContentSource.FromSnapshot(ObjectId.parse(text, ObjectId.Kind.SNAPSHOT))
                    : new ContentSource.FromImage(ObjectId.parse(text, ObjectId.Kind.VOLUME));
        } catch (InvalidIdException e) {
            throw new IllegalStateException("journal record has a malformed content source", e);
        }
    }

    private static String describe(Optional<ContentSource> s) {
        return s.map(RbdBackend::encode).orElse("none");
    }

    /** A journal record that cannot be read; surfaces as Internal naming the record. */
    static final class BadJournalException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadJournalException(String message) {
            super(message);
        }
    }

    /** Resolves the credentials of a call: the request's secrets, else the cluster's credential file. */
    CephCredentials credentials(RbdConfig.Cluster cluster, Credentials creds) throws StorageException {
        if (!creds.isEmpty()) {
            Optional<String> user = creds.get(USER_ID);
            Optional<String> key = creds.get(USER_KEY);
            if (user.isEmpty() || key.isEmpty()) {
                throw new StorageException.PermissionDenied("the request's secrets must carry " + USER_ID + " and "
                        + USER_KEY + " (found keys " + new java.util.TreeSet<>(creds.asMap().keySet()) + ")", null);
            }
            try {
                return new CephCredentials(user.get(), key.get());
            } catch (IllegalArgumentException e) {
                throw new StorageException.PermissionDenied("the request's secrets are not a Ceph credential: "
                        + e.getMessage(), null);
            }
        }
        if (cluster.credentialPath().isEmpty()) {
            throw new StorageException.PermissionDenied("this call carries no secrets and cluster '" + cluster.clusterID()
                    + "' has no credentialFile in --ceph-config", null);
        }
        try {
            return CredentialFile.read(cluster.credentialPath().get());
        } catch (IOException e) {
            throw new StorageException.PermissionDenied("cluster '" + cluster.clusterID() + "': " + e.getMessage(), null);
        }
    }

    private Ctx open(String clusterId, Credentials creds) throws StorageException {
        RbdConfig.Cluster cluster = config.cluster(clusterId).orElseThrow(() ->
                new StorageException.NotFound("cluster '" + clusterId + "' is not in --ceph-config"));
        CephCredentials c = credentials(cluster, creds);
        return new Ctx(cluster, c, sessions.lease(cluster, c));
    }

    /** A call's leased session, with the helpers every operation needs. */
    private final class Ctx implements AutoCloseable {
        private final RbdConfig.Cluster cluster;
        private final CephCredentials creds;
        private final Sessions.Lease lease;

        Ctx(RbdConfig.Cluster cluster, CephCredentials creds, Sessions.Lease lease) {
            this.cluster = cluster;
            this.creds = creds;
            this.lease = lease;
        }

        RbdConfig.Cluster cluster() {
            return cluster;
        }

        CephCredentials creds() {
            return creds;
        }

        Sessions.Session session() {
            return lease.session();
        }

        /** Runs a Ceph call, mapping its failure once. */
        <T> T call(String doing, CephCall<T> body) throws StorageException {
            try {
                return body.call();
            } catch (BadJournalException e) {
                throw new StorageException.Internal(doing + ": " + e.getMessage(), e);
            } catch (CephException e) {
                if (Errors.blocklisted(e)) {
                    sessions.discard(lease.session());
                }
                throw Errors.map(e, doing + " in cluster '" + cluster.clusterID() + "'");
            }
        }

        /** Like {@link #call}, but a permission refusal (a pool this user may not read) gives empty. */
        <T> Optional<T> callSkippingDenied(String doing, CephCall<T> body) throws StorageException {
            try {
                return Optional.ofNullable(call(doing, () -> {
                    try {
                        return body.call();
                    } catch (CephPermissionDeniedException e) {
                        return null;
                    }
                }));
            } catch (StorageException.PermissionDenied e) {
                return Optional.empty();
            }
        }

        RadosPool imagePool(String name) throws StorageException {
            return imagePoolIfExists(name).orElseThrow(() -> new StorageException.InvalidArgument("parameters.pool '"
                    + name + "' does not exist in cluster '" + cluster.clusterID() + "'"));
        }

        Optional<RadosPool> imagePoolIfExists(String name) throws StorageException {
            try {
                return Optional.of(call("opening pool " + name, () -> session().pool(name)));
            } catch (StorageException.NotFound e) {
                return Optional.empty();
            }
        }

        /** The pool an id names, empty when it no longer exists. */
        Optional<RadosPool> poolById(ObjectId id) throws StorageException {
            long poolId = Long.parseUnsignedLong(id.pool(), 16);
            try {
                return Optional.of(call("opening pool id " + poolId, () -> session().pool(poolId)));
            } catch (StorageException.NotFound e) {
                return Optional.empty();
            }
        }

        private RadosPool journalPool(RadosPool imagePool) throws StorageException {
            if (cluster.journalPoolName().isEmpty()) {
                return imagePool;
            }
            return call("opening journal pool " + cluster.journalPoolName().get(),
                    () -> session().pool(cluster.journalPoolName().get()));
        }

        RadosPool journalPoolFor(long imagePoolId) throws StorageException {
            if (cluster.journalPoolName().isPresent()) {
                return journalPool(null);
            }
            return call("opening pool id " + imagePoolId, () -> session().pool(imagePoolId));
        }

        Journal volumes(RadosPool imagePool) throws StorageException {
            return new Journal(journalPool(imagePool), Journal.Kind.VOLUME, config.instanceID());
        }

        Journal snapshots(RadosPool imagePool) throws StorageException {
            return new Journal(journalPool(imagePool), Journal.Kind.SNAPSHOT, config.instanceID());
        }

        /** Every pool that may hold a journal of this cluster, by id. */
        List<RadosPool> journalPools() throws StorageException {
            if (cluster.journalPoolName().isPresent()) {
                return List.of(journalPool(null));
            }
            List<RadosPool> out = new ArrayList<>();
            for (String name : call("listing pools", () -> session().rados().poolNames())) {
                try {
                    out.add(call("opening pool " + name, () -> session().pool(name)));
                } catch (StorageException.NotFound | StorageException.PermissionDenied e) {
                    // deleted meanwhile, or not ours to read
                }
            }
            out.sort(Comparator.comparingLong(RadosPool::id));
            return out;
        }

        @Override
        public void close() {
            lease.close();
        }
    }

    /** A Ceph call; it may also decide a StorageException itself. */
    @FunctionalInterface
    private interface CephCall<T> {
        T call() throws CephException, StorageException;
    }
}
