package dev.nodekit.common.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;
import org.slf4j.event.Level;

import dev.nodekit.common.metrics.Metrics;
import dev.nodekit.spec.csi.v1.GetPluginInfoRequest;
import dev.nodekit.spec.csi.v1.GetPluginInfoResponse;
import dev.nodekit.spec.csi.v1.IdentityGrpc;
import dev.nodekit.spec.csi.v1.NodeGrpc;
import dev.nodekit.spec.csi.v1.NodeStageVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeStageVolumeResponse;
import dev.nodekit.spec.csi.v1.NodeUnstageVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnstageVolumeResponse;
import dev.nodekit.spec.csi.v1.ProbeRequest;
import dev.nodekit.spec.csi.v1.ProbeResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;

class StandardInterceptorsTest {
    private static final Pattern GENERATED_ID = Pattern.compile("[0-9a-f]{12}");

    private final List<AccessLogEntry> log = new CopyOnWriteArrayList<>();
    private final Metrics metrics = Metrics.create();
    /** The "slow" handler blocks until the test releases it. */
    private final CountDownLatch releaseSlow = new CountDownLatch(1);
    private final AtomicReference<String> mdcInHandler = new AtomicReference<>();
    private ExecutorService executor;
    private Server server;
    private ManagedChannel channel;

    /** Identity answers with the request id it sees; Node fails in the ways the chain must handle. */
    @BeforeEach
    void start() throws Exception {
        executor = Executors.newSingleThreadExecutor();
        InterceptorOptions options = InterceptorOptions.defaults()
                .withAccessLogSink(log::add)
                .withQuietMethods("csi.v1.Identity/Probe")
                .withRequestBodies(() -> true);
        var chain = StandardInterceptors.standard(metrics, options);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).executor(executor)
                .addService(ServerInterceptors.interceptForward(new EchoIdentity(), chain))
                .addService(ServerInterceptors.interceptForward(new FailingNode(), chain))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        executor.shutdownNow();
    }

    final class EchoIdentity extends IdentityGrpc.IdentityImplBase {
        @Override
        public void getPluginInfo(GetPluginInfoRequest request, StreamObserver<GetPluginInfoResponse> out) {
            out.onNext(GetPluginInfoResponse.newBuilder()
                    .setName(RequestIds.current().orElse("none"))
                    .setVendorVersion(String.valueOf(MDC.get(RequestIds.MDC_KEY)))
                    .build());
            out.onCompleted();
        }

        @Override
        public void probe(ProbeRequest request, StreamObserver<ProbeResponse> out) {
            out.onNext(ProbeResponse.getDefaultInstance());
            out.onCompleted();
        }
    }

    final class FailingNode extends NodeGrpc.NodeImplBase {
        @Override
        public void nodeStageVolume(NodeStageVolumeRequest req, StreamObserver<NodeStageVolumeResponse> out) {
            mdcInHandler.set(MDC.get(RequestIds.MDC_KEY));
            switch (req.getVolumeId()) {
                case "boom" -> throw new IllegalStateException("disk on fire");
                case "missing" -> throw Status.NOT_FOUND.withDescription("no volume missing").asRuntimeException();
                case "slow" -> {
                    try {
                        if (releaseSlow.await(30, TimeUnit.SECONDS)) {
                            out.onNext(NodeStageVolumeResponse.getDefaultInstance());
                            out.onCompleted();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                default -> {
                    out.onNext(NodeStageVolumeResponse.getDefaultInstance());
                    out.onCompleted();
                }
            }
        }

        @Override
        public void nodeUnstageVolume(NodeUnstageVolumeRequest req, StreamObserver<NodeUnstageVolumeResponse> out) {
            out.onNext(NodeUnstageVolumeResponse.getDefaultInstance());
            out.onCompleted();
            throw new IllegalArgumentException("bug after answering"); // must not close twice or log twice
        }
    }

    private IdentityGrpc.IdentityBlockingStub identity(Metadata extra, AtomicReference<Metadata> headers,
            AtomicReference<Metadata> trailers) {
        return IdentityGrpc.newBlockingStub(channel).withInterceptors(
                MetadataUtils.newAttachHeadersInterceptor(extra),
                MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
    }

    private static Metadata withRequestId(String id) {
        Metadata m = new Metadata();
        m.put(RequestIds.METADATA_KEY, id);
        return m;
    }

    private NodeStageVolumeRequest stage(String volumeId) {
        return NodeStageVolumeRequest.newBuilder().setVolumeId(volumeId).setStagingTargetPath("/staging/" + volumeId)
                .putSecrets("password", "hunter2").build();
    }

    @Test
    void callerRequestIdReachesContextAndMdcAndIsEchoed() {
        AtomicReference<Metadata> headers = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        GetPluginInfoResponse r = identity(withRequestId("req-42.a:b_c"), headers, trailers)
                .getPluginInfo(GetPluginInfoRequest.getDefaultInstance());
        assertThat(r.getName()).isEqualTo("req-42.a:b_c");
        assertThat(r.getVendorVersion()).isEqualTo("req-42.a:b_c");
        assertThat(headers.get().get(RequestIds.METADATA_KEY)).isEqualTo("req-42.a:b_c");
        await().until(() -> log.size() == 1);
        assertThat(log.get(0).requestId()).isEqualTo("req-42.a:b_c");
    }

    @Test
    void missingOrUnsafeRequestIdsAreReplacedByGeneratedOnes() {
        for (Metadata extra : List.of(new Metadata(), withRequestId("a b\"c"), withRequestId("x".repeat(65)))) {
            AtomicReference<Metadata> headers = new AtomicReference<>();
            GetPluginInfoResponse r = identity(extra, headers, new AtomicReference<>())
                    .getPluginInfo(GetPluginInfoRequest.getDefaultInstance());
            assertThat(r.getName()).matches(GENERATED_ID);
            assertThat(r.getVendorVersion()).isEqualTo(r.getName());
            assertThat(headers.get().get(RequestIds.METADATA_KEY)).isEqualTo(r.getName());
        }
    }

    @Test
    void mdcIsRestoredOnThePooledThreadAfterTheCall() throws Exception {
        NodeGrpc.newBlockingStub(channel).nodeStageVolume(stage("ok"));
        assertThat(mdcInHandler.get()).matches(GENERATED_ID);
        assertThat(executor.submit(() -> MDC.get(RequestIds.MDC_KEY)).get()).isNull();
    }

    @Test
    void unexpectedExceptionBecomesInternalWithADescriptionAndTheIdIsInTheTrailers() {
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        var stub = NodeGrpc.newBlockingStub(channel).withInterceptors(
                MetadataUtils.newAttachHeadersInterceptor(withRequestId("boom-1")),
                MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), trailers));
        assertThatThrownBy(() -> stub.nodeStageVolume(stage("boom")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
                    assertThat(e.getStatus().getDescription()).contains("IllegalStateException", "disk on fire",
                            "csi.v1.Node/NodeStageVolume", "request_id=boom-1");
                });
        assertThat(trailers.get().get(RequestIds.METADATA_KEY)).isEqualTo("boom-1");
    }

    @Test
    void thrownStatusKeepsItsCode() {
        assertThatThrownBy(() -> NodeGrpc.newBlockingStub(channel).nodeStageVolume(stage("missing")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).isEqualTo("no volume missing");
                });
    }

    @Test
    void exactlyOneAccessLogEntryPerCallWhateverTheOutcome() throws Exception {
        var node = NodeGrpc.newBlockingStub(channel);
        node.nodeStageVolume(stage("ok"));
        assertThatThrownBy(() -> node.nodeStageVolume(stage("boom"))).isInstanceOf(StatusRuntimeException.class);
        assertThatThrownBy(() -> node.nodeStageVolume(stage("missing"))).isInstanceOf(StatusRuntimeException.class);
        assertThatThrownBy(() -> node.withDeadlineAfter(200, TimeUnit.MILLISECONDS).nodeStageVolume(stage("slow")))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        // The slow handler now answers into the expired call (its onCancel is queued behind it on
        // the single server thread): still one entry, with the code the client saw.
        releaseSlow.countDown();
        node.nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId("v").setStagingTargetPath("/s").build());
        IdentityGrpc.newBlockingStub(channel).probe(ProbeRequest.getDefaultInstance());
        executor.submit(() -> { }).get(); // the single server thread has run everything queued before

        assertThat(log).extracting(e -> e.method() + " " + e.code() + " " + e.level()).containsExactlyInAnyOrder(
                "csi.v1.Node/NodeStageVolume OK INFO",
                "csi.v1.Node/NodeStageVolume INTERNAL INFO",
                "csi.v1.Node/NodeStageVolume NOT_FOUND INFO",
                "csi.v1.Node/NodeStageVolume DEADLINE_EXCEEDED INFO",
                "csi.v1.Node/NodeUnstageVolume OK INFO",
                "csi.v1.Identity/Probe OK DEBUG");
        AccessLogEntry internal = log.stream().filter(e -> e.code() == Status.Code.INTERNAL).findFirst().orElseThrow();
        assertThat(internal.description()).hasValueSatisfying(d -> assertThat(d).contains("disk on fire"));
        assertThat(internal.requestId()).matches(GENERATED_ID);
        assertThat(internal.duration()).isPositive();
        assertThat(log.stream().filter(e -> e.code() == Status.Code.OK)).allSatisfy(e -> {
            assertThat(e.description()).isEmpty();
            assertThat(e.level()).isIn(Level.INFO, Level.DEBUG);
        });
    }

    @Test
    void requestBodiesAreLoggedOnlyRedacted() {
        NodeGrpc.newBlockingStub(channel).nodeStageVolume(stage("vol-7"));
        await().until(() -> log.size() == 1);
        assertThat(log.get(0).request()).hasValueSatisfying(body -> assertThat(body)
                .contains("\"volume_id\":\"vol-7\"", "\"password\":\"***\"")
                .doesNotContain("hunter2"));
    }

    @Test
    void bodiesAreNotCapturedUnlessAskedFor() throws Exception {
        List<AccessLogEntry> quiet = new CopyOnWriteArrayList<>();
        String name = InProcessServerBuilder.generateName();
        Server s = InProcessServerBuilder.forName(name).directExecutor()
                .addService(ServerInterceptors.interceptForward(new FailingNode(), StandardInterceptors.standard(
                        Metrics.create(), InterceptorOptions.defaults().withAccessLogSink(quiet::add)
                                .withRequestBodies(() -> false))))
                .build().start();
        ManagedChannel c = InProcessChannelBuilder.forName(name).directExecutor().build();
        try {
            NodeGrpc.newBlockingStub(c).nodeStageVolume(stage("vol-8"));
            assertThat(quiet).singleElement().satisfies(e -> assertThat(e.request()).isEmpty());
        } finally {
            c.shutdownNow();
            s.shutdownNow();
        }
    }

    @Test
    void metricsAreCountedPerMethodAndCode() throws Exception {
        var node = NodeGrpc.newBlockingStub(channel);
        node.nodeStageVolume(stage("ok"));
        node.nodeStageVolume(stage("ok"));
        assertThatThrownBy(() -> node.nodeStageVolume(stage("boom"))).isInstanceOf(StatusRuntimeException.class);
        assertThatThrownBy(() -> node.nodeStageVolume(stage("missing"))).isInstanceOf(StatusRuntimeException.class);
        IdentityGrpc.newBlockingStub(channel).probe(ProbeRequest.getDefaultInstance());
        await().until(() -> log.size() == 5);

        String text = metrics.scrapeText();
        Map<String, String> stage = Map.of("grpc_service", "csi.v1.Node", "grpc_method", "NodeStageVolume");
        assertThat(value(text, "grpc_server_started_total", stage)).isEqualTo(4);
        assertThat(value(text, "grpc_server_handled_total", with(stage, "grpc_code", "OK"))).isEqualTo(2);
        assertThat(value(text, "grpc_server_handled_total", with(stage, "grpc_code", "INTERNAL"))).isEqualTo(1);
        assertThat(value(text, "grpc_server_handled_total", with(stage, "grpc_code", "NOT_FOUND"))).isEqualTo(1);
        assertThat(value(text, "grpc_server_handling_seconds_count", with(stage, "grpc_code", "OK"))).isEqualTo(2);
        assertThat(value(text, "grpc_server_in_flight", stage)).isEqualTo(0);
        assertThat(value(text, "grpc_server_handled_total",
                Map.of("grpc_service", "csi.v1.Identity", "grpc_method", "Probe", "grpc_code", "OK"))).isEqualTo(1);
    }

    @Test
    void inFlightGaugeCountsRunningCalls() throws Exception {
        var future = NodeGrpc.newFutureStub(channel).nodeStageVolume(stage("slow"));
        Map<String, String> stage = Map.of("grpc_service", "csi.v1.Node", "grpc_method", "NodeStageVolume");
        await().until(() -> value(metrics.scrapeText(), "grpc_server_in_flight", stage) == 1);
        assertThat(future.isDone()).isFalse();
        releaseSlow.countDown();
        future.get(30, TimeUnit.SECONDS);
        await().until(() -> value(metrics.scrapeText(), "grpc_server_in_flight", stage) == 0);
    }

    @Test
    void optionsRejectMethodNamesThatCannotMatch() {
        assertThatThrownBy(() -> InterceptorOptions.defaults().withQuietMethods("Probe"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("csi.v1.Identity/Probe");
    }

    private static Map<String, String> with(Map<String, String> labels, String k, String v) {
        var m = new java.util.HashMap<>(labels);
        m.put(k, v);
        return m;
    }

    /** The sample of {@code name} whose labels include {@code labels}; -1 if there is none. */
    static double value(String exposition, String name, Map<String, String> labels) {
        for (String line : exposition.split("\n")) {
            if (!line.startsWith(name + "{")) {
                continue;
            }
            String labelPart = line.substring(name.length() + 1, line.lastIndexOf('}'));
            boolean all = labels.entrySet().stream()
                    .allMatch(e -> labelPart.contains(e.getKey() + "=\"" + e.getValue() + "\""));
            if (all) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return -1;
    }
}
