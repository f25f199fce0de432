/**
 * The CNI conformance suite: runs any plugin directory (nodekit's or the Go reference plugins) in
 * throwaway network namespaces and judges what it does by the spec text alone.
 *
 * <h2>Ids: one set of checks per spec version</h2>
 * {@link dev.nodekit.conformance.cni.CniChecks} generates the same checks for each version of
 * {@link dev.nodekit.conformance.cni.CniVersions#KNOWN} (0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0), with ids
 * {@code cni.<token>.<group>.<name>} where the token is the version without dots: {@code v030},
 * {@code v031}, {@code v040}, {@code v100}, {@code v110} (check ids are dotted lower-case words, so
 * {@code 1.0.0} cannot appear as is). Groups: {@code version}, {@code add}, {@code check} (0.4.0 and
 * later only), {@code del}, {@code error}, {@code parallel}, {@code status} and {@code gc} (1.1.0
 * only). {@code --only 'cni\.v100\.'} runs one version; {@code --skip '\.parallel\.'} drops the
 * slow one. Versions the plugin's VERSION does not list are SKIP with "plugin does not claim X";
 * {@code --versions} replaces the claimed list (and then an unclaimed version fails, as asked).
 * A VERSION that fails makes every check FAIL, never SKIP, so a broken plugin cannot pass by
 * skipping.
 *
 * <h2>What the suite sends</h2>
 * One per-plugin network configuration per call, as a runtime builds it from a conflist. Generated
 * from {@code --plugin P --ipam I}: {@code {"cniVersion", "name": "nk-<runId>", "type": P,
 * "bridge": <per check>, "isGateway": true, "ipam": {"type": I, "ranges": [[{"subnet"}]],
 * "dataDir": <per check>}}} on a private /24 that overlaps no host route or address (10.88.0.0/16
 * is never used), no {@code ipMasq} (no iptables rules). From {@code --conf FILE}: the file's plugin
 * object (a conflist must hold exactly one), with {@code cniVersion} set per version, {@code bridge}
 * replaced by the check's own bridge when the key exists, and the IPAM {@code dataDir} moved into
 * the run's temp dir for host-local style IPAMs; everything else as written. A config without a
 * {@code bridge} key gets the plugin's default (the Go bridge's is {@code cni0}, possibly a live
 * node's bridge): give one in the file so the run stays on a bridge of its own.
 *
 * <h2>Isolation and cleanup</h2>
 * Every name a run creates starts with its random six-hex-digit run id: namespaces
 * {@code nk-<runId>-N}, bridges {@code nk<runId>bN}, container ids {@code nk<runId>cN}. Each check
 * works in a {@link dev.nodekit.conformance.cni.Sandbox} that, on close, DELs what is still attached,
 * deletes its namespaces, the veths left on its bridge, the bridge and its IPAM dir, and puts
 * {@code net.ipv4.ip_forward} back to 0 when the bridge turned it on; what cannot be removed fails
 * the check. Traffic: the only packets sent are pings from a check's namespace to a gateway that
 * the check verified sits on its own bridge.
 *
 * <h2>Judging</h2>
 * Results are read as jackson {@code JsonNode} trees and judged by
 * {@link dev.nodekit.conformance.cni.CniResultRules}, plain functions that unit tests feed with
 * hand-written JSON; never through nodekit's own CNI types, so the suite cannot share a
 * misreading with our plugins. Error codes follow the text of each version: codes 4 (missing
 * variables, named in the message) and 6 (undecodable config) exist from 1.0.0, so before it only
 * the error's shape (JSON on stdout, integer code, msg, non-zero exit) is required; code 1 for an
 * incompatible version holds for all. Allocation checks read the IPAM data dir in host-local's
 * on-disk format (a file per address, {@code lock}, {@code last_reserved_ip.N}), which nodekit's
 * host-local shares; when the config names no data dir they are left out ({@code gc} is SKIP).
 *
 * <h2>Exec</h2>
 * {@link dev.nodekit.conformance.cni.CniExec} runs {@code <binDir>/<type>} with only {@code PATH}
 * and the {@code CNI_*} variables (a runtime's clean environment), CNI_PATH = the bin dir, the
 * request on stdin, and a bound per call (default 30 s) after which the process tree is killed.
 * (It has its own small process runner because {@code common.exec.CommandRunner} always passes the
 * JVM's environment on.) Namespace work goes through {@code ip}, {@code nsenter --net=} and
 * {@code ping} run by {@code common.exec.CommandRunner}, never {@code setns} on a JVM thread.
 */
package dev.nodekit.conformance.cni;
