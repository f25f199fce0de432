package dev.nodekit.csi.rbd.ceph;

import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.ByteByReference;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * One pool of a {@link RadosCluster} ({@code rados_ioctx_t}): object and omap operations, pool
 * statistics, and the pool's RBD images through {@link #images()}. Thread-safe like the cluster;
 * {@link #close()} waits for running calls. Object names and omap keys are UTF-8; values are bytes.
 */
public final class RadosPool implements AutoCloseable {
    /** Upper bound of entries one {@link #omapList} call may ask for. */
    public static final int MAX_OMAP_PAGE = 10_000;

    private final RadosCluster cluster;
    private final String name;
    private final Pointer ioctx;
    private final long id;
    private final HandleGuard guard;
    private final Librados rados;

    RadosPool(RadosCluster cluster, Librados rados, String name, Pointer ioctx, long id) {
        this.cluster = cluster;
        this.rados = rados;
        this.name = name;
        this.ioctx = ioctx;
        this.id = id;
        this.guard = new HandleGuard("pool " + name);
    }

    /** The pool name. */
    public String name() {
        return name;
    }

    /** The pool id (what volume ids carry: it survives pool renames). */
    public long id() {
        return id;
    }

    /** The connection this pool belongs to. */
    public RadosCluster cluster() {
        return cluster;
    }

    /** RBD image operations in this pool. */
    public RbdImages images() throws CephLibraryUnavailableException {
        return new RbdImages(this);
    }

    /**
     * Runs {@code op} atomically on object {@code oid}: all steps apply or none does.
     * {@link CephAlreadyExistsException} when an exclusive create finds the object,
     * {@link CephNotFoundException} when an existence check or remove does not.
     */
    public void write(String oid, WriteOp op) throws CephException {
        requireOid(oid);
        Objects.requireNonNull(op, "op");
        if (op.isEmpty()) {
            throw new IllegalArgumentException("write op on " + oid + " has no steps");
        }
        String what = "rados write pool=" + name + " object=" + oid + " " + op;
        call(io -> {
            Pointer w = rados.rados_create_write_op();
            List<NativeBuffers> keep = new ArrayList<>();
            try {
                for (WriteOp.Step s : op.steps()) {
                    add(w, s, keep);
                }
                return CephException.check(rados.rados_write_op_operate(w, io, oid, null, 0), what);
            } finally {
                rados.rados_release_write_op(w);
                Reference.reachabilityFence(keep);
            }
        });
    }

    private void add(Pointer w, WriteOp.Step s, List<NativeBuffers> keep) {
        if (s instanceof WriteOp.Create c) {
            rados.rados_write_op_create(w, c.exclusive() ? Librados.CREATE_EXCLUSIVE : Librados.CREATE_IDEMPOTENT, null);
        } else if (s instanceof WriteOp.AssertExists) {
            rados.rados_write_op_assert_exists(w);
        } else if (s instanceof WriteOp.OmapSet o) {
            NativeBuffers keys = NativeBuffers.ofStrings(new ArrayList<>(o.entries().keySet()));
            NativeBuffers vals = NativeBuffers.ofBytes(new ArrayList<>(o.entries().values()));
            keep.add(keys);
            keep.add(vals);
            rados.rados_write_op_omap_set2(w, keys.pointers(), vals.pointers(), keys.lengths(), vals.lengths(),
                    o.entries().size());
        } else if (s instanceof WriteOp.OmapRemove o) {
            NativeBuffers keys = NativeBuffers.ofStrings(o.keys());
            keep.add(keys);
            rados.rados_write_op_omap_rm_keys2(w, keys.pointers(), keys.lengths(), o.keys().size());
        } else if (s instanceof WriteOp.Remove) {
            rados.rados_write_op_remove(w);
        } else {
            throw new IllegalStateException("unknown write step " + s);
        }
    }

    /** Sets omap keys on {@code oid}, creating the object when needed. */
    public void omapSet(String oid, Map<String, byte[]> entries) throws CephException {
        write(oid, WriteOp.empty().omapSet(entries));
    }

    /** Removes omap keys from {@code oid}; absent keys are fine, an absent object is not (ENOENT). */
    public void omapRemove(String oid, Collection<String> keys) throws CephException {
        write(oid, WriteOp.empty().omapRemove(keys));
    }

    /**
     * The values of {@code keys} in {@code oid}'s omap, in the order asked; keys that are not set
     * are absent from the result. {@link CephNotFoundException} when the object does not exist.
     */
    public Map<String, byte[]> omapGet(String oid, Collection<String> keys) throws CephException {
        requireOid(oid);
        Objects.requireNonNull(keys, "keys");
        if (keys.isEmpty()) {
            return Map.of();
        }
        List<String> asked = List.copyOf(keys);
        String what = "rados omap get pool=" + name + " object=" + oid + " keys=" + asked;
        Map<String, byte[]> found = call(io -> {
            NativeBuffers k = NativeBuffers.ofStrings(asked);
            return readOmap(io, oid, what, (op, iter, prval) -> rados.rados_read_op_omap_get_vals_by_keys2(op,
                    k.pointers(), asked.size(), k.lengths(), iter, prval));
        });
        Map<String, byte[]> ordered = new LinkedHashMap<>();
        for (String key : asked) {
            byte[] v = found.get(key);
            if (v != null) {
                ordered.put(key, v);
            }
        }
        return Collections.unmodifiableMap(ordered);
    }

    /** The UTF-8 decoded values of {@code keys} (see {@link #omapGet}). */
    public Map<String, String> omapGetStrings(String oid, Collection<String> keys) throws CephException {
        Map<String, String> out = new LinkedHashMap<>();
        omapGet(oid, keys).forEach((k, v) -> out.put(k, new String(v, StandardCharsets.UTF_8)));
        return Collections.unmodifiableMap(out);
    }

    /**
     * Up to {@code maxEntries} omap entries of {@code oid} after key {@code startAfter} ("" for the
     * first page) whose keys start with {@code prefix} ("" for all), in key order.
     */
    public OmapPage omapList(String oid, String startAfter, String prefix, int maxEntries) throws CephException {
        requireOid(oid);
        Objects.requireNonNull(startAfter, "startAfter");
        Objects.requireNonNull(prefix, "prefix");
        if (maxEntries < 1 || maxEntries > MAX_OMAP_PAGE) {
            throw new IllegalArgumentException("maxEntries " + maxEntries + " must be between 1 and " + MAX_OMAP_PAGE);
        }
        String what = "rados omap list pool=" + name + " object=" + oid + " prefix=" + prefix;
        return call(io -> {
            ByteByReference more = new ByteByReference();
            Map<String, byte[]> entries = readOmap(io, oid, what, (op, iter, prval) ->
                    rados.rados_read_op_omap_get_vals2(op, startAfter, prefix, maxEntries, iter, more, prval));
            return new OmapPage(entries, more.getValue() != 0);
        });
    }

    /** Adds one omap read step to a read op. */
    @FunctionalInterface
    private interface OmapStep {
        void add(Pointer op, PointerByReference iter, IntByReference prval);
    }

    private Map<String, byte[]> readOmap(Pointer io, String oid, String what, OmapStep step) throws CephException {
        Pointer op = rados.rados_create_read_op();
        PointerByReference iterRef = new PointerByReference();
        IntByReference prval = new IntByReference();
        try {
            step.add(op, iterRef, prval);
            CephException.check(rados.rados_read_op_operate(op, io, oid, 0), what);
            CephException.check(prval.getValue(), what);
            Map<String, byte[]> out = new LinkedHashMap<>();
            PointerByReference key = new PointerByReference();
            PointerByReference val = new PointerByReference();
            LongByReference keyLen = new LongByReference();
            LongByReference valLen = new LongByReference();
            while (true) {
                CephException.check(rados.rados_omap_get_next2(iterRef.getValue(), key, val, keyLen, valLen), what);
                if (key.getValue() == null) {
                    break;
                }
                out.put(new String(NativeBuffers.copy(key.getValue(), keyLen.getValue()),
                        StandardCharsets.UTF_8), NativeBuffers.copy(val.getValue(), valLen.getValue()));
            }
            return out;
        } finally {
            // The iterator is allocated when the step is added, whatever the outcome of operate.
            if (iterRef.getValue() != null) {
                rados.rados_omap_get_end(iterRef.getValue());
            }
            rados.rados_release_read_op(op);
        }
    }

    /** Size and modification time of {@code oid}; {@link CephNotFoundException} when it does not exist. */
    public ObjectStat stat(String oid) throws CephException {
        requireOid(oid);
        return call(io -> {
            LongByReference size = new LongByReference();
            LongByReference mtime = new LongByReference();
            CephException.check(rados.rados_stat(io, oid, size, mtime), "rados stat pool=" + name + " object=" + oid);
            return new ObjectStat(size.getValue(), Instant.ofEpochSecond(mtime.getValue()));
        });
    }

    /** Removes {@code oid} with its omap; {@link CephNotFoundException} when it does not exist. */
    public void remove(String oid) throws CephException {
        write(oid, WriteOp.empty().remove());
    }

    /** The pool's usage as librados reports it (from ceph-mgr's PG statistics; see {@link PoolStats}). */
    public PoolStats stats() throws CephException {
        return call(io -> {
            Memory m = new Memory(RbdLayouts.POOL_STAT_SIZE);
            m.clear();
            CephException.check(rados.rados_ioctx_pool_stat(io, m), "rados pool stat pool=" + name);
            // num_bytes, num_kb, num_objects, num_object_clones, num_object_copies,
            // num_objects_missing_on_primary, num_objects_unfound, num_objects_degraded, num_rd, num_rd_kb,
            // num_wr, num_wr_kb, num_user_bytes, compressed_bytes_orig, compressed_bytes, compressed_bytes_alloc
            return new PoolStats(m.getLong(0), m.getLong(12 * 8), m.getLong(2 * 8), m.getLong(3 * 8),
                    m.getLong(4 * 8), m.getLong(7 * 8), m.getLong(6 * 8));
        });
    }

    /** True once this pool or its cluster was closed. */
    public boolean isClosed() {
        return guard.isClosed();
    }

    /** Releases the pool handle after running calls return. Idempotent; a no-op after the cluster closed. */
    @Override
    public void close() {
        cluster.releaseChild(this, () -> guard.close(() -> rados.rados_ioctx_destroy(ioctx)));
    }

    /** Called by the cluster, under its write lock, before it shuts down. */
    void closeWithCluster() {
        guard.close(() -> rados.rados_ioctx_destroy(ioctx));
    }

    /** A call that gets the pool's ioctx. */
    @FunctionalInterface
    interface IoCall<T> {
        T call(Pointer ioctx) throws CephException;
    }

    /** Runs {@code fn} with the ioctx while both the cluster and this pool are open (lock order: cluster, pool). */
    <T> T call(IoCall<T> fn) throws CephException {
        return cluster.use(() -> guard.run(() -> fn.call(ioctx)));
    }

    @Override
    public String toString() {
        return "RadosPool[" + name + " id=" + id + "]";
    }

    static void requireOid(String oid) {
        if (oid == null || oid.isEmpty() || oid.length() > 2048 || oid.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("object name '" + oid + "' must be 1 to 2048 characters without NUL");
        }
    }
}
