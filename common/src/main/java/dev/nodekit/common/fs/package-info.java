/**
 * Durable, crash-safe and concurrency-safe files: atomic replace, directory locks, versioned formats.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>Atomic replace, step by step.</b> {@link dev.nodekit.common.fs.AtomicFiles#write} writes a
 *       temporary file in the <em>same directory</em> (rename is only atomic within one
 *       filesystem), fsyncs it (otherwise the rename can reach the disk before the data, and a
 *       power cut leaves an empty file: the classic ext4 zero-length-file bug), renames it over the
 *       target ({@code ATOMIC_MOVE}, {@code REPLACE_EXISTING}: readers see the old or the new
 *       inode, never a half-written one), then fsyncs the <em>directory</em> (the rename is a change
 *       of the directory; until the directory is flushed, a crash can bring the old name back, and
 *       state we already acted on - a mounted volume, an allocated IP - would be forgotten). The
 *       mode is set explicitly after writing so the umask cannot widen or narrow it. Leftover
 *       {@code .NAME.*.tmp} files after a crash are harmless and never read.</li>
 *   <li><b>Locks with bounded waits.</b> {@link dev.nodekit.common.fs.DirectoryLock} holds an
 *       {@code fcntl} lock on {@code <dir>/lock} so separate processes (parallel CNI executions,
 *       an old and a new driver during an upgrade) exclude each other. It never waits forever: it
 *       polls {@code tryLock} with jittered exponential backoff (1 ms up to 50 ms) until a deadline,
 *       then throws {@link dev.nodekit.common.fs.LockTimeoutException} naming the last holder's pid.
 *       A blocked {@code lock()} cannot be cancelled, and a holder stuck on a dead mount would
 *       otherwise stall every later call with no error anywhere; a timeout turns that into a
 *       retryable error the caller (kubelet, containerd) sees.</li>
 *   <li><b>Two layers because of POSIX lock semantics.</b> Java throws
 *       {@code OverlappingFileLockException} when a second thread of the JVM locks the same file,
 *       and on Linux closing <em>any</em> descriptor of a file drops all of the process's locks on
 *       it. So threads first take an in-JVM fair permit per lock file (keyed by the file's inode
 *       after resolving symlinks), and only the permit holder opens the file. For the same reason
 *       nothing else in the process should open the lock file; its pid is read back through the
 *       holder's own channel.</li>
 *   <li><b>Every format carries a version.</b> {@link dev.nodekit.common.fs.VersionedFormat} stamps
 *       {@code "version": N} on write. A reader refuses newer versions ("upgrade nodekit") instead
 *       of silently dropping fields it does not know - which a downgrade followed by a write would
 *       turn into data loss - and migrates older ones step by step (vN to vN+1 on the JSON tree), so
 *       each step is small and tested on its own. Migration happens in memory on read; the file is
 *       rewritten in the new version the next time its owner writes it.</li>
 * </ul>
 */
package dev.nodekit.common.fs;
