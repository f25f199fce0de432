package dev.nodekit.e2e.crishim;

import static dev.nodekit.common.Requirement.CNI_REFERENCE_PLUGINS;
import static dev.nodekit.common.Requirement.CONTAINERD;
import static dev.nodekit.common.Requirement.NETNS;
import static dev.nodekit.common.Requirement.ROOT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.bench.ShimProcess;
import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.common.metrics.Metrics;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.conformance.RunOptions;
import dev.nodekit.conformance.SuiteReport;
import dev.nodekit.crishim.CriShim;
import dev.nodekit.crishim.CriShimConfig;
import dev.nodekit.e2e.containerd.ContainerdExtension;
import dev.nodekit.e2e.containerd.ContainerdFixture;
import dev.nodekit.e2e.cri.CriSuiteRuns;
import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.ContainerState;
import dev.nodekit.spec.cri.v1.ContainerStatusRequest;
import dev.nodekit.spec.cri.v1.ExecSyncResponse;
import dev.nodekit.spec.cri.v1.ImageServiceGrpc;
import dev.nodekit.spec.cri.v1.ImageSpec;
import dev.nodekit.spec.cri.v1.ImageStatusRequest;
import dev.nodekit.spec.cri.v1.LinuxContainerConfig;
import dev.nodekit.spec.cri.v1.LinuxContainerSecurityContext;
import dev.nodekit.spec.cri.v1.ListContainersRequest;
import dev.nodekit.spec.cri.v1.ListImagesRequest;
import dev.nodekit.spec.cri.v1.ListPodSandboxRequest;
import dev.nodekit.spec.cri.v1.PodSandbox;
import dev.nodekit.spec.cri.v1.PodSandboxConfig;
import dev.nodekit.spec.cri.v1.RemoveContainerRequest;
import dev.nodekit.spec.cri.v1.StatusRequest;
import dev.nodekit.spec.cri.v1.StopContainerRequest;
import dev.nodekit.spec.cri.v1.VersionRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The CRI shim in front of real containerd 1.6: lifecycle and exec through it, the CRI suite direct
 * and through it with identical outcomes, routing over two containerd instances, the runtime killed
 * and restarted under it, the shim itself killed with SIGKILL and restarted, policy rejections.
 */
@Requires({ROOT, CONTAINERD, NETNS, CNI_REFERENCE_PLUGINS})
@ExtendWith(ContainerdExtension.class)
class CriShimIT {
    /** A second containerd, with an extra runc handler "kata" (routing), also the one killed and restarted. */
    static ContainerdFixture other;

    @TempDir
    Path dir;

    ContainerdFixture containerd;
    CriShim shim;
    ManagedChannel viaShim;
    ManagedChannel direct;
    Pods pods;

    @BeforeAll
    static void second() throws Exception {
        other = ContainerdFixture.start(ContainerdFixture.Options.defaults().withRuntimeHandlers("kata"));
    }

    @AfterAll
    static void closeSecond() {
        if (other != null) {
            other.close();
        }
    }

    @org.junit.jupiter.api.BeforeEach
    void fixture(ContainerdFixture shared) {
        containerd = shared;
        direct = containerd.openChannel();
        pods = new Pods(containerd, direct);
    }

    @AfterEach
    void stop() throws Exception {
        pods.close();
        if (viaShim != null) {
            viaShim.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (shim != null) {
            shim.close();
        }
        direct.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private Path sock(String name) {
        return dir.resolve(name + ".sock");
    }

    private void startShim(CriShimConfig cfg) throws Exception {
        shim = CriShim.start(cfg, Metrics.create(), Clock.systemUTC(), false);
        if (viaShim == null) {
            viaShim = UdsChannels.forTarget("unix://" + cfg.listen());
        }
    }

    private void startShim(String yaml) throws Exception {
        startShim(CriShimConfig.fromText(sock("shim"), Optional.of(containerd.endpoint()), "it.yaml", yaml, null,
                Duration.ofSeconds(2)));
    }

    @Test
    void podAndContainerLifecycleExecAndImagesThroughTheShim() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        startShim("""
                interceptors:
                  - type: metrics
                  - type: audit
                    settings: {output: %s}
                """.formatted(audit));
        var v = Pods.rt(viaShim).version(VersionRequest.getDefaultInstance());
        assertThat(v.getRuntimeName()).isEqualTo("containerd");
        assertThat(v.getRuntimeApiVersion()).isEqualTo("v1");
        assertThat(Pods.rt(viaShim).status(StatusRequest.getDefaultInstance()).getStatus().getConditionsList())
                .anySatisfy(c -> assertThat(c.getType()).isEqualTo("RuntimeReady"));
        var images = ImageServiceGrpc.newBlockingStub(viaShim).withDeadlineAfter(60, TimeUnit.SECONDS);
        assertThat(images.listImages(ListImagesRequest.getDefaultInstance()).getImagesList())
                .anySatisfy(i -> assertThat(i.getRepoTagsList()).contains(containerd.busyboxImage()));
        assertThat(images.imageStatus(ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder()
                .setImage(containerd.busyboxImage())).build()).hasImage()).isTrue();

        PodSandboxConfig pod = pods.config("lifecycle", Map.of());
        String podId = pods.run(viaShim, pod, "");
        String ctr = pods.sleeper(viaShim, podId, pod, "app", null);
        ExecSyncResponse out = Pods.exec(viaShim, ctr, "sh", "-c", "echo hello from $(hostname); exit 3");
        assertThat(new String(out.getStdout().toByteArray(), StandardCharsets.UTF_8)).isEqualTo("hello from lifecycle\n");
        assertThat(out.getExitCode()).isEqualTo(3);
        assertThat(Pods.rt(viaShim).containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr).build())
                .getStatus().getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
        assertThat(Pods.rt(viaShim).listContainers(ListContainersRequest.getDefaultInstance()).getContainersList())
                .anySatisfy(c -> assertThat(c.getId()).isEqualTo(ctr));
        Pods.rt(viaShim).stopContainer(StopContainerRequest.newBuilder().setContainerId(ctr).setTimeout(2).build());
        Pods.rt(viaShim).removeContainer(RemoveContainerRequest.newBuilder().setContainerId(ctr).build());
        // RunPodSandbox, CreateContainer, StartContainer, ExecSync, StopContainer, RemoveContainer.
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(audit)
                && Files.readAllLines(audit).size() == 6);
        String log = Files.readString(audit);
        assertThat(log).contains("\"method\":\"RunPodSandbox\"", "\"method\":\"CreateContainer\"",
                "\"method\":\"ExecSync\"", "\"exit_code\":3", "\"container_id\":\"" + ctr + "\"",
                "\"namespace\":\"nodekit-shim-it\"", "\"image\":\"" + containerd.busyboxImage() + "\"");
    }

    /**
     * ctr is a grpc-go client: containerd's own API, which the shim does not know, passes through the
     * frame relay with grpc-go on both sides (kubelet is grpc-go too), unary and streaming: version;
     * an image exported from containerd directly, imported through the shim (content written as a
     * client stream) into a namespace of its own, and exported again through it (read as a server
     * stream), byte for byte the same.
     */
    @Test
    void aGrpcGoClientUsesContainerdsOwnApiThroughTheShim() throws Exception {
        startShim("interceptors: [{type: metrics}]\n");
        String shimSock = sock("shim").toString();
        String directSock = containerd.socket().toString();
        String image = ContainerdFixture.BUSYBOX_IMAGE;
        assertThat(uuid(ctr(shimSock, "version"))).isNotEmpty().isEqualTo(uuid(ctr(directSock, "version")));
        Path exported = dir.resolve("exported.tar");
        ctr(directSock, "-n", "k8s.io", "images", "export", exported.toString(), image);
        String ns = "nk-shim-" + Long.toHexString(System.nanoTime());
        try {
            ctr(shimSock, "-n", ns, "images", "import", exported.toString());
            assertThat(ctr(shimSock, "-n", ns, "images", "ls", "-q").lines()).contains(image);
            Path again = dir.resolve("again.tar");
            ctr(shimSock, "-n", ns, "images", "export", again.toString(), image);
            assertThat(Files.mismatch(exported, again)).isEqualTo(-1L);
        } finally {
            ctr(directSock, "-n", ns, "images", "rm", image);
            for (String digest : ctr(directSock, "-n", ns, "content", "ls", "-q").lines().toList()) {
                ctr(directSock, "-n", ns, "content", "rm", digest);
            }
            ctr(directSock, "namespaces", "rm", ns);
        }
    }

    /** Runs ctr against {@code socket}; returns its stdout (fails the test on a non-zero exit). */
    private static String ctr(String socket, String... args) throws Exception {
        return ContainerdFixture.ctr(Path.of(socket), args).checkSuccess().stdout();
    }

    /** The server UUID line of {@code ctr version}. */
    private static String uuid(String versionOutput) {
        return versionOutput.lines().map(String::strip).filter(l -> l.startsWith("UUID:")).findFirst().orElse("");
    }

    @Test
    void theCriSuiteHasTheSameOutcomesDirectAndThroughTheShim() throws Exception {
        // audit and policy on the lifecycle calls, so both the typed and the raw paths carry the suite.
        startShim("""
                interceptors:
                  - type: metrics
                  - type: policy
                    settings:
                      rules:
                        - {name: label-everything, add: {labels: {nodekit.dev/via: shim}}}
                  - type: audit
                    settings: {output: %s}
                """.formatted(dir.resolve("audit.jsonl")));
        SuiteReport viaDirect = CriSuiteRuns.run("containerd direct", containerd.criConfig(), RunOptions.defaults());
        SuiteReport viaTheShim = CriSuiteRuns.run("through nodekit cri-shim",
                containerd.criConfig().withEndpoint("unix://" + sock("shim")), RunOptions.defaults());
        CriSuiteRuns.assertSameOutcomes(viaDirect, viaTheShim);
        assertThat(viaTheShim.results()).isNotEmpty();
        assertThat(viaTheShim.results()).noneMatch(r -> r.outcome() == dev.nodekit.conformance.Outcome.FAIL);
    }

    @Test
    void podsAreRoutedAcrossTwoContainerdsAndFoundAgainAfterAShimRestart() throws Exception {
        CriShimConfig cfg = CriShimConfig.fromText(sock("shim"), Optional.empty(), "it.yaml", """
                upstreams:
                  - {name: main, endpoint: "%s"}
                  - {name: other, endpoint: "%s"}
                routing:
                  runtimeHandlers: {kata: other}
                  annotation: nodekit.dev/runtime
                interceptors: [{type: metrics}]
                """.formatted(containerd.endpoint(), other.endpoint()), null, Duration.ofSeconds(2));
        startShim(cfg);
        ManagedChannel otherDirect = other.openChannel();
        try (Pods otherPods = new Pods(other, otherDirect)) {
            PodSandboxConfig onMain = pods.config("on-main", Map.of());
            PodSandboxConfig byHandler = otherPods.config("by-handler", Map.of());
            PodSandboxConfig byAnnotation = otherPods.config("by-annotation", Map.of("nodekit.dev/runtime", "other"));
            String p1 = pods.run(viaShim, onMain, "");
            String p2 = otherPods.run(viaShim, byHandler, "kata");
            String p3 = otherPods.run(viaShim, byAnnotation, "");
            assertThat(ids(Pods.rt(direct).listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()))
                    .contains(p1).doesNotContain(p2, p3);
            assertThat(ids(Pods.rt(otherDirect).listPodSandbox(ListPodSandboxRequest.getDefaultInstance())
                    .getItemsList())).contains(p2, p3).doesNotContain(p1);
            assertThat(ids(Pods.rt(viaShim).listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()))
                    .contains(p1, p2, p3);

            String c1 = pods.sleeper(viaShim, p1, onMain, "a", null);
            String c2 = otherPods.sleeper(viaShim, p2, byHandler, "b", null);
            assertThat(Pods.rt(viaShim).listContainers(ListContainersRequest.getDefaultInstance()).getContainersList())
                    .extracting(c -> c.getId()).contains(c1, c2);

            shim.close();
            startShim(cfg); // empty id map: the first call by id makes it list both runtimes
            assertThat(text(Pods.exec(viaShim, c2, "hostname"))).isEqualTo("by-handler\n");
            assertThat(text(Pods.exec(viaShim, c1, "hostname"))).isEqualTo("on-main\n");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> shim.knownIds() >= 5);
        } finally {
            otherDirect.shutdownNow();
        }
    }

    @Test
    void whenContainerdIsKilledCallsFailFastAndTheShimRecoversWhenItIsBack() throws Exception {
        ManagedChannel otherDirect = other.openChannel();
        try (Pods otherPods = new Pods(other, otherDirect)) {
            startShim(CriShimConfig.fromText(sock("shim"), Optional.of(other.endpoint()), "it.yaml",
                    "interceptors: [{type: metrics}]\n", null, Duration.ofSeconds(2)));
            PodSandboxConfig pod = otherPods.config("survivor", Map.of());
            String podId = otherPods.run(viaShim, pod, "");
            String ctr = otherPods.sleeper(viaShim, podId, pod, "s", null);

            other.killDaemon();
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> Pods.rt(viaShim).version(VersionRequest.getDefaultInstance()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class,
                                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
                Duration took = Duration.ofNanos(System.nanoTime() - t0);
                System.out.println("CriShimIT: Version with containerd down failed in " + took.toMillis() + " ms");
                assertThat(took).isLessThan(Duration.ofSeconds(2));
            }
            assertThat(sock("shim")).exists();

            long t0 = System.nanoTime();
            other.restartDaemon();
            long restarted = System.nanoTime();
            Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).ignoreExceptions()
                    .until(() -> Pods.rt(viaShim).version(VersionRequest.getDefaultInstance()) != null);
            long served = System.nanoTime();
            System.out.printf("CriShimIT: containerd restart took %d ms; the shim served %d ms after it was back%n",
                    (restarted - t0) / 1_000_000, (served - restarted) / 1_000_000);
            assertThat(Duration.ofNanos(served - restarted)).isLessThan(Duration.ofSeconds(3));
            // The pod survived (its shim outlived containerd) and is reachable through the shim.
            assertThat(text(Pods.exec(viaShim, ctr, "hostname"))).isEqualTo("survivor\n");
        } finally {
            otherDirect.shutdownNow();
        }
    }

    @Test
    void aShimKilledWithSigkillIsServingAgainQuicklyAfterRestart() throws Exception {
        Path log = dir.resolve("shim.log");
        ShimProcess p = ShimProcess.start(sock("proc"), containerd.endpoint(), log);
        try {
            double coldMs = p.awaitServing(Duration.ofSeconds(60)) / 1e6;
            ManagedChannel ch = UdsChannels.forTarget("unix://" + sock("proc"));
            PodSandboxConfig pod = pods.config("through-a-process", Map.of());
            String podId = pods.run(ch, pod, "");
            String ctr = pods.sleeper(ch, podId, pod, "x", null);
            ch.shutdownNow();

            p.kill9();
            assertThat(sock("proc")).exists(); // left behind by the killed process
            long t0 = System.nanoTime();
            p = ShimProcess.start(sock("proc"), containerd.endpoint(), log);
            double restartMs = p.awaitServing(Duration.ofSeconds(60)) / 1e6;
            double load = Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
            System.out.printf("CriShimIT: shim cold start %.0f ms, restart after kill -9 %.0f ms "
                    + "(spawn to first Version answered; load average %.1f)%n", coldMs, restartMs, load);
            // The goal is < 1 s (measured by `nodekit bench cri-shim`); on a shared CI box only a bound.
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
            ManagedChannel again = UdsChannels.forTarget("unix://" + sock("proc"));
            try {
                assertThat(text(Pods.exec(again, ctr, "hostname"))).isEqualTo("through-a-process\n");
            } finally {
                again.shutdownNow();
            }
        } finally {
            assertThat(p.stop()).as("exit code after SIGTERM").isIn(0, 143);
        }
        assertThat(sock("proc")).doesNotExist();
    }

    @Test
    void policyRejectionsNameTheRuleAndNeverReachContainerd() throws Exception {
        startShim("""
                interceptors:
                  - type: policy
                    settings:
                      rules:
                        - name: no-privileged
                          deny: {privileged: true}
                        - name: stamp
                          add: {labels: {nodekit.dev/checked: "yes"}, env: {STAMPED: "1"}}
                """);
        PodSandboxConfig pod = pods.config("policy", Map.of());
        String podId = pods.run(viaShim, pod, "");
        int before = Pods.rt(direct).listContainers(ListContainersRequest.getDefaultInstance()).getContainersCount();
        ContainerConfig.Builder privileged = ContainerConfig.newBuilder().setLinux(LinuxContainerConfig.newBuilder()
                .setSecurityContext(LinuxContainerSecurityContext.newBuilder().setPrivileged(true)));
        assertThatThrownBy(() -> pods.sleeper(viaShim, podId, pod, "root", privileged))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).startsWith("policy rule \"no-privileged\": container "
                            + "\"root\" of pod nodekit-shim-it/policy asks for privileged mode");
                });
        assertThat(Pods.rt(direct).listContainers(ListContainersRequest.getDefaultInstance()).getContainersCount())
                .isEqualTo(before);

        String ok = pods.sleeper(viaShim, podId, pod, "plain", null);
        var status = Pods.rt(direct).containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ok).build());
        assertThat(status.getStatus().getLabelsMap()).containsEntry("nodekit.dev/checked", "yes");
        assertThat(text(Pods.exec(viaShim, ok, "sh", "-c", "echo $STAMPED"))).isEqualTo("1\n");
    }

    private static List<String> ids(List<PodSandbox> pods) {
        return pods.stream().map(PodSandbox::getId).toList();
    }

    private static String text(ExecSyncResponse r) {
        return new String(r.getStdout().toByteArray(), StandardCharsets.UTF_8);
    }
}
