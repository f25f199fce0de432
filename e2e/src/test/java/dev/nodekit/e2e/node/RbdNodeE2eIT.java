package dev.nodekit.e2e.node;

import static dev.nodekit.common.Requirement.CEPH;
import static dev.nodekit.common.Requirement.CONTAINERD;
import static dev.nodekit.common.Requirement.IPTABLES;
import static dev.nodekit.common.Requirement.LOOP_DEVICES;
import static dev.nodekit.common.Requirement.NETNS;
import static dev.nodekit.common.Requirement.RBD_FUSE;
import static dev.nodekit.common.Requirement.ROOT;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import dev.nodekit.common.testing.Requires;
import dev.nodekit.csi.rbd.RbdTestCluster;
import dev.nodekit.e2e.ceph.CephCluster;

/**
 * The node e2e flow of {@link NodeE2eIT}, in kubelet's order, with the CSI driver on
 * {@code --backend rbd} against the shared Ceph fixture: the volume is an RBD image, staged through
 * rbd-fuse and a loop device (this host has no krbd); the pods, the shim and the CNI plugins are the
 * same. {@link NodeScenario} checks that nothing of the run is left on the host (rbd-fuse daemons
 * and their mounts and loop devices live under the run dir, so its footprint covers them); this
 * test adds that no image of the run is left in the pool or its trash.
 */
@Requires({ROOT, CONTAINERD, NETNS, IPTABLES, LOOP_DEVICES, CEPH, RBD_FUSE})
class RbdNodeE2eIT {

    @Test
    void podWithNodekitNetworkAndAnRbdVolumeThroughTheShim() throws Exception {
        CephCluster cluster = CephCluster.shared();
        Set<String> imagesBefore = csiImages(cluster);
        Path work = Files.createTempDirectory("nodekit-rbd-node-");
        try {
            Path config = RbdTestCluster.writeYaml(RbdTestCluster.config(cluster,
                    RbdTestCluster.credentialDir(cluster, work)), work.resolve("ceph.yaml"));
            Map<String, Long> ms = NodeScenario.run(LocalNode.Options.defaults()
                    .withDaemons(LocalNode.Daemons.CHILD_PROCESSES)
                    .withCsiBackend("rbd", List.of("--ceph-config", config.toString())),
                    new Kubelet.StorageClass("ext4", RbdTestCluster.parameters(cluster), RbdTestCluster.secrets(cluster)));
            assertThat(ms).containsKeys("CreateVolume", "NodeStageVolume", "pod-to-pod wget", "re-stage, read, unstage",
                    "DeleteVolume", "teardown");
            // Other ITs share the pool: only what appeared during this run is ours.
            assertThat(csiImages(cluster)).as("images of the run left in %s (or its trash)", cluster.pool())
                    .isSubsetOf(imagesBefore);
        } finally {
            deleteTree(work);
        }
    }

    /** The csi-* images of the pool and the ids of its trash entries. */
    private static Set<String> csiImages(CephCluster cluster) throws IOException {
        Stream<String> images = cluster.adminOk("rbd", "ls", "-p", cluster.pool()).lines().map(String::strip)
                .filter(l -> l.startsWith("csi-"));
        Stream<String> trash = cluster.adminOk("rbd", "trash", "ls", "--all", "-p", cluster.pool()).lines()
                .map(String::strip).filter(l -> !l.isEmpty()).map(l -> "trash:" + l);
        return Stream.concat(images, trash).collect(Collectors.toSet());
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
