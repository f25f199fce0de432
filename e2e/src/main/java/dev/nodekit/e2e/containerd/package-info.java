/**
 * A private containerd 1.6 for integration tests and {@code nodekit demo}:
 * {@link dev.nodekit.e2e.containerd.ContainerdFixture}. It lives in the main sources so the demo can
 * start one; the JUnit extension that shares one per test JVM is in the tests.
 *
 * <p>Layout of one instance, all under {@code /tmp/nodekit-ctrd-<id>-<random>/} (or
 * {@code <parent>/containerd/} with {@code Options.withParentDir}):
 * {@code config.toml}, {@code containerd.sock} (+ {@code .ttrpc}), {@code containerd.log},
 * {@code root/}, {@code state/} (netns bind mounts too: {@code netns_mounts_under_state_dir}),
 * {@code tmp/}, {@code runc/} (runc's root), {@code cni-bin/} (symlinks to /usr/lib/cni/*, unless
 * the caller gives a bin dir), {@code net.d/10-nodekit.conflist} (bridge {@code nkc<id>} +
 * host-local on a random free /24 in 10.200-249.x.0, unless the caller gives a conf dir),
 * {@code cni-ipam/} (host-local's dataDir) and {@code pod-logs/}. Pods go under the cgroup parent
 * {@code /nodekit-ctrd-<id>}. The stream server listens on 127.0.0.1, port chosen by the kernel.
 *
 * <p>Images: busybox-static's binary plus one symlink per applet, {@code /etc/passwd} and friends,
 * tarred reproducibly (sorted, mtime 0, uid 0) as one uncompressed layer shared by two OCI images,
 * {@code localhost/busybox:1} ({@code /bin/sh}) and the pause image under exactly the configured
 * {@code sandbox_image} ({@code sleep 2147483647}), imported with
 * {@code ctr -n k8s.io images import}. Nothing is pulled; names carry a registry part because CRI
 * cannot resolve {@code local/x} that containerd lists as {@code docker.io/local/x}.
 *
 * <p>Start: {@code setsid containerd --config ...} (own session; the JVM's child is no group leader,
 * so the PID held is containerd's, checked via /proc/PID/exe), then wait for the socket and
 * "containerd successfully booted" in the log written since the start, then for CRI Status to answer
 * (after a restart with pods, containerd 1.6 logs "booted" while its CRI plugin is still recovering
 * and answers UNKNOWN "server is not initialized yet"), then the import, then a CRI ImageStatus of
 * both images.
 *
 * <p>Teardown ({@link dev.nodekit.e2e.containerd.ContainerdFixture#close()}), every step runs even
 * when an earlier one failed, problems are thrown together at the end: pods stopped and removed
 * through CRI (so CNI DEL runs); containerd TERM, 10 s, KILL (by PID); leftover
 * {@code containerd-shim-runc-v2} whose {@code -address} is this socket killed and their sockets in
 * /run/containerd/s ({@code sha256(<address>/<namespace>/<id>)}) removed; leftover runc containers
 * under our runc root force-deleted; mounts under the dir {@code umount -l}, deepest first;
 * libcni cache entries in /var/lib/cni/results that name a netns under the dir removed; {@code /sys/fs/cgroup/<each hierarchy>/nodekit-ctrd-<id>} removed bottom-up; the bridge
 * deleted; when the last instance of the JVM closes, {@code net.ipv4.ip_forward} restored and
 * {@code /run/containerd/s}, {@code /run/containerd}, {@code /var/lib/cni/results}, {@code /var/lib/cni}
 * removed if they did not exist before and are empty; the dir deleted if no mount remains.
 *
 * <p>Lifetime: {@link dev.nodekit.e2e.containerd.ContainerdFixture#shared()} is one instance per
 * test JVM, closed by {@link dev.nodekit.e2e.containerd.ContainerdExtension} when the JUnit run ends
 * (or by a shutdown hook); {@link dev.nodekit.e2e.containerd.ContainerdFixture#start} makes more
 * (two runtimes for routing tests, a custom CNI bin dir), each closed by its owner.
 */
package dev.nodekit.e2e.containerd;
