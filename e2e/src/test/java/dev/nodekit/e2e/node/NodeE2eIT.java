package dev.nodekit.e2e.node;

import static dev.nodekit.common.Requirement.CONTAINERD;
import static dev.nodekit.common.Requirement.IPTABLES;
import static dev.nodekit.common.Requirement.LOOP_DEVICES;
import static dev.nodekit.common.Requirement.NETNS;
import static dev.nodekit.common.Requirement.ROOT;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.nodekit.common.testing.Requires;

/**
 * One node end to end, as kubelet drives it: nodekit's CNI plugins installed into containerd's CNI
 * dirs, {@code nodekit cri-shim} in front of containerd, {@code nodekit csi} on the embedded local
 * backend (both as child processes through bin/nodekit, as on a node). Volume created, staged,
 * published; two pods through the shim on nodekit's bridge with addresses from nodekit's IPAM; the
 * first pod's container writes to the volume, the host reads it, the second pod fetches it over
 * the pod network; everything undone in kubelet's order; the data read back after a re-stage;
 * nothing of the run left on the host.
 */
@Requires({ROOT, CONTAINERD, NETNS, IPTABLES, LOOP_DEVICES})
class NodeE2eIT {

    @Test
    void podWithNodekitNetworkAndVolumeThroughTheShimOnTheLocalBackend() throws Exception {
        Map<String, Long> ms = NodeScenario.run(LocalNode.Options.defaults().withDaemons(LocalNode.Daemons.CHILD_PROCESSES),
                Kubelet.StorageClass.localExt4());
        assertThat(ms).containsKeys("RunPodSandbox web", "pod-to-pod wget", "re-stage, read, unstage", "teardown");
    }
}
