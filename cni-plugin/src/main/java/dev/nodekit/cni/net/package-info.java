/**
 * Network plumbing for CNI plugins without netlink bindings: addresses ({@link dev.nodekit.cni.net.IpAddress},
 * {@link dev.nodekit.cni.net.IpNetwork}, printed exactly as Go prints them), namespaces entered through
 * child processes ({@link dev.nodekit.cni.net.NetNs}), the host's interfaces and sysctls read from
 * sysfs and procfs ({@link dev.nodekit.cni.net.SysfsLinks}, {@link dev.nodekit.cni.net.Sysctls}), and
 * masquerading compatible with the Go plugins' ({@link dev.nodekit.cni.net.IpMasq}).
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>No setns in the JVM.</b> {@code setns(2)} moves one thread, and the JVM always has many. A
 *       pod namespace is entered by {@code nsenter --net=<path>} running {@code ip}; CNI_NETNS is any
 *       path, which {@code ip -n} (names under /run/netns only) cannot take. Sysctls inside the pod's
 *       namespace are written by a {@code sh} step in the same exec chain, since /proc/sys/net shows
 *       the namespace of the reading process.</li>
 *   <li><b>Few execs.</b> An exec costs milliseconds, so operations are batched: {@code ip -batch -}
 *       runs every line of an {@link dev.nodekit.cni.net.IpBatch} in one process, {@code ip -j}
 *       answers reads as JSON (read with jackson-core's streaming parser), and what the host namespace
 *       can tell through files (does the bridge exist, its MAC, a port's master) is read from
 *       /sys/class/net instead of an exec.</li>
 *   <li><b>Bounded.</b> Every exec has a timeout (default 10 s) and iptables waits at most a bounded
 *       time for the xtables lock ({@code -w}); either limit is answered with code 11, try again
 *       later, never a hang.</li>
 *   <li><b>Tokens are checked.</b> A batch line is split on whitespace by {@code ip}, so
 *       {@link dev.nodekit.cni.net.IpBatch} refuses tokens with whitespace, quotes, backslashes or
 *       {@code #}; interface names follow the kernel's rules ({@link dev.nodekit.cni.net.InterfaceNames}).</li>
 * </ul>
 */
package dev.nodekit.cni.net;
