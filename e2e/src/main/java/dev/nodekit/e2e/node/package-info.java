/**
 * One node's plugin side assembled as kubelet sees it, for the node e2e test and {@code nodekit demo}:
 * {@link dev.nodekit.e2e.node.LocalNode} (install, start, tear down), {@link dev.nodekit.e2e.node.Kubelet}
 * (kubelet's calls, order and paths), {@link dev.nodekit.e2e.node.NetnsPods} (pods without a runtime),
 * {@link dev.nodekit.e2e.node.Footprint} (what a run has on the host).
 *
 * <h2>One run dir, one run id</h2>
 * <pre>
 * /tmp/nodekit-&lt;runId&gt;/            (0700; short: containerd's sockets must stay within 104 bytes)
 *   cni-bin/      nodekit-bridge, nodekit-host-local, nodekit-loopback, loopback  (nodekit cni install)
 *   cni-lib/      the launchers' jars and class-data archive
 *   cni-conf/     10-nodekit.conflist: network nodekit-&lt;runId&gt;, bridge nk&lt;runId&gt;b, a free private /24
 *   cni-ipam/     host-local's dataDir (set in the conflist after the install), one file per address
 *   containerd/   the private containerd (config, sockets, root, state, logs; pods under cgroup nodekit-ctrd-&lt;runId&gt;)
 *   cri-shim.sock kubelet's runtime endpoint
 *   csi/          the CSI driver's csi.sock, data/ (images, journal), driver.log
 *   kubelet/      plugins/kubernetes.io/csi/&lt;driver&gt;/&lt;sha256(volume id)&gt;/globalmount (staging),
 *                 pods/&lt;pod uid&gt;/volumes/kubernetes.io~csi/&lt;pv&gt;/mount (publish targets)
 * </pre>
 * Host-wide names carry the run id (bridge, network name in the masquerade rules' comments, netns
 * {@code nk-<runId>-a|b}, cgroup parent), so {@link dev.nodekit.e2e.node.RunMarks} rebuilt from the
 * id and the dir alone finds everything a run made, even from another process after a crash.
 *
 * <h2>Order</h2>
 * kubelet's: CreateVolume (the provisioner), NodeStageVolume, NodePublishVolume into the pod's volume
 * dir (the pod uid is known before the sandbox exists), RunPodSandbox through the shim (containerd
 * execs loopback and nodekit-bridge, which delegates to nodekit-host-local), CreateContainer with the
 * target mounted, StartContainer; then the reverse: containers and sandboxes stopped and removed
 * (CNI DEL), NodeUnpublishVolume, NodeUnstageVolume, DeleteVolume.
 *
 * <h2>Teardown</h2>
 * {@link dev.nodekit.e2e.node.LocalNode#close()} is idempotent, may run on any thread and needs no
 * RPC to the shim or the driver (a Ctrl-C may have closed the driver's socket already): the shim
 * stops; the containerd fixture removes its pods through containerd itself (so CNI DEL runs) and
 * undoes everything of its own; mounts left under kubelet's dir are unmounted; the driver stops;
 * loop devices backed by its data dir are detached; plain namespaces are DELeted and deleted;
 * masquerade rules naming the run's network and their chains are removed; the bridge is deleted;
 * {@code net.ipv4.ip_forward} is put back (by the fixture when containerd ran); the run dir goes.
 * On a clean run every step but the last finds nothing to do, which is what the tests check with a
 * {@link dev.nodekit.e2e.node.Footprint} before teardown.
 *
 * <h2>Known limits</h2>
 * The IPAM data dir is set by rewriting the installed conflist: {@code nodekit cni install} has no
 * flag for it yet (a node uses host-local's default /var/lib/cni/networks). Host veths are named at
 * random by the bridge plugin, so they are found by their bridge while it exists and by the names
 * recorded during the run afterwards; a veth whose peer namespace is gone disappears with it.
 */
package dev.nodekit.e2e.node;
