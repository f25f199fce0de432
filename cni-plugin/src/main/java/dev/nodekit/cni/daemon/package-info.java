/**
 * {@code nodekit cni daemon} and its wire protocol: the node daemon that serves nodekit's CNI plugins
 * to a thin client in {@code CNI_PATH}, the design Multus (thick), Cilium and Antrea use.
 *
 * <h2>Why</h2>
 * A runtime execs a CNI plugin per pod ADD and DEL. A JVM per call, even with an AppCDS archive,
 * cost 222 ms per ADD against the Go plugins' 20 ms in the same run ({@code nodekit bench cni},
 * BENCHMARKS.md). With a long-running JVM the call costs the plugin's own work: its {@code ip},
 * {@code nsenter} and {@code flock} children and the IPAM lock. Measured in one interleaved run on a
 * shared 2-core machine (load 15), ratios to Go: ADD p50 1.5x, DEL p50 0.8x, 40 parallel ADDs 1.3x
 * (goals 4x, 1.5x, 3x).
 *
 * <h2>The client: C, not sh + socat (measured)</h2>
 * {@code nodekit-cni-client.c} (a resource of this package, compiled by {@code nodekit cni install})
 * adds about a millisecond: VERSION through it takes 5.1 ms p50 as seen by a Java caller, Go's
 * VERSION 3.9 ms. The same protocol spoken by a POSIX sh script with socat (kept for the benchmark,
 * {@code dev/nodekit/bench/cni/nodekit-cni-client.sh} in e2e) takes 36 ms for VERSION, 72 ms per ADD
 * and 1.76 s for 40 parallel ADDs (C client: 31 ms and 1.0 s): a dozen forks of sed, mktemp, od,
 * tail... per call. Worse, a pipeline cannot wait for "ready" before committing, so it cannot tell
 * "the daemon never started this call" from "the daemon died in the middle of it", which is what
 * makes falling back safe. The C client never parses JSON: it forwards its own file name, the
 * {@code CNI_*} variables and stdin as bytes.
 *
 * <h2>Protocol ({@link dev.nodekit.cni.daemon.CniWire}, version 1)</h2>
 * Request, then the daemon's "ready" (or a refusal), then the client's one-byte commit, then the
 * answer (exit code, stdout, stderr). Before the commit nothing has run: the client may fall back to
 * the JVM launcher. After it, the daemon owns the call. A newer request version is refused with a
 * message naming both versions; the client falls back and prints it.
 *
 * <h2>Client rules</h2>
 * <ul>
 *   <li>Connect within 1 s (a stale socket answers "refused" at once), "ready" within 5 s: otherwise
 *       fall back to {@code <lib>/launchers/<name>} with the stdin bytes replayed (memfd). So DEL and
 *       STATUS always work with the daemon down.</li>
 *   <li>The connection lost after the commit (the daemon was killed or restarted): fall back too.
 *       Nothing runs the call any more; a half-done ADD makes the fallback's ADD fail on the existing
 *       allocation or interface, and the runtime's DEL then removes both.</li>
 *   <li>No answer within the request bound (90 s, under kubelet's 2-minute CRI deadline) while the
 *       connection lives: CNI error 11, never a fallback, since the call may still be running.</li>
 *   <li>Refused "busy" (beyond the connection limit): CNI error 11.</li>
 * </ul>
 *
 * <h2>Daemon rules ({@link dev.nodekit.cni.daemon.CniDaemon})</h2>
 * <ul>
 *   <li>Socket 0600 in a 0700 directory, bound under a temporary name and renamed into place after its
 *       mode is set; the peer must be the daemon's own user ({@code SO_PEERCRED}).</li>
 *   <li>The plugins are the exec'd ones ({@link dev.nodekit.cni.launch.PluginMain#plugin}), one
 *       instance each, behind the same {@link dev.nodekit.cni.api.CniDispatcher}; the daemon's
 *       network namespace must be the host's (hostNetwork), as an exec'd plugin's is.</li>
 *   <li>Calls of one (container, interface) take turns, so the runtime's DEL after an ADD it gave up on
 *       waits for that ADD instead of racing it; at most {@code --max-concurrent} calls run at once;
 *       both waits are bounded (code 11). IPAM locks queue in memory per network first
 *       ({@link dev.nodekit.cni.ipam.InProcessLocker}), then take {@code flock} for the Go host-local
 *       and for exec'd nodekit plugins.</li>
 *   <li>One log line per call (plugin, command, container, interface, exit, duration).</li>
 *   <li>SIGTERM: stop accepting, remove the socket, let calls finish for 30 s.</li>
 * </ul>
 * Allowed imports: {@code dev.nodekit.cni.*} (api, launch, ipam, gc, the plugin packages it serves,
 * and install for the installed plugin names), {@code dev.nodekit.spec.cni}, {@code dev.nodekit.common},
 * picocli, SLF4J. Nothing on the exec path imports this package.
 */
package dev.nodekit.cni.daemon;
