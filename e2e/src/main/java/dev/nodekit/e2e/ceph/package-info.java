/**
 * A real Ceph cluster for integration tests and benchmarks. The fixture lives in main sources
 * because {@code nodekit bench csi-rbd} boots one (as the containerd fixture does for
 * {@code nodekit demo}); it uses no test library. The ITs of the fixture and of nodekit's
 * in-process Ceph access ({@code dev.nodekit.csi.rbd.ceph}) stay in test sources, same package.
 *
 * <p>{@link dev.nodekit.e2e.ceph.CephCluster} boots a single-node Ceph 16.2 (Pacific) cluster from
 * the Debian packages: mon + mgr + one OSD on 127.0.0.1, everything under one temp dir, cephx on, a
 * test pool and a restricted CSI user. Design notes:
 * <ul>
 *   <li><b>Speed</b> (usable for RBD in about 1.2-2.2 s with memstore on a loaded 2-core VM, 4 s
 *       with bluestore): keys are generated in-process ({@code CephKeys}) and imported by the
 *       monitor's mkfs with their caps; the OSD is formatted while the monitor is and started before
 *       it is registered; one python program on the rados/rbd bindings replaces the
 *       {@code ceph} CLI calls (0.5-2.5 s each); {@code paxos_propose_interval = 0.1}.</li>
 *   <li><b>Readiness</b>: after a boot, the end of {@code rbd pool init}; after a restart, the
 *       monitor port accepting, the OSD logging {@code booting -> active}, then {@code rbd ls}. A
 *       client asking earlier would park its operation until its next objecter tick (5 s).</li>
 *   <li><b>Processes</b>: {@code setsid} daemons, PIDs in {@code DIR/pids}, stopped by PID only
 *       (SIGTERM, then SIGKILL), reverse start order; the JVM is their parent and reaps them.
 *       {@code osd_fast_shutdown = false} makes a stopped memstore OSD save its data, so
 *       {@code stop()}/{@code start()} keeps it. Clusters of JVMs that died without their exit hook
 *       are reaped by the next fixture JVM ({@code Orphans}).</li>
 *   <li><b>Ports</b>: the monitor's v2/v1 ports are picked free per cluster below the ephemeral
 *       range and kept across restarts; OSD and manager bind free ports in 6800-7300 themselves.
 *       Monitor addresses carry {@code v2:}/{@code v1:} prefixes, which librados needs to report
 *       wrong credentials at once instead of at the connect timeout.</li>
 * </ul>
 */
package dev.nodekit.e2e.ceph;
