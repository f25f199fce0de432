package dev.nodekit.csi.spi;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The seam between the CSI services and a storage system: pools of images with snapshots and
 * copy-on-write clones, capacity, health, and attaching an image to this node as a block device.
 * nodekit ships a local backend (sparse files on loop devices) and a Ceph RBD backend; users
 * implement it for their own storage. Every implementation must pass the contract test
 * ({@code StorageBackendContract} in the csi-driver test-jar).
 *
 * <p>Rules every implementation follows:
 * <ul>
 *   <li><b>Idempotent by name.</b> {@link #createImage} and {@link #createSnapshot} with a name that
 *       exists return the existing object when it is compatible (same size, source, parameters)
 *       and throw {@link StorageException.Conflict} otherwise. Compatibility compares the request
 *       the object was created for: a later resize does not make the original request
 *       incompatible. Deleting what does not exist succeeds.</li>
 *   <li><b>Crash-safe.</b> The name is reserved in a journal before anything is created, a failed
 *       create undoes what it did, and a repeated delete finishes a half-done one. After a crash
 *       and restart, objects exist exactly for the names whose create returned.</li>
 *   <li><b>Concurrent.</b> Calls for different names and ids run in parallel; the CSI layer already
 *       serialises calls on the same name or id, but a backend must not corrupt its state if two
 *       processes race (it may answer {@link StorageException.Pending}).</li>
 *   <li><b>No CSI or gRPC types</b>: only the records of this package. Secrets arrive as
 *       {@link Credentials} on every call that has them and are never logged.</li>
 *   <li>Ids are validated by {@link ObjectId#parse} before they reach a backend; a backend must still
 *       refuse ids of another backend or cluster with {@link StorageException.NotFound}.</li>
 * </ul>
 */
public interface StorageBackend extends AutoCloseable {

    /**
     * Abilities a backend may lack; the service layer advertises the CSI capabilities that rest on
     * them only when {@link #features()} has them (and answers UNIMPLEMENTED otherwise).
     */
    enum Feature {
        /**
         * Images live on the node that created them: volumes carry this node's topology, the plugin
         * advertises VOLUME_ACCESSIBILITY_CONSTRAINTS and CreateVolume honours requisite topology.
         * Without it (a network store such as Ceph) volumes are reachable from every node and carry
         * no topology.
         */
        NODE_LOCAL,
        /**
         * Calls that carry no CSI secrets work ({@link #listImages}, {@link #capacity} and
         * {@link #findImage} called with {@link Credentials#none()}): the service advertises
         * LIST_VOLUMES, GET_CAPACITY, GET_VOLUME and VOLUME_CONDITION only then. A backend that
         * needs credentials for every call has this only when it was given a fallback credential.
         */
        READS_WITHOUT_SECRETS
    }

    /** The backend kind encoded in ids ({@code local}, {@code rbd}). */
    String kind();

    /** What this backend can do beyond the interface's basics; the default is everything. */
    default Set<Feature> features() {
        return EnumSet.allOf(Feature.class);
    }

    /** Cheap health check for Probe; must not block for long (cache if needed). */
    Health health();

    /** The parameter keys {@link ImageSpec#parameters()} may hold; others are rejected by the service by name. */
    List<String> parameterKeys();

    /** Free space for a new image with these parameters (pool selection included). */
    Capacity capacity(Map<String, String> parameters, Credentials credentials) throws StorageException;

    /** Creates the image named {@code spec.name()} or returns the existing compatible one. */
    Image createImage(ImageSpec spec, Credentials credentials) throws StorageException;

    /** The image with this id, if it exists. */
    Optional<Image> findImage(ObjectId id, Credentials credentials) throws StorageException;

    /** The image created for request {@code name}, if any. */
    Optional<Image> findImageByName(String name, Credentials credentials) throws StorageException;

    /**
     * The image created for request {@code name}, looked up where a create with this pool and these
     * parameters would record it. Backends whose name journal is not global (RBD keeps one per
     * pool) override it to avoid searching every place; the default ignores the hint.
     */
    default Optional<Image> findImageByName(String name, Optional<String> pool, Map<String, String> parameters,
            Credentials credentials) throws StorageException {
        return findImageByName(name, credentials);
    }

    /**
     * Why the image is not usable although it exists (its data is gone, its storage reports an
     * error), for ControllerGetVolume's volume condition; empty when it is healthy. The default
     * knows of no such state.
     *
     * @throws StorageException.NotFound when the image does not exist
     */
    default Optional<String> imageCondition(ObjectId id, Credentials credentials) throws StorageException {
        if (findImage(id, credentials).isEmpty()) {
            throw new StorageException.NotFound("image " + id + " not found");
        }
        return Optional.empty();
    }

    /**
     * Deletes the image; succeeds when it does not exist. Snapshots of it stay usable (they are
     * independent of their source); an image that is attached somewhere fails with
     * {@link StorageException.FailedPrecondition}.
     */
    void deleteImage(ObjectId id, Credentials credentials) throws StorageException;

    /**
     * Grows the image to {@code sizeBytes}; the same size returns it unchanged, a smaller one (a
     * shrink) is refused with {@link StorageException.OutOfRange}. (CSI's "already at least that
     * big is OK" is the service layer's comparison before it calls this.)
     */
    Image resizeImage(ObjectId id, long sizeBytes, Credentials credentials) throws StorageException;

    /** Images in a stable order, one page at a time. */
    Page<Image> listImages(PageRequest page, Credentials credentials) throws StorageException;

    /** Cuts a snapshot named {@code spec.name()} or returns the existing one of the same source. */
    Snapshot createSnapshot(SnapshotSpec spec, Credentials credentials) throws StorageException;

    /** The snapshot with this id, if it exists. */
    Optional<Snapshot> findSnapshot(ObjectId id, Credentials credentials) throws StorageException;

    /** Deletes the snapshot; succeeds when it does not exist. */
    void deleteSnapshot(ObjectId id, Credentials credentials) throws StorageException;

    /**
     * Snapshots in a stable order, optionally only those of {@code source} or only {@code id}
     * (an unknown filter value gives an empty page, never NotFound).
     */
    Page<Snapshot> listSnapshots(Optional<ObjectId> source, Optional<ObjectId> id, PageRequest page,
            Credentials credentials) throws StorageException;

    /**
     * Attaches the image to this node as a block device, or returns the existing attachment.
     * {@code credentials} may be empty when the node plugin heals after a restart; a backend that
     * needs secrets then uses its configured fallback or fails with {@link StorageException.PermissionDenied}.
     */
    Attachment attach(ObjectId image, boolean readOnly, Credentials credentials) throws StorageException;

    /** The current attachment of the image on this node, if any (after checking it is still alive). */
    Optional<Attachment> findAttachment(ObjectId image) throws StorageException;

    /** Re-reads the image size into the attached device after a resize (e.g. {@code losetup -c}). */
    Attachment refreshAttachment(ObjectId image) throws StorageException;

    /** Detaches the image from this node; succeeds when it is not attached. */
    void detach(ObjectId image) throws StorageException;

    /** Every attachment this backend holds on this node, for reconciliation after a restart. */
    List<Attachment> attachments() throws StorageException;

    /** Releases connections and threads; attachments stay (they outlive the process). */
    @Override
    void close();
}
