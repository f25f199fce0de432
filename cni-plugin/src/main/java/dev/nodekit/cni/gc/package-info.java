/**
 * The leak reconciler: {@code nodekit cni gc} and the daemon's periodic task
 * ({@link dev.nodekit.cni.gc.LeakReconciler}).
 *
 * <h2>Why</h2>
 * containerd 1.6 and 1.7 never send CNI GC (go-cni's GC support is unmerged), and a DEL that never
 * comes (a runtime killed mid-teardown, an expired RunPodSandbox context, a wiped runtime state dir,
 * a reboot) leaves host-local allocations behind for ever: the pool runs dry. The reconciler asks the
 * runtime over CRI which sandboxes exist and releases what belongs to no sandbox it knows.
 *
 * <h2>Safety rules</h2>
 * <ul>
 *   <li>Only sandboxes the runtime does not know, in any state; a failed CRI listing releases
 *       nothing.</li>
 *   <li>Never a sandbox being created: containerd adds a sandbox to the list CRI answers from only
 *       after its CNI ADD returned, so allocations younger than the grace period (10 minutes, above
 *       containerd's 4-minute RunPodSandbox bound) are kept, by their file's time.</li>
 *   <li>After a reboot: nothing written before the boot ({@code /proc/stat} btime) can belong to a
 *       sandbox being created, so an old allocation of a sandbox the runtime does not list goes even
 *       inside the grace period.</li>
 *   <li>Each network directory under its host-local lock, through the plugins' locker: never between
 *       an ADD's read and write.</li>
 *   <li>Masquerade chains (bridge/ptp {@code ipMasq}) of unknown containers without a young
 *       allocation; networks whose IPAM is not host-local style are left alone.</li>
 * </ul>
 * Allowed imports: {@code dev.nodekit.cni.ipam}, {@code dev.nodekit.cni.net},
 * {@code dev.nodekit.cni.api} (CniArgs), {@code dev.nodekit.spec.cni}, the CRI stubs,
 * {@code dev.nodekit.common} (grpc, exec, config), picocli, SLF4J. Nothing on the exec path imports
 * this package.
 */
package dev.nodekit.cni.gc;
