/**
 * The mount table and idempotent mount/unmount.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>mountinfo is the truth.</b> "Is this a mount point" is answered from
 *       {@code /proc/self/mountinfo}, not by comparing {@code st_dev} of a path and its parent: a
 *       bind mount within one filesystem (every CSI NodePublish of a directory on the node's disk)
 *       has the same device on both sides, and a bind-mounted file has no parent directory
 *       boundary at all. {@code /proc/self/mounts} is not used either: it lacks the root field, so
 *       it cannot tell which directory a bind mount shows.</li>
 *   <li><b>Same source, compared as the kernel sees it.</b> A bind mount's mountinfo line shows the
 *       device and the path inside that filesystem ({@code root}); {@link
 *       dev.nodekit.common.mount.Mounts#locate} computes the same pair for the bind source, so
 *       "already bound from there" holds through symlinks, nested mounts and mount points that
 *       differ.</li>
 *   <li><b>Idempotent and finishing.</b> {@link dev.nodekit.common.mount.Mounter} looks before it
 *       acts: the wanted mount in place is a no-op (CSI retries every call), something else there is
 *       a conflict ({@code MountException.isConflict()}, CSI's ALREADY_EXISTS), a read-only bind
 *       whose second step (the remount) never happened is finished, a failed remount undoes the
 *       bind, and unmounting what is not mounted is OK. One unmount removes one layer of stacked
 *       mounts.</li>
 *   <li><b>Commands, not syscalls.</b> Mounting goes through {@code mount(8)}/{@code umount(8)} via
 *       {@link dev.nodekit.common.exec.CommandRunner}: they apply helpers ({@code mount.nfs},
 *       {@code mount.fuse}) and options parsing we do not want to re-implement, and the runner makes
 *       them fakeable. Paths always follow {@code --} and options always follow {@code -o}.</li>
 *   <li><b>Injectable table.</b> {@link dev.nodekit.common.mount.Mounts} reads through a
 *       {@link dev.nodekit.common.mount.Mounts.Source}; unit tests use fixture text, and the common
 *       test-jar's {@code FakeMountTable} also answers the mount commands by editing that text.</li>
 *   <li><b>Known limits.</b> Paths are resolved with {@code realpath}; under a dead network mount
 *       that blocks like any {@code stat}. Mount namespaces: answers are about the calling process's
 *       namespace.</li>
 * </ul>
 */
package dev.nodekit.common.mount;
