package dev.nodekit.crishim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.crishim.api.CriMethods;
import dev.nodekit.spec.cri.v1.ContainerConfig;
import dev.nodekit.spec.cri.v1.ContainerEventResponse;
import dev.nodekit.spec.cri.v1.ContainerMetadata;
import dev.nodekit.spec.cri.v1.ContainerStatusRequest;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.GetEventsRequest;
import dev.nodekit.spec.cri.v1.ImageSpec;
import dev.nodekit.spec.cri.v1.ListContainersRequest;
import dev.nodekit.spec.cri.v1.ListImagesRequest;
import dev.nodekit.spec.cri.v1.ListMetricDescriptorsRequest;
import dev.nodekit.spec.cri.v1.ListMetricDescriptorsResponse;
import dev.nodekit.spec.cri.v1.ListPodSandboxRequest;
import dev.nodekit.spec.cri.v1.MetricDescriptor;
import dev.nodekit.spec.cri.v1.PodSandboxConfig;
import dev.nodekit.spec.cri.v1.PodSandboxMetadata;
import dev.nodekit.spec.cri.v1.PodSandboxStatusRequest;
import dev.nodekit.spec.cri.v1.PullImageRequest;
import dev.nodekit.spec.cri.v1.RemovePodSandboxRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import dev.nodekit.spec.cri.v1.StartContainerRequest;
import dev.nodekit.spec.cri.v1.StreamContainersRequest;
import dev.nodekit.spec.cri.v1.StreamContainersResponse;
import dev.nodekit.spec.cri.v1.UpdateRuntimeConfigRequest;
import dev.nodekit.spec.cri.v1.VersionRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Two runtimes behind one shim: pods by handler or annotation, later calls by id, lists merged, ids rebuilt after a restart. */
class RoutingTest {
    @TempDir
    Path dir;

    ShimHarness h;
    FakeCri a;
    FakeCri b;

    @BeforeEach
    void start() throws Exception {
        h = new ShimHarness(dir);
        a = h.fake("a").stateful();
        b = h.fake("b").stateful();
        h.start(Optional.empty(), config("FAIL", false));
    }

    private String config(String listFailure, boolean replicate) {
        return """
                upstreams:
                  - {name: a, endpoint: "%s"}
                  - {name: b, endpoint: "%s"}
                routing:
                  runtimeHandlers: {kata: b}
                  annotation: nodekit.dev/runtime
                  listFailure: %s
                  images: {upstream: a, replicate: %s}
                interceptors: []
                """.formatted(a.endpoint(), b.endpoint(), listFailure, replicate);
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private String runPod(String name, String handler, String annotation) {
        PodSandboxConfig.Builder c = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace("default").setUid(name + "-uid"));
        if (annotation != null) {
            c.putAnnotations("nodekit.dev/runtime", annotation);
        }
        return h.runtime().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(c).setRuntimeHandler(handler)
                .build()).getPodSandboxId();
    }

    private String createContainer(String podId, String name) {
        return h.runtime().createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(podId)
                .setConfig(ContainerConfig.newBuilder().setMetadata(ContainerMetadata.newBuilder().setName(name)))
                .build()).getContainerId();
    }

    @Test
    void podsGoByAnnotationThenHandlerThenDefaultAndTheirContainersFollowThem() {
        String p1 = runPod("plain", "", null);
        String p2 = runPod("kata", "kata", null);
        String p3 = runPod("annotated", "kata", "a"); // the annotation wins over the handler
        assertThat(p1).startsWith("a-pod");
        assertThat(p2).startsWith("b-pod");
        assertThat(p3).startsWith("a-pod");

        String c2 = createContainer(p2, "app");
        assertThat(c2).startsWith("b-ctr");
        h.runtime().startContainer(StartContainerRequest.newBuilder().setContainerId(c2).build());
        assertThat(b.received(CriMethods.START_CONTAINER)).hasSize(1);
        assertThat(a.received(CriMethods.START_CONTAINER)).isEmpty();
        h.runtime().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(p2).build());
        assertThat(b.received(CriMethods.POD_SANDBOX_STATUS)).hasSize(1);

        // Version and Status go to the default; UpdateRuntimeConfig to both.
        assertThat(h.runtime().version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("a");
        h.runtime().updateRuntimeConfig(UpdateRuntimeConfigRequest.getDefaultInstance());
        assertThat(a.received(CriMethods.UPDATE_RUNTIME_CONFIG)).hasSize(1);
        assertThat(b.received(CriMethods.UPDATE_RUNTIME_CONFIG)).hasSize(1);
    }

    @Test
    void anAnnotationNamingNoRuntimeIsRefused() {
        assertThatThrownBy(() -> runPod("x", "", "nosuch"))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("nodekit.dev/runtime=nosuch");
                });
    }

    @Test
    void listsAreFannedOutAndMerged() {
        String pa = runPod("p-a", "", null);
        String pb = runPod("p-b", "kata", null);
        createContainer(pa, "c1");
        createContainer(pb, "c2");
        createContainer(pb, "c3");
        assertThat(h.runtime().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList())
                .extracting(p -> p.getMetadata().getName()).containsExactlyInAnyOrder("p-a", "p-b");
        assertThat(h.runtime().listContainers(ListContainersRequest.getDefaultInstance()).getContainersList())
                .extracting(c -> c.getMetadata().getName()).containsExactlyInAnyOrder("c1", "c2", "c3");

        // Streams are concatenated (3 echo messages from each runtime)...
        Iterator<StreamContainersResponse> it = RuntimeServiceGrpc.newBlockingStub(h.channel)
                .streamContainers(StreamContainersRequest.getDefaultInstance());
        List<StreamContainersResponse> got = new ArrayList<>();
        it.forEachRemaining(got::add);
        assertThat(got).hasSize(2 * FakeCri.STREAM_MESSAGES);

        // ...descriptors merged by name.
        ListMetricDescriptorsResponse d = ListMetricDescriptorsResponse.newBuilder()
                .addDescriptors(MetricDescriptor.newBuilder().setName("cpu")).build();
        a.on(CriMethods.LIST_METRIC_DESCRIPTORS, r -> FakeCri.Reply.ok(d));
        b.on(CriMethods.LIST_METRIC_DESCRIPTORS, r -> FakeCri.Reply.ok(d.toBuilder()
                .addDescriptors(MetricDescriptor.newBuilder().setName("mem")).build()));
        assertThat(h.runtime().listMetricDescriptors(ListMetricDescriptorsRequest.getDefaultInstance())
                .getDescriptorsList()).extracting(MetricDescriptor::getName).containsExactly("cpu", "mem");
    }

    @Test
    void eventsEndWhenOneRuntimeEndsTheirStreamSoKubeletFallsBack() {
        java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
        b.on(CriMethods.GET_CONTAINER_EVENTS, r -> FakeCri.Reply.ok(new byte[0], new byte[0]).heldBy(never));
        a.on(CriMethods.GET_CONTAINER_EVENTS, r -> FakeCri.Reply.error(
                Status.UNIMPLEMENTED.withDescription("not in containerd 1.6"), new io.grpc.Metadata())
                .withDelay(Duration.ofMillis(300)));
        Iterator<ContainerEventResponse> it = RuntimeServiceGrpc.newBlockingStub(h.channel)
                .withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS)
                .getContainerEvents(GetEventsRequest.getDefaultInstance());
        assertThatThrownBy(() -> it.forEachRemaining(x -> { }))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
                    assertThat(e.getStatus().getDescription()).isEqualTo("runtime 'a': not in containerd 1.6");
                });
        // The other runtime's stream is cancelled, not left running.
        Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> b.cancelled().contains(CriMethods.GET_CONTAINER_EVENTS.fullName()));
    }

    @Test
    void aListFailsWhenOneRuntimeIsDownUnlessSkippingIsConfigured() throws Exception {
        runPod("p-a", "", null);
        b.stop();
        assertThatThrownBy(() -> h.runtime().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).contains("runtime 'b'");
                });
        h.shim.close();
        h.start(Optional.empty(), config("SKIP", false));
        assertThat(h.runtime().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList())
                .extracting(p -> p.getMetadata().getName()).containsExactly("p-a");
    }

    @Test
    void afterAShimRestartCallsByIdReachTheRightRuntime() throws Exception {
        String pb = runPod("p-b", "kata", null);
        String cb = createContainer(pb, "c");
        String pa = runPod("p-a", "", null);
        h.restartShim();
        // Immediately: a miss lists both runtimes before routing.
        h.runtime().startContainer(StartContainerRequest.newBuilder().setContainerId(cb).build());
        assertThat(b.received(CriMethods.START_CONTAINER)).hasSize(1);
        h.runtime().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pa).build());
        assertThat(a.received(CriMethods.POD_SANDBOX_STATUS)).hasSize(1);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> h.shim.knownIds() >= 3);

        // An id nobody has goes to the default runtime, which answers NotFound.
        assertThatThrownBy(() -> h.runtime().containerStatus(ContainerStatusRequest.newBuilder()
                .setContainerId("nope").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getDescription()).startsWith("a: no such id"));
    }

    @Test
    void anUnknownIdWhileARuntimeIsDownIsUnavailableNotNotFound() throws Exception {
        String pb = runPod("p-b", "kata", null);
        h.shim.close();
        b.stop();
        h.start(Optional.empty(), config("FAIL", false));
        assertThatThrownBy(() -> h.runtime().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                .setPodSandboxId(pb).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).contains(pb).contains("[b]");
                });
        assertThat(a.received(CriMethods.REMOVE_POD_SANDBOX)).isEmpty();
        b.listen();
        Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .untilAsserted(() -> h.runtime().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                        .setPodSandboxId(pb).build()));
        assertThat(b.received(CriMethods.REMOVE_POD_SANDBOX)).hasSize(1);
    }

    @Test
    void imagesGoToTheImageRuntimeOrEverywhereWhenReplicated() throws Exception {
        h.images().listImages(ListImagesRequest.getDefaultInstance());
        h.images().pullImage(PullImageRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage("busybox")).build());
        assertThat(a.received(CriMethods.PULL_IMAGE)).hasSize(1);
        assertThat(b.received(CriMethods.PULL_IMAGE)).isEmpty();
        h.images().pullImage(PullImageRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage("busybox")
                .setRuntimeHandler("kata")).build());
        assertThat(b.received(CriMethods.PULL_IMAGE)).hasSize(1);

        h.shim.close();
        h.start(Optional.empty(), config("FAIL", true));
        h.images().pullImage(PullImageRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage("nginx")).build());
        assertThat(a.received(CriMethods.PULL_IMAGE)).hasSize(2);
        assertThat(b.received(CriMethods.PULL_IMAGE)).hasSize(2);
        assertThat(b.received(CriMethods.LIST_IMAGES)).isEmpty();
    }
}
