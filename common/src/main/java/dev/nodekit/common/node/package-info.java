/**
 * Facts about the node a plugin runs on, collected through OSHI.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>Expensive, so explicit and lazy.</b> The first {@link dev.nodekit.common.node.NodeFacts#collect()}
 *       in a JVM initialises OSHI and loads JNA's native library: measured 0.5-0.6 s on the 2-core CI VM
 *       (OSHI alone, cold: about 0.9 s before the first answer when every part is touched); later
 *       collections take 13-40 ms, mostly {@code statvfs} of each filesystem. Nothing here runs at
 *       class-load time: OSHI is reached only through the package-private collector, and
 *       {@link dev.nodekit.common.node.NodeFacts#lazy()} defers the work to first use. Never call it on
 *       a path that serves a CSI or CRI call or a CNI execution (a CNI plugin starts once per pod;
 *       a second of JNA there is a second of pod start-up).</li>
 *   <li><b>Local filesystems only.</b> Network filesystems are skipped: {@code statvfs} on a dead NFS
 *       server blocks without a timeout. OSHI's own pseudo-filesystem list drops /proc, /sys, /dev,
 *       /run and shm mounts. Note OSHI does not treat {@code ceph} or {@code fuse.*} as network
 *       filesystems; a hung CephFS mount can still block a collection.</li>
 *   <li><b>Quiet.</b> At DEBUG OSHI logs a line for every /proc and /sys file it reads (hundreds per
 *       collection); nodekit's log binding keeps {@code oshi.*} loggers at INFO unless the level is
 *       TRACE. At INFO OSHI logs nothing on a healthy Linux host.</li>
 *   <li><b>Plain values.</b> Everything is a record of strings, numbers and lists, so
 *       {@link dev.nodekit.common.node.NodeFacts#toJson()} needs no extra Jackson module and the facts
 *       can be compared, logged and sent as they are. Addresses are in CIDR form, IPv6 compressed as
 *       RFC 5952 writes it; interfaces are those of the caller's network namespace.</li>
 * </ul>
 */
package dev.nodekit.common.node;
