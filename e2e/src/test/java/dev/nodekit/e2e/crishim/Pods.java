package dev.nodekit.e2e.crishim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import dev.nodekit.e2e.containerd.ContainerdFixture;
import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.ContainerMetadata;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.ExecSyncRequest;
import dev.nodekit.spec.cri.v1.ExecSyncResponse;
import dev.nodekit.spec.cri.v1.ImageSpec;
import dev.nodekit.spec.cri.v1.LinuxPodSandboxConfig;
import dev.nodekit.spec.cri.v1.PodSandboxConfig;
import dev.nodekit.spec.cri.v1.PodSandboxMetadata;
import dev.nodekit.spec.cri.v1.RemovePodSandboxRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import dev.nodekit.spec.cri.v1.StartContainerRequest;
import dev.nodekit.spec.cri.v1.StopPodSandboxRequest;
import io.grpc.Channel;

/**
 * Pods and busybox containers made through some CRI endpoint (the shim, usually) for a given
 * containerd fixture (its cgroup parent, its pod log root), removed again by {@link #close()}
 * through {@code cleanup} (a channel that reaches them even when the shim is gone).
 */
final class Pods implements AutoCloseable {
    private final ContainerdFixture containerd;
    private final List<String> pods = new ArrayList<>();
    private final Channel cleanup;

    Pods(ContainerdFixture containerd, Channel cleanup) {
        this.containerd = containerd;
        this.cleanup = cleanup;
    }

    static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt(Channel ch) {
        return RuntimeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    PodSandboxConfig config(String name, Map<String, String> annotations) throws IOException {
        String uid = UUID.randomUUID().toString();
        Path logs = containerd.podLogRoot().resolve("shim-it-" + uid);
        Files.createDirectories(logs);
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setUid(uid).setNamespace("nodekit-shim-it"))
                .setHostname(name)
                .setLogDirectory(logs.toString())
                .putAllAnnotations(annotations)
                .setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent(containerd.cgroupParent() + "/pod" + uid))
                .build();
    }

    /** Runs a pod through {@code via}; the handler may be "". */
    String run(Channel via, PodSandboxConfig config, String handler) {
        String id = rt(via).runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config)
                .setRuntimeHandler(handler).build()).getPodSandboxId();
        pods.add(id);
        return id;
    }

    /** Creates and starts a {@code sleep 3600} busybox container in the pod. */
    String sleeper(Channel via, String podId, PodSandboxConfig pod, String name, ContainerConfig.Builder extra) {
        ContainerConfig.Builder c = (extra == null ? ContainerConfig.newBuilder() : extra)
                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                .setImage(ImageSpec.newBuilder().setImage(containerd.busyboxImage()))
                .addCommand("sleep").addArgs("3600")
                .setLogPath(name + ".log");
        String id = rt(via).createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(podId)
                .setSandboxConfig(pod).setConfig(c).build()).getContainerId();
        rt(via).startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        return id;
    }

    static ExecSyncResponse exec(Channel via, String containerId, String... cmd) {
        return rt(via).execSync(ExecSyncRequest.newBuilder().setContainerId(containerId).addAllCmd(List.of(cmd))
                .setTimeout(30).build());
    }

    void forget(String podId) {
        pods.remove(podId);
    }

    @Override
    public void close() {
        for (String id : pods) {
            try {
                rt(cleanup).stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
                rt(cleanup).removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
            } catch (RuntimeException e) {
                System.err.println("could not remove pod " + id + ": " + e.getMessage());
            }
        }
        pods.clear();
    }
}
