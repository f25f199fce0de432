package dev.nodekit.cni.install;

import java.util.ArrayList;
import java.util.List;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * The pod subnets Kubernetes assigned to a node ({@code spec.podCIDRs}, or the older single
 * {@code spec.podCIDR}), for {@code nodekit cni install --subnet-from-node}: the DaemonSet's init
 * container writes the conflist of the node it runs on without a per-node manifest. Needs {@code get}
 * on {@code nodes}.
 */
public final class NodePodCidrs {
    private NodePodCidrs() {
    }

    /**
     * The node's pod CIDRs, IPv4 first as Kubernetes lists them.
     *
     * @throws InstallException when the node does not exist, has no pod CIDR yet (the controller
     *                          manager allocates them with {@code --allocate-node-cidrs}), or the API
     *                          cannot be read
     */
    public static List<String> read(KubernetesClient client, String nodeName) throws InstallException {
        if (nodeName == null || nodeName.isBlank()) {
            throw new InstallException("no node name: pass --subnet-from-node NAME or set NODE_NAME (the downward API's "
                    + "spec.nodeName)");
        }
        Node node;
        try {
            node = client.nodes().withName(nodeName).get();
        } catch (KubernetesClientException e) {
            throw new InstallException("cannot read node " + nodeName + " from the Kubernetes API: " + e.getMessage());
        }
        if (node == null) {
            throw new InstallException("node " + nodeName + " does not exist in the Kubernetes API");
        }
        List<String> out = new ArrayList<>();
        if (node.getSpec() != null && node.getSpec().getPodCIDRs() != null) {
            out.addAll(node.getSpec().getPodCIDRs());
        }
        if (out.isEmpty() && node.getSpec() != null && node.getSpec().getPodCIDR() != null
                && !node.getSpec().getPodCIDR().isBlank()) {
            out.add(node.getSpec().getPodCIDR());
        }
        if (out.isEmpty()) {
            throw new InstallException("node " + nodeName + " has no podCIDR yet (is the controller manager running "
                    + "with --allocate-node-cidrs?); pass --subnet instead");
        }
        return List.copyOf(out);
    }
}
