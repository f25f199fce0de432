/**
 * The CSI driver: one class per CSI service ({@link dev.nodekit.csi.CsiIdentityService},
 * {@link dev.nodekit.csi.CsiControllerService}, {@link dev.nodekit.csi.CsiNodeService}), each calling
 * a {@link dev.nodekit.csi.spi.StorageBackend}; {@link dev.nodekit.csi.CsiDriver} assembles them from
 * one {@link dev.nodekit.csi.CsiConfig} and {@link dev.nodekit.csi.CsiCommand} is {@code nodekit csi}.
 * Conversion between CSI messages and backend records happens only in this package.
 *
 * <h2>Every RPC is a checklist</h2>
 * <ol>
 *   <li>capability: an RPC this driver does not advertise is not overridden, so grpc-java answers
 *       UNIMPLEMENTED (ControllerPublish/Unpublish, ControllerModifyVolume, group snapshots);</li>
 *   <li>required fields, one INVALID_ARGUMENT per field, naming it; size limits (128-byte names,
 *       4 KiB maps); paths absolute with no {@code .}/{@code ..} segment;</li>
 *   <li>ids parsed with {@link dev.nodekit.csi.spi.ObjectId#parse} before anything is built from them:
 *       an id that cannot exist here is NOT_FOUND where the object must exist, OK for deletes and
 *       unpublishes, and an empty result for list filters (what csi-sanity expects);</li>
 *   <li>the per-name or per-id lock ({@link dev.nodekit.csi.OperationLocks}): busy answers ABORTED at
 *       once; reads take no lock;</li>
 *   <li>look-up, then an early return when the work is already done (idempotency: the same request
 *       again is OK with the same answer, an incompatible one ALREADY_EXISTS);</li>
 *   <li>the side effect; heavy ones (copies, attach, mkfs, fsck/resize) wait for a slot of the
 *       {@link dev.nodekit.csi.WorkLimiter} first; a failed later step undoes the earlier ones
 *       (a {@code committed} flag in a {@code finally});</li>
 *   <li>the answer. The backend keeps the state; the service saves nothing of its own.</li>
 * </ol>
 *
 * <h2>Errors</h2>
 * Validation throws {@code StatusRuntimeException}s with a description and never details; backend
 * failures are {@link dev.nodekit.csi.spi.StorageException}s that the {@link dev.nodekit.csi.StatusMapper}
 * maps, one code per kind; host tool failures (mount, mkfs...) become INTERNAL with the tool's
 * stderr, a mount point taken by something else ALREADY_EXISTS. Anything unexpected reaches the
 * standard catch-all interceptor (INTERNAL, cause logged). Secrets are never logged: the access
 * log redacts request bodies through the proto's {@code csi_secret} marks, and
 * {@link dev.nodekit.csi.spi.Credentials#toString()} prints no value.
 *
 * <h2>Decisions where the spec leaves room</h2>
 * <ul>
 *   <li>Sizes are whole MiB; no required size means 1 GiB (or the content source's size); XFS
 *       volumes are at least 300 MiB (mkfs.xfs refuses less); {@code limit_bytes} below
 *       {@code required_bytes} is OUT_OF_RANGE.</li>
 *   <li>Snapshots are independent of their volume: DeleteVolume of a volume with snapshots
 *       succeeds and the snapshots stay restorable.</li>
 *   <li>Parameters: the backend's {@code parameterKeys()}, {@code pool}, and the
 *       {@code csi.storage.k8s.io/*} keys the sidecars add (accepted, not passed on); anything else
 *       is INVALID_ARGUMENT naming the key.</li>
 *   <li>Topology: a volume is accessible only on the node that holds it; a requisite list without
 *       this node is RESOURCE_EXHAUSTED (external-provisioner then reschedules); preferred lists
 *       are hints.</li>
 *   <li>ControllerExpandVolume always answers {@code node_expansion_required}: filesystems must
 *       grow, and a loop device only shows a block volume's new size after the node refreshes it.</li>
 *   <li>Publishing one volume at a second target is FAILED_PRECONDITION except for
 *       SINGLE_NODE_MULTI_WRITER (the spec's table; Kubernetes sends that mode for ReadWriteOnce
 *       because the driver advertises it).</li>
 *   <li>The node formats a device only when {@code blkid -p} finds nothing on it (no filesystem,
 *       no partition table) and never formats over another filesystem. XFS is mounted
 *       {@code nouuid} (clones share their source's UUID). An ext4 that could not grow online
 *       (resize2fs needs CAP_SYS_RESOURCE) is checked and grown offline at the next stage.</li>
 *   <li>The node keeps no state file: the mount table and the backend's attachments are the truth,
 *       so a restarted plugin unpublishes and unstages what its predecessor did; at start it
 *       re-attaches what the kernel lost.</li>
 * </ul>
 *
 * <h2>Known limits</h2>
 * A read-only bind of a block device node does not stop writes through it; read-only block
 * volumes (SINGLE_NODE_READER_ONLY) are attached read-only instead. Mount flags apply at stage;
 * publish adds only {@code ro}.
 */
package dev.nodekit.csi;
