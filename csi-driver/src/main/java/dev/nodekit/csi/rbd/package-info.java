/**
 * The Ceph RBD storage backend: volumes are RBD images, created, snapshotted, cloned and attached
 * the way ceph-csi does it, with ceph-csi's crash-safety model. Public surface:
 * {@link dev.nodekit.csi.rbd.RbdBackend}, {@link dev.nodekit.csi.rbd.RbdBackendFactory} and the
 * {@code --ceph-config} file {@link dev.nodekit.csi.rbd.RbdConfig}; the rest is package-private.
 * Ceph is reached in-process through {@code dev.nodekit.csi.rbd.ceph} (librados/librbd via JNA).
 *
 * <h2>Ids and names</h2>
 * An id is an {@link dev.nodekit.csi.spi.ObjectId}: backend {@code rbd}, the {@code clusterID} of
 * {@code --ceph-config}, the image pool's id as 16 hex digits (pool ids survive renames) and a UUID;
 * it is validated before use and an id of another backend, an unknown cluster or a malformed pool is
 * "not found". Images are {@code csi-vol-<uuid>} and {@code csi-snap-<uuid>}, as in ceph-csi.
 *
 * <h2>The journal (RADOS omap, ceph-csi's layout)</h2>
 * In the image pool, or in the cluster's {@code journalPool}:
 * <pre>
 * csi.volumes.&lt;instanceID&gt;   omap: csi.volume.&lt;request name&gt; = uuid      (the name directory)
 *                              csi.intent.&lt;uuid&gt; = request name       (unfinished reservations)
 * csi.volume.&lt;uuid&gt;          omap: csi.version=2, csi.volname, csi.imagename, csi.pool, csi.poolid,
 *                              csi.size, csi.requestedsize, csi.source, csi.parameters (JSON),
 *                              csi.metadata (JSON), csi.created, csi.state (reserved|ready)
 * csi.snaps.&lt;instanceID&gt;     omap: csi.snap.&lt;name&gt; = uuid, csi.intent.&lt;uuid&gt; = name
 * csi.snap.&lt;uuid&gt;            omap: csi.version, csi.snapname, csi.imagename, csi.source (volume id),
 *                              csi.poolid, csi.size, csi.parameters, csi.created, csi.state
 * </pre>
 * Records are versioned ({@code csi.version}): newer ones are refused with "upgrade nodekit", older
 * ones migrated when read and rewritten by the next update. Every step below is one atomic RADOS
 * write op, and a failpoint ({@code rbd.*} in {@link dev.nodekit.csi.Failpoints}) follows each.
 *
 * <h2>Step order, and what a crash after each step leaves</h2>
 * <ol>
 *   <li><b>Create</b>: look the name up; found and compatible: return it if {@code ready}, else
 *       resume it. Not found: write the intent key (a resumed intent reuses its UUID), create the
 *       UUID object exclusively (state reserved), bind the name and drop the intent in one write
 *       (ceph-csi's reserve order, bracketed by the intent so a crash between the two finds the
 *       UUID again instead of leaking an orphan object: ceph-csi's known omap leak); then create
 *       the image (or clone it, then resize it); then mark the record ready (the commit point).
 *       Every step after the reservation tolerates having run before, so the CO's retry of the
 *       same request, which the crash left unanswered, resumes and completes it. A definite
 *       failure (not UNAVAILABLE) undoes the reservation: image, temporary snapshot, name, record,
 *       intent. Size and clone-depth checks run before anything is reserved.</li>
 *   <li><b>Delete</b>: refuse while the image has watchers (attached somewhere: FAILED_PRECONDITION);
 *       remove the image (image gone but journal left is finished by the next delete), release the
 *       name, remove the record. Without a record the image {@code csi-vol-<uuid>} is removed anyway
 *       (journal gone but image left). An image whose snapshots still have clone children (they sit
 *       in the trash namespace) is moved to the RBD trash instead and purged in the background when
 *       the last child is deleted or flattened.</li>
 *   <li><b>Resize</b>: grow the image, then the record's size; the retry finds the image grown and
 *       finishes the record.</li>
 * </ol>
 *
 * <h2>Snapshots, restores, clones: why snapshot images</h2>
 * A snapshot is a clone-v2 "snapshot image", as ceph-csi makes it: a temporary snapshot of the
 * source, cloned into {@code csi-snap-<uuid>}, the temporary snapshot removed (it stays in the trash
 * namespace while the clone needs it), then a snapshot of the clone. A plain RBD snapshot would be
 * cheaper (one step), but it lives and dies with its image: a volume with snapshots could not be
 * deleted (only trashed, and a trashed image cannot be cloned by name, so restores would break), and
 * RBD caps snapshots per image. Snapshot images are independent of their source, which the SPI and
 * the CSI spec ask for. A restore is a clone of the snapshot image's snapshot; a volume clone is a
 * clone of a temporary snapshot of the source. Larger restores and clones are resized after.
 *
 * <h2>Clone depth</h2>
 * Every image is created with {@code deep-flatten} (so a flatten detaches its snapshots too and
 * depth can only shrink). A new image deeper than {@code softMaxCloneDepth} is flattened in the
 * background (a bounded pool of {@code flattenWorkers} threads); a request whose new image would
 * exceed {@code hardMaxCloneDepth} queues a flatten of its source and answers ABORTED (the CO
 * retries), so no chain ever grows past the hard limit. The background work is not journaled: a
 * flatten lost with the process is queued again by the next request that needs it.
 *
 * <h2>Credentials and sessions</h2>
 * A call with CSI secrets ({@code userID}, {@code userKey}) uses them; a call without (ListVolumes,
 * GetCapacity, ControllerGetVolume, node healing) uses the cluster's {@code credentialFile}. Without
 * one for every cluster the backend lacks {@code READS_WITHOUT_SECRETS} and the service does not
 * advertise those RPCs. Connections are pooled per cluster, user and key fingerprint and closed after
 * {@code sessionIdleTimeout} unused. Wrong credentials are PERMISSION_DENIED at once (monitor
 * addresses with {@code v1:}/{@code v2:} prefixes). Keys never reach a log, an exception message, a
 * command line or an environment value: the node hands them to {@code rbd-fuse} and {@code rbd map}
 * in a 0600 key file that is deleted once the tool has authenticated. A connect runs on a thread with
 * an 8 MiB stack: librados' connect overflows the launcher's 512 KiB Java stacks.
 *
 * <h2>Node path</h2>
 * Probed at startup: krbd needs the kernel's rbd driver ({@code /sys/bus/rbd}); the fuse path needs
 * {@code rbd-fuse}, {@code /dev/fuse}, {@code fusermount} and {@code losetup}. A StorageClass may
 * ask for {@code mounter: krbd|fuse}; otherwise krbd is used where the kernel has it (ceph-csi's
 * default) and rbd-fuse elsewhere. rbd-fuse exposes exactly one image ({@code -r IMAGE}; pool mode
 * would keep every image it stats open) as a file, attached to a loop device. The daemon runs in its
 * own session ({@code setsid}), with its output in a file, so it outlives the node plugin; its pid,
 * start time, mountpoint and loop device are in a versioned node-state file
 * ({@code <dataDir>/rbd/attachments/<uuid>.json}: ATTACHING, ATTACHED, DETACHING). At start the
 * plugin tears down interrupted attaches and detaches, re-adopts running daemons, and heals dead
 * ones with the credential file (skipped with a log line where there is none): a new daemon on the
 * same mountpoint, and the loop device re-pointed (detached and re-attached under the same name when
 * unused, {@code LOOP_CHANGE_FD} when it is read-only and mounted; a writable mounted one cannot be
 * re-pointed by the kernel and is reported until the volume is staged again). Detach tears down in
 * order: loop device, {@code fusermount -u}, wait for the daemon's pid (TERM, then KILL), mountpoint.
 *
 * <h2>Known limits</h2>
 * Two processes creating the same name at the same instant are not excluded by the journal (as in
 * ceph-csi, the CO's single provisioner leader and the per-name lock exclude it). Listings read one
 * record per entry (sequential round trips: fine for pages, slow for unpaged lists of thousands).
 * After a client dies its watches stay on the images it had open until the OSD drops them
 * ({@code osd_client_watch_timeout}, 30 s): a delete meanwhile is FAILED_PRECONDITION "in use"
 * and the CO retries.
 */
package dev.nodekit.csi.rbd;
