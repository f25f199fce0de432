package dev.nodekit.e2e.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.awaitility.Awaitility;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.nodekit.common.mount.MountInfo;
import dev.nodekit.common.mount.Mounts;
import dev.nodekit.e2e.containerd.ContainerdFixture;
import dev.nodekit.spec.cri.v1.ContainerState;
import dev.nodekit.spec.cri.v1.ExecSyncResponse;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import dev.nodekit.spec.cri.v1.StatusRequest;

/**
 * The node e2e flow in kubelet's order, with a check after every step, on any CSI backend: what
 * {@link NodeE2eIT} runs on the local backend, and what a backend's own node IT runs with its
 * {@link LocalNode.Options#withCsiBackend driver flags} and {@link Kubelet.StorageClass}. Prints
 * each step's duration.
 */
public final class NodeScenario {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final long VOLUME_BYTES = 64L << 20;

    private final Map<String, Long> millis = new LinkedHashMap<>();

    private final Kubelet.StorageClass storageClass;

    private NodeScenario(Kubelet.StorageClass storageClass) {
        this.storageClass = storageClass;
    }

    /**
     * Runs the whole flow on a node assembled with {@code options}, volumes of {@code storageClass};
     * the node is torn down in any case, then nothing of the run may be left.
     */
    public static Map<String, Long> run(LocalNode.Options options, Kubelet.StorageClass storageClass) throws Exception {
        NodeScenario s = new NodeScenario(storageClass);
        LocalNode node = LocalNode.create(options);
        try {
            s.flow(node);
        } finally {
            node.close(); // idempotent: after flow() this only confirms
        }
        Footprint left = node.footprint();
        assertThat(left.findings()).as("what the run left on the host").isEmpty();
        System.out.println("node e2e (" + options.csiBackend() + ", " + options.daemons() + ") step durations, ms: "
                + s.millis);
        return s.millis;
    }

    private void flow(LocalNode node) throws Exception {
        RunMarks m = node.marks();
        String message = "written in pod web of run " + m.runId();

        time("cni install", node::installCni);
        assertThat(m.cniBinDir().resolve("nodekit-bridge")).isExecutable();
        assertThat(m.cniBinDir().resolve("nodekit-host-local")).isExecutable();
        assertThat(m.cniBinDir().resolve("loopback")).isExecutable();
        JsonNode conflist = JSON.readTree(node.conflist().toFile());
        assertThat(conflist.path("name").asText()).isEqualTo(m.network());
        JsonNode plugin = conflist.path("plugins").path(0);
        assertThat(plugin.path("type").asText()).isEqualTo("nodekit-bridge");
        assertThat(plugin.path("bridge").asText()).isEqualTo(m.bridge());
        assertThat(plugin.path("ipam").path("type").asText()).isEqualTo("nodekit-host-local");
        assertThat(plugin.path("ipam").path("dataDir").asText()).isEqualTo(m.ipamDataDir().toString());
        assertThat(plugin.path("ipam").path("ranges").path(0).path(0).path("subnet").asText()).isEqualTo(node.subnet());

        ContainerdFixture containerd = time("containerd start", node::startContainerd);
        assertThat(containerd.cniBinDir()).isEqualTo(m.cniBinDir());
        time("shim start", node::startShim);
        time("csi start", node::startCsi);
        // containerd found our conflist: the CRI status, asked through the shim, says the network is ready.
        Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                RuntimeServiceGrpc.newBlockingStub(node.cri()).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .status(StatusRequest.getDefaultInstance()).getStatus().getConditionsList())
                .anySatisfy(c -> {
                    assertThat(c.getType()).isEqualTo("NetworkReady");
                    assertThat(c.getStatus()).isTrue();
                }));
        Kubelet k = node.kubelet(storageClass);

        Kubelet.Volume v = time("CreateVolume", () -> k.createVolume("pvc-e2e-" + m.runId(), VOLUME_BYTES));
        assertThat(v.bytes()).isEqualTo(VOLUME_BYTES);
        Path staging = time("NodeStageVolume", () -> k.stage(v));
        MountInfo staged = mountAt(staging).orElseThrow(() -> new AssertionError("nothing mounted at " + staging));
        assertThat(staged.fsType()).isEqualTo(storageClass.fsType());
        assertThat(node.footprint().count(Footprint.Kind.LOOP_DEVICE)).as("loop devices of the run").isEqualTo(1);

        String webUid = Kubelet.newPodUid();
        Path target = time("NodePublishVolume", () -> k.publish(v, webUid));
        assertThat(mountAt(target)).as("publish target mounted").isPresent();
        assertThat(target).isEqualTo(m.kubeletDir().resolve("pods").resolve(webUid)
                .resolve("volumes/kubernetes.io~csi").resolve(v.pvName()).resolve("mount"));

        Kubelet.Pod web = time("RunPodSandbox web", () -> k.runPod("web", webUid));
        assertInSubnet(web.ip(), node.subnet());
        assertAllocated(m, web.ip(), web.id());
        assertThat(node.bridgePorts()).as("host veths on %s", m.bridge()).hasSize(1);
        assertThat(node.masqueradeChains()).as("masquerade chain of the pod").isNotEmpty();

        String webContainer = time("start container web", () -> k.startContainer(web, "web",
                "trap 'exit 0' TERM; echo \"$MESSAGE\" > /data/hello.txt && sync && httpd -f -p 8080 -h /data & wait",
                Map.of("MESSAGE", message), Optional.of(target), "/data"));
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> k.containerState(webContainer)
                == ContainerState.CONTAINER_RUNNING);
        // The container's write, read on the host: through the pod's target and through the staging mount.
        Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                Files.readString(target.resolve("hello.txt")).strip()).isEqualTo(message));
        assertThat(Files.readString(staging.resolve("hello.txt")).strip()).isEqualTo(message);

        Kubelet.Pod client = time("RunPodSandbox client", () -> k.runPod("client", Kubelet.newPodUid()));
        assertInSubnet(client.ip(), node.subnet());
        assertThat(client.ip()).isNotEqualTo(web.ip());
        assertAllocated(m, client.ip(), client.id());
        assertThat(node.bridgePorts()).hasSize(2);
        node.masqueradeChains();
        String clientContainer = time("start container client", () -> k.startContainer(client, "client",
                "trap 'exit 0' TERM; sleep 3600 & wait", Map.of(), Optional.empty(), ""));
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> k.containerState(clientContainer)
                == ContainerState.CONTAINER_RUNNING);
        ExecSyncResponse addr = k.exec(clientContainer, Duration.ofSeconds(10), "ip", "-4", "-o", "addr", "show", "eth0");
        assertThat(addr.getStdout().toStringUtf8()).contains(" " + client.ip() + "/24");

        // Pod 2 reaches pod 1 over the bridge, and gets the file pod 1 wrote to the CSI volume.
        ExecSyncResponse ping = k.exec(clientContainer, Duration.ofSeconds(10), "ping", "-c", "1", "-W", "5", web.ip());
        assertThat(ping.getExitCode()).as("ping %s: %s", web.ip(), ping.getStdout().toStringUtf8()).isZero();
        String url = "http://" + web.ip() + ":8080/hello.txt";
        long t0 = System.nanoTime();
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            // No "-T": Debian's busybox-static wget crashes with it; ExecSync's timeout bounds the call.
            ExecSyncResponse r = k.exec(clientContainer, Duration.ofSeconds(10), "wget", "-q", "-O", "-", url);
            assertThat(r.getExitCode()).as("wget %s: %s", url, r.getStderr().toStringUtf8()).isZero();
            assertThat(r.getStdout().toStringUtf8().strip()).isEqualTo(message);
        });
        millis.put("pod-to-pod wget", (System.nanoTime() - t0) / 1_000_000);

        time("stop and remove pods", () -> {
            k.stopAndRemoveContainer(clientContainer, Duration.ofSeconds(10));
            k.stopAndRemoveContainer(webContainer, Duration.ofSeconds(10));
            k.stopAndRemovePod(client);
            k.stopAndRemovePod(web);
            return null;
        });
        Footprint pods = node.footprint().only(Footprint.Kind.podNetworking());
        assertThat(pods.findings()).as("pod networking left after the pods were removed").isEmpty();
        assertThat(allocationFiles(m.ipamNetworkDir())).as("IPAM allocations").isEmpty();

        time("NodeUnpublishVolume", () -> {
            k.unpublish(v, webUid);
            return null;
        });
        assertThat(mountAt(target)).isEmpty();
        assertThat(target).doesNotExist();
        time("NodeUnstageVolume", () -> {
            k.unstage(v);
            return null;
        });
        assertThat(mountAt(staging)).isEmpty();
        assertThat(node.footprint().count(Footprint.Kind.LOOP_DEVICE)).as("loop devices after unstage").isZero();

        // The data is on the volume, not in a mount or a pod: stage again and read it.
        time("re-stage, read, unstage", () -> {
            Path again = k.stage(v);
            assertThat(again).isEqualTo(staging);
            assertThat(Files.readString(again.resolve("hello.txt")).strip()).isEqualTo(message);
            k.unstage(v);
            return null;
        });
        assertThat(mountAt(staging)).isEmpty();
        time("DeleteVolume", () -> {
            k.deleteVolume(v);
            return null;
        });
        List<Long> children = node.childPids();
        time("teardown", () -> {
            node.close();
            return null;
        });
        for (long pid : children) {
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("daemon %d alive", pid)
                    .isFalse();
        }
    }

    @FunctionalInterface
    interface Body<T> {
        T run() throws Exception;
    }

    private <T> T time(String what, Body<T> body) throws Exception {
        long t0 = System.nanoTime();
        T t = body.run();
        millis.put(what, (System.nanoTime() - t0) / 1_000_000);
        return t;
    }

    static Optional<MountInfo> mountAt(Path p) throws IOException {
        return Mounts.system().findByMountPoint(p);
    }

    static void assertInSubnet(String ip, String subnet) {
        assertThat(ip).startsWith(subnet.substring(0, subnet.lastIndexOf('.') + 1));
    }

    /** host-local's file for {@code ip} holds the sandbox id (containerd's CNI_CONTAINERID) and the interface. */
    static void assertAllocated(RunMarks m, String ip, String containerId) throws IOException {
        Path f = m.ipamNetworkDir().resolve(ip);
        assertThat(f).isRegularFile();
        assertThat(Files.readString(f)).isEqualTo(containerId + "\r\neth0");
    }

    static List<String> allocationFiles(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9.]+|[0-9a-f:]+") && n.contains("."))
                    .forEach(out::add);
        }
        return out;
    }
}
