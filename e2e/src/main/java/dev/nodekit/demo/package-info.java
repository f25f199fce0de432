/**
 * {@code nodekit demo} ({@link dev.nodekit.demo.DemoCommand}): the README's first command. The node
 * e2e flow on a {@link dev.nodekit.e2e.node.LocalNode}, narrated one line per step (number,
 * duration, what happened, what it proves), with each claim checked, not only printed.
 *
 * <h2>Choices</h2>
 * <ul>
 *   <li>The CRI shim and the CSI driver run in the demo's JVM by default (the whole demo is one JVM
 *       plus containerd and the CNI launchers it execs: under 15 s on a 2-core machine);
 *       {@code --child-processes} runs them as {@code nodekit cri-shim} and {@code nodekit csi}.</li>
 *   <li>Without containerd (not installed, or {@code --no-containerd}) the CNI part runs on two
 *       plain network namespaces (ADD, ping between them, DEL) and the CSI part on its own (the
 *       file a pod would write is written on the host), and the header says so.</li>
 *   <li>Logs: components log at WARN unless {@code NODEKIT_LOG_LEVEL} says otherwise, so the
 *       narration stays readable; warnings (a teardown that had to undo something) still show.</li>
 * </ul>
 *
 * <h2>Ctrl-C</h2>
 * A shutdown hook sets a flag and waits (90 s at most) while the demo's thread finishes its current
 * step, sees the flag, tears the node down and reports; then the JVM exits with 130. Steps are never
 * interrupted mid-way (an interrupted command or RPC could leave half a step that teardown would
 * have to guess about); every step is bounded by its own deadlines. If the demo's thread does not
 * finish in time, the hook tears down itself. Teardown needs no RPC, so a driver socket already
 * closed by the signal does not stop it. SIGKILL cannot be handled: then
 * {@link dev.nodekit.e2e.node.RunMarks} from the run's header line finds what is left.
 *
 * <h2>Exit codes</h2>
 * 0 every step held; 1 a step failed (its line says why, the demo still cleans up); 2 the host
 * cannot run it (not root, no loop devices, netns or iptables), with one sentence on stderr and
 * nothing touched; 130 after Ctrl-C.
 */
package dev.nodekit.demo;
