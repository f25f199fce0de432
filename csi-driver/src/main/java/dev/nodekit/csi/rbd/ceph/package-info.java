/**
 * In-process access to Ceph for the RBD backend: librados and librbd called through JNA. Public
 * only so the backend package can use it; it is internal to the RBD backend, not an API for
 * plugin authors, and may change with it. It knows nothing about CSI: it takes names and returns
 * its own records.
 *
 * <h2>Why bind the C API directly</h2>
 * The backend's latency target (CreateVolume within 1.2x of one {@code rbd create}, journal
 * included) rules out a process per step, and {@code com.ceph:rados} lacks omap, image metadata and
 * the trash. {@link dev.nodekit.csi.rbd.ceph.Librados} and {@link dev.nodekit.csi.rbd.ceph.Librbd}
 * declare exactly the functions used (Ceph 16.2 headers); struct layouts are spelled out in
 * {@code RbdLayouts}. The libraries ({@code librados.so.2}, {@code librbd.so.1}) are loaded on
 * first use; a host without them gets {@link dev.nodekit.csi.rbd.ceph.CephLibraryUnavailableException}
 * naming the package to install.
 *
 * <h2>Objects and threads</h2>
 * <ul>
 *   <li>{@link dev.nodekit.csi.rbd.ceph.RadosCluster} is one {@code rados_t}: one user on one
 *       cluster. Thread-safe; share it between requests of the same user.</li>
 *   <li>{@link dev.nodekit.csi.rbd.ceph.RadosPool} is one {@code rados_ioctx_t}: omap, object and
 *       pool-stat calls. Thread-safe. {@link dev.nodekit.csi.rbd.ceph.WriteOp} composes an atomic
 *       multi-step write (exclusive create + omap set is how a journal reserves a name).</li>
 *   <li>{@link dev.nodekit.csi.rbd.ceph.RbdImages} wraps librbd for a pool. librbd image handles
 *       are not thread-safe, so none escapes a method: each opens, works, closes.</li>
 *   <li>Closing waits for running calls (a read-write lock per handle; lock order cluster, then
 *       pool), because a call on a freed native handle would crash the JVM, not throw.</li>
 * </ul>
 *
 * <h2>Blocking and outages</h2>
 * Every call blocks its thread in native code. {@link dev.nodekit.csi.rbd.ceph.RadosConfig} sets
 * {@code client_mount_timeout}, {@code rados_osd_op_timeout} and {@code rados_mon_op_timeout}, so
 * when the cluster is down a call fails with {@link dev.nodekit.csi.rbd.ceph.CephUnavailableException}
 * (ETIMEDOUT) after about one timeout (a librbd call issues a few operations; each is bounded)
 * instead of hanging; no Java thread is started or left behind. When the cluster comes back the
 * same handle serves new calls: librados keeps looking for a monitor (at most 6 s apart: the
 * back-off, 30 s by default, is capped) and follows the new OSD map. A blocklisted client must
 * reconnect ({@link dev.nodekit.csi.rbd.ceph.RadosCluster#reconnect()}).
 *
 * <h2>Errors</h2>
 * A negative return code becomes a checked {@link dev.nodekit.csi.rbd.ceph.CephException} carrying
 * the errno and "what" (operation, pool, image/object names): ENOENT is
 * {@link dev.nodekit.csi.rbd.ceph.CephNotFoundException}, EEXIST
 * {@link dev.nodekit.csi.rbd.ceph.CephAlreadyExistsException}, EPERM/EACCES
 * {@link dev.nodekit.csi.rbd.ceph.CephPermissionDeniedException}, ETIMEDOUT/ENOTCONN/ESHUTDOWN
 * (and connection refusals) {@link dev.nodekit.csi.rbd.ceph.CephUnavailableException}, EBUSY
 * {@link dev.nodekit.csi.rbd.ceph.CephBusyException}. Wrong credentials are refused by the
 * monitors at once (EACCES) when the monitor addresses carry a {@code v1:}/{@code v2:} prefix; with
 * a bare {@code host:port} librados also tries the other protocol on that port and only gives up at
 * the connect timeout (ETIMEDOUT), which the message then mentions.
 *
 * <h2>Secrets</h2>
 * The key lives in {@link dev.nodekit.csi.rbd.ceph.CephCredentials} (whose {@code toString}
 * redacts it) and reaches librados only through {@code rados_conf_set("key", ...)}: no keyring
 * file, no command line, no log line, no exception message. No Ceph configuration file is read
 * and librados is told not to log to stderr or files, nor to open an admin socket.
 */
package dev.nodekit.csi.rbd.ceph;
