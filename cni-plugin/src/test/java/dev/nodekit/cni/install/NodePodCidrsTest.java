package dev.nodekit.cni.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;

/** --subnet-from-node against fabric8's mock API server in CRUD mode: nodes are created, then read back by name. */
@EnableKubernetesMockClient(crud = true)
class NodePodCidrsTest {
    static KubernetesClient client;

    @Test
    void readsTheDualStackPodCidrsOfTheNode() throws Exception {
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a").endMetadata().withNewSpec()
                .withPodCIDR("10.244.3.0/24").withPodCIDRs("10.244.3.0/24", "fd00:10:244:3::/64").endSpec().build()).create();
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-b").endMetadata().withNewSpec()
                .withPodCIDR("10.244.4.0/24").withPodCIDRs("10.244.4.0/24").endSpec().build()).create();
        assertThat(NodePodCidrs.read(client, "node-a")).containsExactly("10.244.3.0/24", "fd00:10:244:3::/64");
        assertThat(NodePodCidrs.read(client, "node-b")).containsExactly("10.244.4.0/24");
        // What it read makes a valid install spec (the conflist gets both range sets).
        InstallSpec s = InstallSpec.builder(java.nio.file.Path.of("/b"), java.nio.file.Path.of("/c"),
                java.nio.file.Path.of("/l"), java.nio.file.Path.of("/j")).subnets(NodePodCidrs.read(client, "node-a")).build();
        assertThat(s.subnets()).hasSize(2);
    }

    @Test
    void fallsBackToTheSinglePodCidrOfOlderClusters() throws Exception {
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("old").endMetadata().withNewSpec()
                .withPodCIDR("10.1.2.0/24").endSpec().build()).create();
        assertThat(NodePodCidrs.read(client, "old")).isEqualTo(List.of("10.1.2.0/24"));
    }

    @Test
    void explainsANodeWithoutPodCidrOrAMissingNode() {
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("bare").endMetadata().withNewSpec().endSpec()
                .build()).create();
        assertThatThrownBy(() -> NodePodCidrs.read(client, "bare")).hasMessageContaining("--allocate-node-cidrs");
        assertThatThrownBy(() -> NodePodCidrs.read(client, "nowhere")).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> NodePodCidrs.read(client, "")).hasMessageContaining("NODE_NAME");
    }
}
