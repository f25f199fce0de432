package dev.nodekit.csi.rbd.ceph;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.ByteByReference;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The librados C functions nodekit calls (librados.h, Ceph 16.2 / LIBRADOS 3.0), bound through JNA
 * interface mapping. {@code size_t}, {@code time_t} and {@code uint64_t} are {@code long}
 * ({@link CephNative} refuses to load on a platform where {@code size_t} is not 64 bits).
 */
interface Librados extends Library {
    /** LIBRADOS_CREATE_EXCLUSIVE for {@link #rados_write_op_create}. */
    int CREATE_EXCLUSIVE = 1;
    /** LIBRADOS_CREATE_IDEMPOTENT for {@link #rados_write_op_create}. */
    int CREATE_IDEMPOTENT = 0;

    int rados_create2(PointerByReference cluster, String clusterName, String name, long flags);

    int rados_conf_set(Pointer cluster, String option, String value);

    int rados_connect(Pointer cluster);

    void rados_shutdown(Pointer cluster);

    int rados_cluster_fsid(Pointer cluster, byte[] buf, long len);

    long rados_get_instance_id(Pointer cluster);

    /** struct rados_cluster_stat_t: 4 x uint64 (kb, kb_used, kb_avail, num_objects). */
    int rados_cluster_stat(Pointer cluster, Memory result);

    long rados_pool_lookup(Pointer cluster, String poolName);

    int rados_ioctx_create(Pointer cluster, String poolName, PointerByReference ioctx);

    int rados_ioctx_create2(Pointer cluster, long poolId, PointerByReference ioctx);

    /** Fills {@code buf} with NUL-terminated pool names ending in an empty one; returns the length needed. */
    int rados_pool_list(Pointer cluster, byte[] buf, long len);

    int rados_pool_reverse_lookup(Pointer cluster, long poolId, byte[] buf, long maxLen);

    void rados_ioctx_destroy(Pointer ioctx);

    long rados_ioctx_get_id(Pointer ioctx);

    /** struct rados_pool_stat_t: 16 x uint64 (the LIBRADOS_14.2.0 layout, the default symbol). */
    int rados_ioctx_pool_stat(Pointer ioctx, Memory stats);

    int rados_mon_command(Pointer cluster, String[] cmd, long cmdLen, Pointer inBuf, long inBufLen,
            PointerByReference outBuf, LongByReference outBufLen, PointerByReference outs, LongByReference outsLen);

    void rados_buffer_free(Pointer buf);

    int rados_stat(Pointer ioctx, String oid, LongByReference size, LongByReference mtime);

    // ---- write operations (one atomic compound operation on one object)

    Pointer rados_create_write_op();

    void rados_release_write_op(Pointer op);

    void rados_write_op_assert_exists(Pointer op);

    void rados_write_op_create(Pointer op, int exclusive, String category);

    void rados_write_op_remove(Pointer op);

    void rados_write_op_omap_set2(Pointer op, Pointer keys, Pointer vals, Pointer keyLens, Pointer valLens, long num);

    void rados_write_op_omap_rm_keys2(Pointer op, Pointer keys, Pointer keyLens, long num);

    int rados_write_op_operate(Pointer op, Pointer ioctx, String oid, Pointer mtime, int flags);

    // ---- read operations

    Pointer rados_create_read_op();

    void rados_release_read_op(Pointer op);

    void rados_read_op_omap_get_vals2(Pointer op, String startAfter, String filterPrefix, long maxReturn,
            PointerByReference iter, ByteByReference more, IntByReference prval);

    void rados_read_op_omap_get_vals_by_keys2(Pointer op, Pointer keys, long numKeys, Pointer keyLens,
            PointerByReference iter, IntByReference prval);

    int rados_read_op_operate(Pointer op, Pointer ioctx, String oid, int flags);

    int rados_omap_get_next2(Pointer iter, PointerByReference key, PointerByReference val, LongByReference keyLen,
            LongByReference valLen);

    void rados_omap_get_end(Pointer iter);
}
