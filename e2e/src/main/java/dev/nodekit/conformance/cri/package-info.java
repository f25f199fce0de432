/**
 * The CRI conformance suite: {@link dev.nodekit.conformance.cri.CriChecks#suite()} run against a
 * {@link dev.nodekit.conformance.cri.CriTarget} (any runtime.v1 endpoint: a runtime, or a proxy in
 * front of one, which must then give the same outcomes and the same skip reasons).
 *
 * <p>What it covers, by check id prefix:
 * <ul>
 *   <li>{@code cri.runtime.*}: Version (all four fields, {@code runtime_api_version = v1}; kubelet
 *       exits on an empty field since 1.27), Status (RuntimeReady and NetworkReady true; info only
 *       when verbose).</li>
 *   <li>{@code cri.sandbox.*}: RunPodSandbox with unique name/uid/namespace, hostname, cgroup
 *       parent, labels, annotations and log directory; PodSandboxStatus READY with an IP; ListPodSandbox
 *       filters (id, state, labels ANDed); StopPodSandbox and RemovePodSandbox idempotent; a removed
 *       pod is NOT_FOUND; the hostname seen inside a container.</li>
 *   <li>{@code cri.container.*}: CREATED, RUNNING, EXITED 0 after a TERM-trapping container is
 *       stopped (and quickly), a TERM-ignoring one killed after the stop timeout, forced and repeated
 *       RemoveContainer, ListContainers filters, the exit code of a container that exits by itself,
 *       StopPodSandbox stopping containers, and the CRI log file
 *       ({@code <RFC 3339> stdout|stderr F|P <line>} at {@code log_directory/log_path}).</li>
 *   <li>{@code cri.exec-sync.*}: stdout/stderr apart and the exit code; a timeout answers
 *       DEADLINE_EXCEEDED (kubelet turns exactly that into a probe timeout) and kills the command.</li>
 *   <li>{@code cri.stream.*}: the URLs of Exec, Attach and PortForward are opened for real with
 *       {@code java.net.http.WebSocket}, subprotocol {@code v4.channel.k8s.io}: each binary message
 *       starts with a channel byte (exec/attach: 1 stdout, 2 stderr, 3 a {@code metav1.Status} JSON
 *       carrying the exit code; port-forward: 0 data and 1 error per port, each opening with the
 *       port as uint16 little-endian). Exec must stream what ExecSync returns for the same command;
 *       attach must carry the container's stdout; port-forward must carry an HTTP exchange with a
 *       busybox httpd in the pod that answers with the pod's hostname.</li>
 *   <li>{@code cri.image.*}: ImageStatus of the target image (and by id), of an absent image (OK
 *       with no image, not an error), ListImages containing it, ImageFsInfo. PullImage is never called:
 *       {@code cri.image.pull} always SKIPs with {@link dev.nodekit.conformance.cri.CriChecks#PULL_SKIP}.</li>
 * </ul>
 *
 * <p>Rules of the suite: it never pulls (a check that needs the image SKIPs with "image X not
 * present and the suite never pulls"); each check creates its objects through a {@code Workspace}
 * and removes them in a {@code finally} (a failed cleanup fails the check), including the pod log
 * directories and, on cgroupfs hosts, the empty pod cgroup directories kubelet would remove; the
 * log check reads the runtime's log file, so the suite runs on the runtime's host.
 *
 * <p>What containerd 1.6.20 taught (and the suite therefore does not require): ListImages ignores
 * its ImageFilter (kubelet never sends one), so only "a filtered list still contains the image" is
 * checked; StopPodSandbox of an already removed pod answers NOT_FOUND, so only repeated stops of an
 * existing pod are required to succeed. Its stream server speaks WebSocket for exec, attach and
 * port-forward alike; exec and attach open with an empty stdout message.
 *
 * <p>Every check can fail: {@code CriChecksTest} runs each against an in-process fake runtime
 * (host processes for containers, a Java-WebSocket streaming server) with one injected defect, and
 * the stream protocol is tested as pure functions on frames captured from containerd.
 */
package dev.nodekit.conformance.cri;
