package dev.nodekit.e2e.containerd;

import static dev.nodekit.common.Requirement.CNI_REFERENCE_PLUGINS;
import static dev.nodekit.common.Requirement.CONTAINERD;
import static dev.nodekit.common.Requirement.NETNS;
import static dev.nodekit.common.Requirement.ROOT;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.nodekit.common.testing.Requires;
import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.ContainerMetadata;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.ImageSpec;
import dev.nodekit.spec.cri.v1.LinuxPodSandboxConfig;
import dev.nodekit.spec.cri.v1.ListPodSandboxRequest;
import dev.nodekit.spec.cri.v1.PodSandboxConfig;
import dev.nodekit.spec.cri.v1.PodSandboxMetadata;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import dev.nodekit.spec.cri.v1.StartContainerRequest;
import dev.nodekit.spec.cri.v1.VersionRequest;
import io.grpc.ManagedChannel;

/**
 * The fixture itself: a second instance beside the shared one, kill and restart with pods surviving,
 * and teardown leaving nothing behind even when containerd died with pods running.
 */
@Requires({ROOT, CONTAINERD, NETNS, CNI_REFERENCE_PLUGINS})
@ExtendWith(ContainerdExtension.class)
class ContainerdFixtureIT {

    /** Runs a pod with one sleeping container on {@code f} (optionally under a runtime handler); returns the pod id. */
    static String runPod(ContainerdFixture f, String handler) {
        ManagedChannel ch = f.openChannel();
        try {
            var rt = RuntimeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
            String uid = UUID.randomUUID().toString();
            PodSandboxConfig cfg = PodSandboxConfig.newBuilder()
                    .setMetadata(PodSandboxMetadata.newBuilder().setName("fixture-it").setUid(uid).setNamespace("nodekit-it"))
                    .setHostname("fixture-it").setLogDirectory(f.podLogRoot().resolve(uid).toString())
                    .setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent(f.cgroupParent() + "/pod" + uid)).build();
            String pod = rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(cfg).setRuntimeHandler(handler)
                    .build()).getPodSandboxId();
            String c = rt.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod).setSandboxConfig(cfg)
                    .setConfig(ContainerConfig.newBuilder().setMetadata(ContainerMetadata.newBuilder().setName("sleeper"))
                            .setImage(ImageSpec.newBuilder().setImage(f.busyboxImage()))
                            .addAllCommand(List.of("sh", "-c", "trap 'exit 0' TERM; sleep 2147483647 & wait")))
                    .build()).getContainerId();
            rt.startContainer(StartContainerRequest.newBuilder().setContainerId(c).build());
            return pod;
        } finally {
            ch.shutdownNow();
        }
    }

    static List<String> podIds(ContainerdFixture f) {
        ManagedChannel ch = f.openChannel();
        try {
            return RuntimeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList().stream()
                    .map(p -> p.getId()).toList();
        } finally {
            ch.shutdownNow();
        }
    }

    static void assertNothingLeft(ContainerdFixture f, String cgroupName) throws Exception {
        Path dir = f.dir();
        assertThat(Files.exists(dir)).as("instance dir removed").isFalse();
        assertThat(Host.mountsUnder(dir)).as("mounts under " + dir).isEmpty();
        assertThat(Host.pidsWhere(cmd -> cmd.contains(dir.toString()))).as("processes using " + dir).isEmpty();
        for (Path root : Host.cgroupRoots()) {
            assertThat(root.resolve(cgroupName)).as("cgroup").doesNotExist();
        }
        if (Files.isDirectory(HostState.CNI_RESULTS)) {
            try (var files = Files.list(HostState.CNI_RESULTS)) {
                for (Path c : files.toList()) {
                    assertThat(Files.readString(c)).as("libcni cache " + c).doesNotContain(dir + "/");
                }
            }
        }
        if (f.bridge().isPresent()) {
            assertThat(Host.run("ip", "link", "show", f.bridge().get()).ok()).as("bridge " + f.bridge().get()).isFalse();
        }
    }

    @Test
    void secondInstanceRunsBesideTheSharedOneWithItsOwnNetworkAndHandlers(ContainerdFixture shared) throws Exception {
        ContainerdFixture second = ContainerdFixture.start(ContainerdFixture.Options.defaults().withRuntimeHandlers("runc-b"));
        try {
            assertThat(second.socket()).isNotEqualTo(shared.socket());
            assertThat(second.podSubnet()).isNotEqualTo(shared.podSubnet());
            assertThat(second.cgroupParent()).isNotEqualTo(shared.cgroupParent());
            for (ContainerdFixture f : List.of(shared, second)) {
                ManagedChannel ch = f.openChannel();
                try {
                    assertThat(RuntimeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                            .version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("containerd");
                } finally {
                    ch.shutdownNow();
                }
            }
            String pod = runPod(second, "runc-b");
            assertThat(podIds(second)).contains(pod);
            assertThat(podIds(shared)).doesNotContain(pod);
            assertThat(second.timings().total()).isPositive();
        } finally {
            second.close(); // with the pod still running: teardown removes it through CRI
        }
        assertNothingLeft(second, second.cgroupParent().substring(1));
    }

    @Test
    void podsSurviveAContainerdKillAndAreFoundAfterRestart() throws Exception {
        ContainerdFixture f = ContainerdFixture.start(ContainerdFixture.Options.defaults());
        try {
            String pod = runPod(f, "");
            long oldPid = f.pid();
            f.killDaemon();
            assertThat(f.isDaemonAlive()).isFalse();
            assertThat(Host.pidsWhere(f::isOurShim)).as("shims outlive containerd").isNotEmpty();
            f.restartDaemon();
            assertThat(f.pid()).isNotEqualTo(oldPid);
            assertThat(podIds(f)).contains(pod);
        } finally {
            f.close();
        }
        assertNothingLeft(f, f.cgroupParent().substring(1));
    }

    @Test
    void teardownCleansUpEvenWhenContainerdDiedWithPodsRunning() throws Exception {
        ContainerdFixture f = ContainerdFixture.start(ContainerdFixture.Options.defaults());
        List<Path> shimSockets;
        try {
            runPod(f, "");
            runPod(f, "");
            f.killDaemon(); // no CRI cleanup possible: shims, runc containers, netns and rootfs mounts remain
            assertThat(Host.mountsUnder(f.dir())).isNotEmpty();
            shimSockets = Host.pidsWhere(f::isOurShim).stream().map(pid -> f.shimSocket(Host.cmdline(pid)).orElseThrow())
                    .toList();
            assertThat(shimSockets).hasSize(2).allMatch(Files::exists, "shim socket named as containerd names it");
        } finally {
            f.close();
        }
        assertNothingLeft(f, f.cgroupParent().substring(1));
        assertThat(shimSockets).noneMatch(Files::exists);
    }
}
