package dev.nodekit.csi.rbd.ceph;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * RBD image operations in one pool (librbd). Thread-safe: no librbd image handle outlives a
 * method; each method that needs one opens the image, works and closes it on the calling thread
 * (librbd image handles are not thread-safe). Reads open the image read-only, which registers no
 * watch, so they never show up in {@link #watchers}. Each method blocks for the librbd round trips
 * it needs, each bounded by the pool's {@link RadosConfig#osdOpTimeout()}.
 *
 * <p>Error mapping: a missing image or snapshot is {@link CephNotFoundException}; creating an
 * existing one {@link CephAlreadyExistsException}; removing an image with watchers
 * {@link CephBusyException}; removing an image with snapshots a plain {@link CephException} with
 * errno ENOTEMPTY.
 */
public final class RbdImages {
    private static final Logger log = LoggerFactory.getLogger(RbdImages.class);
    private static final int MAX_NAME_BYTES = 4096;

    private final RadosPool pool;
    private final Librbd rbd;

    RbdImages(RadosPool pool) throws CephLibraryUnavailableException {
        this.pool = pool;
        this.rbd = CephNative.rbd();
    }

    /** The pool these images live in. */
    public RadosPool pool() {
        return pool;
    }

    // ---- images

    /** Creates image {@code name} of {@code sizeBytes}; {@link CephAlreadyExistsException} when it exists. */
    public void create(String name, long sizeBytes, ImageOptions options) throws CephException {
        requireName("image", name);
        requireSize(sizeBytes);
        Objects.requireNonNull(options, "options");
        String what = what("rbd create", name) + " size=" + sizeBytes;
        timed(what, () -> pool.call(io -> withOptions(options, false, what, opts ->
                CephException.check(rbd.rbd_create4(io, name, sizeBytes, opts), what))));
    }

    /**
     * Removes image {@code name} and its data. {@link CephBusyException} while it has watchers,
     * ENOTEMPTY while it has snapshots, {@link CephNotFoundException} when it does not exist.
     */
    public void remove(String name) throws CephException {
        requireName("image", name);
        String what = what("rbd remove", name);
        timed(what, () -> pool.call(io -> {
            int rc = rbd.rbd_remove(io, name);
            if (rc == -Errno.ENOTEMPTY) {
                throw CephException.fromReturnCode(rc, what, "the image still has snapshots");
            }
            if (rc == -Errno.EBUSY) {
                throw CephException.fromReturnCode(rc, what, "the image still has watchers (attached or mapped somewhere)");
            }
            return CephException.check(rc, what);
        }));
    }

    /** The images of the pool (not those in the trash), as id and name. */
    public List<ImageRef> list() throws CephException {
        String what = "rbd list pool=" + pool.name();
        return pool.call(io -> listing(what, RbdLayouts.IMAGE_SPEC_SIZE, 64,
                (mem, max) -> rbd.rbd_list2(io, mem, max),
                (mem, n) -> RbdLayouts.imageSpecs(mem, n),
                (mem, n) -> rbd.rbd_image_spec_list_cleanup(mem, n)));
    }

    /** Size, id, features and clone parent of image {@code name}. */
    public ImageInfo stat(String name) throws CephException {
        requireName("image", name);
        String what = what("rbd stat", name);
        return readOnly(name, null, what, img -> {
            Memory info = new Memory(RbdLayouts.IMAGE_INFO_SIZE);
            info.clear();
            CephException.check(rbd.rbd_stat(img, info, RbdLayouts.IMAGE_INFO_SIZE), what);
            LongByReference features = new LongByReference();
            CephException.check(rbd.rbd_get_features(img, features), what);
            return new ImageInfo(name, imageId(img, what), info.getLong(0), info.getLong(8), info.getLong(16),
                    info.getInt(24), RbdFeature.fromMask(features.getValue()), parent(img, what));
        });
    }

    /**
     * The clone parent of the image with id {@code imageId}, empty for a non-clone. Works for
     * images in the trash too (they cannot be opened by name): a clone chain is walked this way.
     */
    public Optional<ParentRef> parentById(String imageId) throws CephException {
        requireName("image id", imageId);
        String what = "rbd parent pool=" + pool.name() + " image-id=" + imageId;
        return pool.call(io -> {
            PointerByReference ref = new PointerByReference();
            CephException.check(rbd.rbd_open_by_id_read_only(io, imageId, ref, null), what);
            Pointer img = ref.getValue();
            try {
                return parent(img, what);
            } finally {
                int crc = rbd.rbd_close(img);
                if (crc < 0) {
                    log.atWarn().addKeyValue("pool", pool.name()).addKeyValue("image_id", imageId)
                            .addKeyValue("errno", Errno.name(-crc)).log("rbd close failed");
                }
            }
        });
    }

    /** The id of image {@code name} (stable across renames and the trash). */
    public String id(String name) throws CephException {
        requireName("image", name);
        String what = what("rbd id", name);
        return readOnly(name, null, what, img -> imageId(img, what));
    }

    /** The size of image {@code name} in bytes. */
    public long size(String name) throws CephException {
        requireName("image", name);
        String what = what("rbd size", name);
        return readOnly(name, null, what, img -> {
            LongByReference size = new LongByReference();
            CephException.check(rbd.rbd_get_size(img, size), what);
            return size.getValue();
        });
    }

    /**
     * Resizes image {@code name} to {@code sizeBytes}. Shrinking needs {@code allowShrink}
     * (otherwise EINVAL): it discards the data beyond the new end.
     */
    public void resize(String name, long sizeBytes, boolean allowShrink) throws CephException {
        requireName("image", name);
        requireSize(sizeBytes);
        String what = what("rbd resize", name) + " size=" + sizeBytes;
        timed(what, () -> readWrite(name, what, img -> {
            int rc = rbd.rbd_resize2(img, sizeBytes, allowShrink, Librbd.NO_PROGRESS, null);
            if (rc == -Errno.EINVAL && !allowShrink) {
                throw CephException.fromReturnCode(rc, what, "shrinking needs allowShrink");
            }
            return CephException.check(rc, what);
        }));
    }

    // ---- snapshots

    /** Creates snapshot {@code snap} of image {@code image} and returns its id. */
    public long createSnapshot(String image, String snap) throws CephException {
        requireName("image", image);
        requireName("snapshot", snap);
        String what = what("rbd snap create", image) + " snap=" + snap;
        return timed(what, () -> readWrite(image, what, img -> {
            CephException.check(rbd.rbd_snap_create(img, snap), what);
            LongByReference id = new LongByReference();
            CephException.check(rbd.rbd_snap_get_id(img, snap, id), what);
            return id.getValue();
        }));
    }

    /**
     * Removes snapshot {@code snap}. A snapshot with clone-v2 children is not refused: librbd
     * moves it to the {@link SnapshotNamespace#TRASH} namespace until the last child is flattened
     * or removed.
     */
    public void removeSnapshot(String image, String snap) throws CephException {
        requireName("image", image);
        requireName("snapshot", snap);
        String what = what("rbd snap remove", image) + " snap=" + snap;
        timed(what, () -> readWrite(image, what, img -> CephException.check(rbd.rbd_snap_remove(img, snap), what)));
    }

    /** Removes the snapshot with id {@code snapId} (any namespace, e.g. a trashed one). */
    public void removeSnapshotById(String image, long snapId) throws CephException {
        requireName("image", image);
        String what = what("rbd snap remove", image) + " snap-id=" + snapId;
        timed(what, () -> readWrite(image, what, img -> CephException.check(rbd.rbd_snap_remove_by_id(img, snapId), what)));
    }

    /** The snapshots of image {@code image}, all namespaces, in id order. */
    public List<SnapshotInfo> listSnapshots(String image) throws CephException {
        requireName("image", image);
        String what = what("rbd snap list", image);
        return readOnly(image, null, what, img -> {
            List<RbdLayouts.RawSnap> raw = rawSnapshots(img, what);
            List<SnapshotInfo> out = new ArrayList<>(raw.size());
            for (RbdLayouts.RawSnap s : raw) {
                IntByReference type = new IntByReference();
                CephException.check(rbd.rbd_snap_get_namespace_type(img, s.id(), type), what);
                SnapshotNamespace ns = SnapshotNamespace.of(type.getValue());
                Optional<String> original = Optional.empty();
                if (ns == SnapshotNamespace.TRASH) {
                    original = RbdLayouts.optional(growing(what, 256, buf ->
                            rbd.rbd_snap_get_trash_namespace(img, s.id(), buf, buf.length)));
                }
                out.add(new SnapshotInfo(s.id(), s.name(), s.size(), ns, original));
            }
            return List.copyOf(out);
        });
    }

    private List<RbdLayouts.RawSnap> rawSnapshots(Pointer img, String what) throws CephException {
        int max = 16;
        while (true) {
            Memory mem = new Memory((long) max * RbdLayouts.SNAP_INFO_SIZE);
            mem.clear();
            IntByReference n = new IntByReference(max);
            int rc = rbd.rbd_snap_list(img, mem, n);
            if (rc == -Errno.ERANGE) {
                max = Math.max(n.getValue(), max * 2);
                continue;
            }
            CephException.check(rc, what);
            try {
                return RbdLayouts.snapInfos(mem, rc);
            } finally {
                rbd.rbd_snap_list_end(mem);
            }
        }
    }

    // ---- clones

    /**
     * Clones snapshot {@code snap} of {@code parent} into a new image {@code child} of this pool
     * (clone format 2: the snapshot needs no protection). The child's features default to the
     * parent's and must include layering.
     */
    public void clone(String parent, String snap, String child, ImageOptions options) throws CephException {
        cloneInto(parent, snap, this, child, options);
    }

    /** Like {@link #clone(String, String, String, ImageOptions)}, with the child in {@code target}'s pool. */
    public void cloneInto(String parent, String snap, RbdImages target, String child, ImageOptions options)
            throws CephException {
        requireName("image", parent);
        requireName("snapshot", snap);
        requireName("image", child);
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(options, "options");
        String what = what("rbd clone", parent) + " snap=" + snap + " child=" + target.pool.name() + "/" + child;
        timed(what, () -> pool.call(parentIo -> target.pool.call(childIo -> withOptions(options, true, what, opts ->
                CephException.check(rbd.rbd_clone3(parentIo, parent, snap, childIo, child, opts), what)))));
    }

    /** Copies the parent's data into clone {@code name} and detaches it from its parent. */
    public void flatten(String name) throws CephException {
        requireName("image", name);
        String what = what("rbd flatten", name);
        timed(what, () -> readWrite(name, what, img -> CephException.check(rbd.rbd_flatten(img), what)));
    }

    /** The clones of snapshot {@code snap} of {@code image} (all namespaces of the snapshot's pool). */
    public List<LinkedImage> children(String image, String snap) throws CephException {
        requireName("image", image);
        requireName("snapshot", snap);
        String what = what("rbd children", image) + " snap=" + snap;
        return readOnly(image, snap, what, img -> listing(what, RbdLayouts.LINKED_IMAGE_SPEC_SIZE, 16,
                (mem, max) -> rbd.rbd_list_children3(img, mem, max),
                (mem, n) -> RbdLayouts.linkedImageSpecs(mem, n),
                (mem, n) -> rbd.rbd_linked_image_spec_list_cleanup(mem, n)));
    }

    // ---- trash

    /**
     * Moves image {@code name} to the pool's trash; a non-forced {@link #removeFromTrash} is refused
     * until {@code deferment} has passed. Works on images with snapshots and watchers-free clones'
     * parents alike, which is why CSI deletes go through the trash.
     */
    public void moveToTrash(String name, Duration deferment) throws CephException {
        requireName("image", name);
        Objects.requireNonNull(deferment, "deferment");
        if (deferment.isNegative()) {
            throw new IllegalArgumentException("deferment " + deferment + " must not be negative");
        }
        String what = what("rbd trash move", name);
        timed(what, () -> pool.call(io -> CephException.check(rbd.rbd_trash_move(io, name, deferment.getSeconds()), what)));
    }

    /** The images in the pool's trash. */
    public List<TrashEntry> listTrash() throws CephException {
        String what = "rbd trash list pool=" + pool.name();
        return pool.call(io -> listing(what, RbdLayouts.TRASH_INFO_SIZE, 16,
                (mem, max) -> {
                    int rc = rbd.rbd_trash_list(io, mem, max);
                    return rc < 0 ? rc : 0;
                },
                (mem, n) -> RbdLayouts.trashInfos(mem, n),
                (mem, n) -> rbd.rbd_trash_list_cleanup(mem, n)));
    }

    /** Deletes image {@code id} from the trash; {@code force} ignores the deferment. */
    public void removeFromTrash(String id, boolean force) throws CephException {
        requireName("image id", id);
        String what = "rbd trash remove pool=" + pool.name() + " id=" + id;
        timed(what, () -> pool.call(io -> {
            int rc = rbd.rbd_trash_remove(io, id, force);
            if (rc == -Errno.EPERM && !force) {
                // librbd's EPERM here means "deferment not expired", not missing caps.
                throw CephException.unmapped(rc, what, "the trash deferment has not expired (use force)");
            }
            if (rc == -Errno.ENOTEMPTY) {
                throw CephException.fromReturnCode(rc, what, "the image still has snapshots");
            }
            return CephException.check(rc, what);
        }));
    }

    // ---- metadata

    /** Sets image metadata {@code key} (as {@code rbd image-meta set}). */
    public void setMetadata(String image, String key, String value) throws CephException {
        requireName("image", image);
        requireName("metadata key", key);
        Objects.requireNonNull(value, "value");
        String what = what("rbd metadata set", image) + " key=" + key;
        readWrite(image, what, img -> CephException.check(rbd.rbd_metadata_set(img, key, value), what));
    }

    /** Image metadata {@code key}, empty when it is not set. */
    public Optional<String> getMetadata(String image, String key) throws CephException {
        requireName("image", image);
        requireName("metadata key", key);
        String what = what("rbd metadata get", image) + " key=" + key;
        return readOnly(image, null, what, img -> {
            int size = 256;
            while (true) {
                byte[] buf = new byte[size];
                LongByReference len = new LongByReference(size);
                int rc = rbd.rbd_metadata_get(img, key, buf, len);
                if (rc == -Errno.ENOENT) {
                    return Optional.empty();
                }
                if (rc == -Errno.ERANGE && len.getValue() > size && len.getValue() <= Integer.MAX_VALUE - 8) {
                    size = (int) len.getValue();
                    continue;
                }
                CephException.check(rc, what);
                return Optional.of(RbdLayouts.cString(buf));
            }
        });
    }

    /** Removes image metadata {@code key}; {@link CephNotFoundException} when it is not set. */
    public void removeMetadata(String image, String key) throws CephException {
        requireName("image", image);
        requireName("metadata key", key);
        String what = what("rbd metadata remove", image) + " key=" + key;
        readWrite(image, what, img -> CephException.check(rbd.rbd_metadata_remove(img, key), what));
    }

    // ---- in-use checks

    /** The clients that have image {@code image} open (mapped, attached through rbd-fuse, ...). */
    public List<Watcher> watchers(String image) throws CephException {
        requireName("image", image);
        String what = what("rbd watchers", image);
        return readOnly(image, null, what, img -> listing(what, RbdLayouts.WATCHER_SIZE, 8,
                (mem, max) -> rbd.rbd_watchers_list(img, mem, max),
                (mem, n) -> RbdLayouts.watchers(mem, n),
                (mem, n) -> rbd.rbd_watchers_list_cleanup(mem, n)));
    }

    // ---- helpers

    /** Work done with an open image handle. */
    @FunctionalInterface
    private interface ImageCall<T> {
        T call(Pointer image) throws CephException;
    }

    private <T> T readOnly(String name, String snap, String what, ImageCall<T> body) throws CephException {
        return withImage(name, snap, true, what, body);
    }

    private <T> T readWrite(String name, String what, ImageCall<T> body) throws CephException {
        return withImage(name, null, false, what, body);
    }

    private <T> T withImage(String name, String snap, boolean readOnly, String what, ImageCall<T> body)
            throws CephException {
        return pool.call(io -> {
            PointerByReference ref = new PointerByReference();
            int rc = readOnly ? rbd.rbd_open_read_only(io, name, ref, snap) : rbd.rbd_open(io, name, ref, snap);
            CephException.check(rc, what);
            Pointer img = ref.getValue();
            try {
                return body.call(img);
            } finally {
                int crc = rbd.rbd_close(img);
                if (crc < 0) {
                    // The operation's outcome is already decided; a failed close (e.g. the unwatch timing
                    // out during an outage) only leaves a watch the OSD drops after its timeout.
                    log.atWarn().addKeyValue("pool", pool.name()).addKeyValue("image", name)
                            .addKeyValue("errno", Errno.name(-crc)).log("rbd close failed");
                }
            }
        });
    }

    /** Work done with image options. */
    @FunctionalInterface
    private interface OptionsCall<T> {
        T call(Pointer opts) throws CephException;
    }

    private <T> T withOptions(ImageOptions options, boolean clone, String what, OptionsCall<T> body)
            throws CephException {
        PointerByReference ref = new PointerByReference();
        rbd.rbd_image_options_create(ref);
        Pointer opts = ref.getValue();
        try {
            CephException.check(rbd.rbd_image_options_set_uint64(opts, Librbd.RBD_IMAGE_OPTION_FORMAT, 2), what);
            if (clone) {
                CephException.check(rbd.rbd_image_options_set_uint64(opts, Librbd.RBD_IMAGE_OPTION_CLONE_FORMAT, 2), what);
            }
            if (options.features().isPresent()) {
                CephException.check(rbd.rbd_image_options_set_uint64(opts, Librbd.RBD_IMAGE_OPTION_FEATURES,
                        RbdFeature.mask(options.features().get())), what);
            }
            if (options.order().isPresent()) {
                CephException.check(rbd.rbd_image_options_set_uint64(opts, Librbd.RBD_IMAGE_OPTION_ORDER,
                        options.order().getAsInt()), what);
            }
            if (options.dataPool().isPresent()) {
                CephException.check(rbd.rbd_image_options_set_string(opts, Librbd.RBD_IMAGE_OPTION_DATA_POOL,
                        options.dataPool().get()), what);
            }
            return body.call(opts);
        } finally {
            rbd.rbd_image_options_destroy(opts);
        }
    }

    /** Fills a caller-allocated struct array; returns 0 or a negative errno (ERANGE sets the needed count). */
    @FunctionalInterface
    private interface Fill {
        int call(Memory array, LongByReference count);
    }

    /** Decodes {@code n} structs. */
    @FunctionalInterface
    private interface Decode<T> {
        List<T> decode(Memory array, int n);
    }

    /** Frees the strings librbd put into {@code n} structs. */
    @FunctionalInterface
    private interface Cleanup {
        void free(Memory array, long n);
    }

    /** The size_t-count list protocol of rbd_list2, rbd_list_children3, rbd_watchers_list, rbd_trash_list. */
    private static <T> List<T> listing(String what, int structSize, int initial, Fill fill, Decode<T> decode,
            Cleanup cleanup) throws CephException {
        long max = initial;
        while (true) {
            Memory mem = new Memory(max * structSize);
            mem.clear();
            LongByReference count = new LongByReference(max);
            int rc = fill.call(mem, count);
            if (rc == -Errno.ERANGE) {
                max = Math.max(count.getValue(), max * 2);
                continue;
            }
            CephException.check(rc, what);
            long n = count.getValue();
            try {
                return decode.decode(mem, Math.toIntExact(n));
            } finally {
                cleanup.free(mem, n);
            }
        }
    }

    /** Fills a char buffer; returns 0 or a negative errno (ERANGE: too small). */
    @FunctionalInterface
    private interface FillString {
        int call(byte[] buf);
    }

    private static String growing(String what, int initial, FillString fill) throws CephException {
        for (int size = initial; size <= MAX_NAME_BYTES; size *= 2) {
            byte[] buf = new byte[size];
            int rc = fill.call(buf);
            if (rc == -Errno.ERANGE) {
                continue;
            }
            CephException.check(rc, what);
            return RbdLayouts.cString(buf);
        }
        throw CephException.fromReturnCode(-Errno.ERANGE, what, "name longer than " + MAX_NAME_BYTES + " bytes");
    }

    private String imageId(Pointer img, String what) throws CephException {
        return growing(what, 64, buf -> rbd.rbd_get_id(img, buf, buf.length));
    }

    private Optional<ParentRef> parent(Pointer img, String what) throws CephException {
        Memory image = new Memory(RbdLayouts.LINKED_IMAGE_SPEC_SIZE);
        Memory snap = new Memory(RbdLayouts.SNAP_SPEC_SIZE);
        image.clear();
        snap.clear();
        int rc = rbd.rbd_get_parent(img, image, snap);
        if (rc == -Errno.ENOENT) {
            return Optional.empty();
        }
        CephException.check(rc, what);
        try {
            return Optional.of(new ParentRef(RbdLayouts.linkedImageSpec(image, 0), RbdLayouts.snapSpec(snap)));
        } finally {
            rbd.rbd_linked_image_spec_cleanup(image);
            rbd.rbd_snap_spec_cleanup(snap);
        }
    }

    /** A mutating call, timed at DEBUG. */
    @FunctionalInterface
    private interface Mutation<T> {
        T run() throws CephException;
    }

    private <T> T timed(String what, Mutation<T> m) throws CephException {
        long start = System.nanoTime();
        T result = m.run();
        log.atDebug().addKeyValue("op", what).addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000)
                .log("rbd operation done");
        return result;
    }

    private String what(String op, String image) {
        return op + " pool=" + pool.name() + " image=" + image;
    }

    private static void requireName(String kind, String name) {
        if (name == null || name.isEmpty() || name.length() > 1024 || name.indexOf('\0') >= 0
                || (kind.equals("image") && name.indexOf('/') >= 0) || (kind.equals("snapshot") && name.indexOf('@') >= 0)) {
            throw new IllegalArgumentException(kind + " name '" + name
                    + "' must be 1 to 1024 characters without NUL (image names without '/', snapshot names without '@')");
        }
    }

    private static void requireSize(long sizeBytes) {
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("image size " + sizeBytes + " must be positive");
        }
    }
}
