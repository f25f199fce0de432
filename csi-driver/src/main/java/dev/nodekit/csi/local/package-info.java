/**
 * The embedded local storage backend: a real CSI driver on one machine with no storage cluster.
 * Public surface: {@link dev.nodekit.csi.local.LocalBackend}, its
 * {@link dev.nodekit.csi.local.LocalBackendConfig} and {@link dev.nodekit.csi.local.LocalBackendFactory};
 * everything else is package-private.
 *
 * <h2>On-disk layout</h2>
 * <pre>
 * &lt;dataDir&gt;/
 *   lock                                  OS lock held by the one process that owns the data dir
 *   backend.json                          {"version":1,"nodeId":...}: the node the ids name
 *   pools/&lt;pool&gt;/images/&lt;uuid&gt;.json       journal record of an image (versioned, see below)
 *   pools/&lt;pool&gt;/images/&lt;uuid&gt;.img        its data: a sparse file, mode 0600
 *   pools/&lt;pool&gt;/snapshots/&lt;uuid&gt;.json    journal record of a snapshot
 *   pools/&lt;pool&gt;/snapshots/&lt;uuid&gt;.snap    its data: a read-only reflink or sparse copy
 *   node/attachments/&lt;uuid&gt;.json           node state: the loop device of an attached image
 *   quarantine/                           data files found without a record (never deleted by us)
 * </pre>
 * Every path is built from a pool name checked against {@code [A-Za-z0-9_][A-Za-z0-9_.]{0,23}}
 * and a {@link java.util.UUID}; request names never reach a path (they live inside the records),
 * and ids reach the backend already validated by {@link dev.nodekit.csi.spi.ObjectId#parse}. A pool
 * is a directory and may be a mount of its own; capacity is read from its filesystem (statvfs),
 * optionally capped by {@code capacityLimitBytes} (the sum of the logical sizes of all images and
 * snapshots).
 *
 * <h2>The journal and its commit protocol</h2>
 * One JSON record per object ({@link dev.nodekit.common.fs.VersionedFormat}, current version 2;
 * v1 records are migrated on read, newer ones make the backend refuse to open with "upgrade
 * nodekit"), written with {@link dev.nodekit.common.fs.AtomicFiles} (temp file, fsync, rename,
 * fsync of the directory). The record's {@code state} is the protocol:
 * <ol>
 *   <li><b>create</b>: write the record RESERVED (name, id, spec: the name to id reservation,
 *       before anything exists) - create the data file (sparse, reflink or sparse copy; fsynced) -
 *       rewrite the record READY (the commit point). A failure undoes in reverse: data file, then
 *       record.</li>
 *   <li><b>delete</b>: rewrite the record DELETING (the intent) - remove the data file (directory
 *       fsynced) - remove the record (directory fsynced). A repeated delete finds DELETING and
 *       finishes the job.</li>
 *   <li><b>resize</b>: grow the file (fsynced) - rewrite the record with the new size.</li>
 * </ol>
 * Data files and records of a pool share a directory, so the directory fsync of the commit also
 * makes the data file's directory entry durable.
 *
 * <h2>Crash safety: what each interrupted step leaves and what startup does</h2>
 * Startup ({@code Reconciler}) runs under the data dir lock before any request is served:
 * <ul>
 *   <li>killed after RESERVED, or after the data file was written: the caller got no answer, so
 *       nobody knows the id. The RESERVED record is <em>undone</em> (data file, then record); the
 *       CO's retry creates the object afresh. Killed during the undo itself: the record is still
 *       RESERVED and the next start undoes it again (steps are idempotent).</li>
 *   <li>killed after READY but before answering: the object exists; the retry finds it by name
 *       and returns it (idempotent create).</li>
 *   <li>killed after DELETING, or after the data file was removed: the delete is <em>finished</em>;
 *       the CO's retry finds nothing and succeeds.</li>
 *   <li>killed after the file grew but before the record: the record is raised to the file's size
 *       (a grow is never harmful); the retry sees the size reached.</li>
 *   <li>killed inside an atomic write: a {@code .NAME.*.tmp} file is left and removed; the record
 *       has its old content.</li>
 *   <li>a data file without a record cannot be left by these steps (records come first and go
 *       last); one found anyway (restored from a backup, a lost record) is moved to
 *       {@code quarantine/} and logged, never deleted. A READY record without its data file is
 *       logged as an error and kept.</li>
 * </ul>
 * Named failpoints ({@link dev.nodekit.csi.Failpoints}, {@code local.*}) follow every durable step;
 * the crash tests stop the JVM at each one and check these outcomes.
 *
 * <h2>fsync discipline</h2>
 * With {@code syncWrites} (the default) every step is durable before the next starts: a record
 * is written to a temp file, fsynced, renamed over, and its directory fsynced
 * ({@link dev.nodekit.common.fs.AtomicFiles}); a data file is fsynced before the record that
 * commits it; a removal is followed by an fsync of its directory. So the order of the steps, and
 * with it the argument above, holds across a power loss or kernel crash, not only a killed
 * process. The price is about five flushes per create (two per record write, one for the data
 * file); on the disk of the development machine one flush costs 4-6 ms. With {@code syncWrites}
 * off the same writes and renames happen in the same order without the flushes: still safe
 * against a killed process (the page cache outlives it; the crash tests run both ways), not
 * against a power loss. Data files of a pool and their records share a directory, so the
 * directory fsync of a commit also makes the data file's own directory entry durable.
 *
 * <h2>Concurrency</h2>
 * No lock is global. Creates lock their request name, deletes, resizes and attaches lock the id
 * ({@code KeyedLocks}: one lock per key, dropped when unused, bounded wait, then Pending); names
 * are always locked before ids. The in-memory index (by UUID in a stable order for pagination,
 * and by name) is concurrent, so lookups and lists never wait. A copy for a snapshot or clone does
 * not lock its source: it reads through an open descriptor, so a concurrent delete of the source
 * cannot tear the copy (the file's data lives until the descriptor is closed). Capacity claims use
 * a compare-and-set, so concurrent creates cannot overshoot the configured limit. Bounding how
 * much heavy work (copies, attaches) runs at once is the service layer's job. Across processes,
 * the data dir lock admits a single owner: a second backend (a restarted driver while the old one
 * still runs) fails to open instead of racing the recovery.
 *
 * <h2>Decided behaviour</h2>
 * <ul>
 *   <li><b>Deleting an image that has snapshots</b> deletes the image; its snapshots are
 *       independent copies and stay usable (restore works after the source is gone), as the CSI
 *       spec recommends. Deleting an attached image (a loop device backs its file) fails with
 *       FailedPrecondition.</li>
 *   <li><b>Snapshots</b> are cut synchronously and are {@code readyToUse} at once. They are
 *       mode 0400 by convention (root is not stopped by it). They live in their source's pool.</li>
 *   <li><b>Restore or clone larger than the source</b> is allowed: the new file is grown (a hole),
 *       the filesystem on it is grown by the service layer at stage. Smaller is OutOfRange.</li>
 *   <li><b>Resize</b> grows only; a smaller size is OutOfRange, the same size a no-op.
 *       Idempotent re-creates compare the size first asked for, not the current size.</li>
 *   <li><b>Copies</b>: FICLONE when the pool's filesystem shares extents (XFS with reflink=1,
 *       btrfs): instant and space-free; otherwise a sparse copy in the kernel (SEEK_DATA/SEEK_HOLE
 *       ranges through copy_file_range), which keeps holes and copies only data. Measured on ext4
 *       for a 1 GiB image holding 100 MiB (median of 5, interleaved, fsync included):
 *       copy_file_range 101 ms, {@code cp --sparse=always} in a child process 97 ms, pread/pwrite
 *       164 ms; so the copy stays in-process (no fork, no parsing of a tool's output) at the speed
 *       of cp. FICLONE on XFS: 5-35 ms for the whole snapshot, journal included.</li>
 *   <li><b>Attach</b>: {@code losetup --find --show [--read-only]}, recorded in the node state.
 *       A device number is never trusted: before reusing or detaching it,
 *       {@code /sys/block/loopN/loop/backing_file} must name our file. After a restart, recorded
 *       devices still backed by their file are adopted, lost ones re-attached, and a device backed
 *       by one of our images but not recorded (a crash between losetup and the record) is adopted
 *       instead of attached twice. A detach records its intent first (DETACHING), so a restart in
       the middle of one finishes it instead of attaching the image again. {@code attach} of an
       attached image returns the existing attachment whatever read-only flag it was asked with
       (the service layer compares); a detach of a device still held open (mounted) answers
       FailedPrecondition and the kernel clears the device at its last close.</li>
 * </ul>
 */
package dev.nodekit.csi.local;
