/**
 * host-local IPAM as a library ({@link dev.nodekit.cni.ipam.HostLocalIpam}), sharing the Go
 * plugin's on-disk state so a node can switch between the two implementations, in either direction,
 * without losing an allocation.
 *
 * <h2>On-disk format (identical to Go's host-local)</h2>
 * <pre>
 * &lt;ipam.dataDir, default /var/lib/cni/networks&gt;/&lt;network name&gt;/   (mode 0755)
 *     10.22.0.5          "&lt;containerID&gt;\r\n&lt;ifname&gt;" (no trailing newline), mode 0644, one file per address
 *     fd00::5            (IPv6 in Go's canonical spelling)
 *     last_reserved_ip.0 the last address handed out in range set 0, no newline (round-robin cursor)
 *     lock               empty; flock(2)ed around every read-modify-write
 *     .nodekit-format    nodekit's marker: {"format": "nodekit host-local", "version": 1}
 * </pre>
 * Files holding only a container id (written by host-local before it recorded interfaces) are
 * matched as that container's, as Go matches them. Allocation order reproduces Go's iterator: after
 * the last reserved address, through each range of the set, skipping the gateway, wrapping around.
 *
 * <h2>The format marker</h2>
 * nodekit versions every on-disk format it writes, but this one must stay byte-compatible with Go, so
 * the version lives in a separate file, {@code .nodekit-format}, written on the first ADD into a
 * directory. Go's plugin ignores it: its name is not an address, and its content (with spaces and
 * braces) can never equal a container id, so Go's DEL, which deletes files whose content matches
 * the container, never deletes it. A directory without the marker is format 1 (Go's, or ours before
 * the first ADD). A marker with a newer version, or one that cannot be read, makes every operation
 * fail with code {@value dev.nodekit.cni.ipam.DiskStore#STATE_UNUSABLE} ("upgrade nodekit") and STATUS
 * answer 50, rather than guessing at a layout this version does not know.
 *
 * <h2>Locking</h2>
 * Go locks with {@code flock(2)}; Java can only take {@code fcntl} locks, which Linux keeps separate,
 * so {@link dev.nodekit.cni.ipam.FlockLocker} holds the lock in a {@code flock -w N lock cat} child
 * process: bounded wait (code 11 when it runs out), released when we close its stdin or when the JVM
 * dies. nodekit holds the lock for a whole operation (every range set of an ADD at once).
 *
 * <h2>Crash safety, and what is not an allocation</h2>
 * <ul>
 *   <li>An allocation file is written as a temporary file ({@code .nodekit-reserve.<pid>.<tid>}) and
 *       hard-linked to the address name: {@code link(2)} fails if the name exists (as exclusive as
 *       Go's {@code O_EXCL}), and the file is never seen half-written. A temporary file left by a kill
 *       is removed by that owner's DEL or by GC. {@code last_reserved_ip.N} is replaced by rename.</li>
 *   <li>An existing name is never reused, whatever it holds: an empty, binary or oversized file, a
 *       directory or a symlink named by an address keeps that address taken. Such a file has no owner
 *       ({@link dev.nodekit.cni.ipam.Allocation#isOwnerless()}): DEL leaves it, GC releases it (a
 *       directory is left alone). No path can hand out an address twice.</li>
 *   <li>Names that are not addresses or known files are ignored (never deleted);
 *       {@link dev.nodekit.cni.ipam.DiskStore#foreignFiles()} lists them for diagnostics.</li>
 * </ul>
 *
 * <h2>Beyond Go's host-local</h2>
 * GC (releases allocations whose owner is not in {@code cni.dev/valid-attachments}, or the older
 * {@code cni.dev/attachments}; ownerless files too), STATUS (code 50 when a range set is exhausted,
 * the directory is not writable or the marker is unusable), and CHECK verifying each prevResult
 * address is recorded for the container, not only that some address is.
 */
package dev.nodekit.cni.ipam;
