package dev.nodekit.crishim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.protobuf.UnknownFieldSet;

import dev.nodekit.crishim.api.CriMethod;
import dev.nodekit.crishim.api.CriMethods;
import dev.nodekit.spec.cri.v1.Container;
import dev.nodekit.spec.cri.v1.ContainerMetadata;
import dev.nodekit.spec.cri.v1.ExecRequest;
import dev.nodekit.spec.cri.v1.ExecResponse;
import dev.nodekit.spec.cri.v1.GetEventsRequest;
import dev.nodekit.spec.cri.v1.ListContainersRequest;
import dev.nodekit.spec.cri.v1.ListContainersResponse;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import dev.nodekit.spec.cri.v1.StatusRequest;
import dev.nodekit.spec.cri.v1.VersionRequest;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;

/** The shim as a transparent proxy: every method, any method, all the call's parts. No interceptor reads anything here. */
class ForwardingTest {
    @TempDir
    Path dir;

    ShimHarness h;

    /** The pass-through mode under test; the gRPC-mode subclass overrides it. */
    CriShimConfig.PassThrough mode() {
        return CriShimConfig.PassThrough.FRAMES;
    }

    ShimHarness newHarness() {
        return new ShimHarness(dir, mode());
    }
    FakeCri runtime;

    @BeforeEach
    void start() throws Exception {
        h = newHarness();
        runtime = h.fake("rt");
        h.start(Optional.of(runtime.endpoint()), "interceptors: []");
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private static String echoOf(byte[] response) throws Exception {
        UnknownFieldSet u = UnknownFieldSet.parseFrom(response);
        return u.getField(FakeCri.ECHO_FIELD).getLengthDelimitedList().get(0).toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void everyCriMethodIsForwardedAsBytesBothWaysUnaryAndStreaming() throws Exception {
        for (CriMethod<?, ?> m : CriMethods.all()) {
            if (m.equals(CriMethods.VERSION)) {
                continue; // the fake answers Version typed; checked below
            }
            // A request the shim cannot understand: an unknown field only. It must still arrive as sent.
            byte[] request = FakeCri.field(4242, ("payload of " + m.name()).getBytes(StandardCharsets.UTF_8));
            MethodDescriptor<byte[], byte[]> d = ShimHarness.rawMethod(m.fullName(), m.serverStreaming()
                    ? MethodDescriptor.MethodType.SERVER_STREAMING : MethodDescriptor.MethodType.UNARY);
            List<byte[]> answers = new ArrayList<>();
            if (m.serverStreaming()) {
                Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(h.channel, d,
                        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), request);
                it.forEachRemaining(answers::add);
            } else {
                answers.add(h.raw(d, request));
            }
            assertThat(answers).as(m.name()).hasSize(m.serverStreaming() ? FakeCri.STREAM_MESSAGES : 1);
            for (int i = 0; i < answers.size(); i++) {
                String expected = m.fullName() + "#" + i + "|" + new String(request, StandardCharsets.ISO_8859_1);
                assertThat(echoOf(answers.get(i))).as(m.name() + " answer " + i).isEqualTo(expected);
            }
            assertThat(runtime.received(m)).as(m.name()).singleElement()
                    .satisfies(r -> assertThat(r.request()).isEqualTo(request));
        }
        assertThat(runtime.received()).hasSize(CriMethods.all().size() - 1);
        assertThat(h.runtime().version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("rt");
    }

    @Test
    void aMethodTheRuntimeDoesNotKnowGetsTheRuntimesUnimplemented() {
        MethodDescriptor<byte[], byte[]> future = ShimHarness.rawMethod("runtime.v1.RuntimeService/CheckpointPod",
                MethodDescriptor.MethodType.UNARY);
        assertThatThrownBy(() -> h.raw(future, new byte[] {8, 1}))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
                    // grpc-java's own text from the runtime's side, not the shim's
                    assertThat(e.getStatus().getDescription()).contains("runtime.v1.RuntimeService/CheckpointPod");
                });
    }

    @Test
    void aMethodTheShimDoesNotKnowButTheRuntimeDoesIsForwardedIncludingClientStreaming(@TempDir Path other)
            throws Exception {
        HandlerRegistry future = new HandlerRegistry() {
            @Override
            public ServerMethodDefinition<?, ?> lookupMethod(String name, String authority) {
                MethodDescriptor<byte[], byte[]> d = ShimHarness.rawMethod(name,
                        MethodDescriptor.MethodType.CLIENT_STREAMING);
                return ServerMethodDefinition.create(d, ServerCalls.asyncClientStreamingCall(out ->
                        new io.grpc.stub.StreamObserver<byte[]>() {
                            int n;

                            @Override
                            public void onNext(byte[] v) {
                                n += v.length;
                            }

                            @Override
                            public void onError(Throwable t) {
                            }

                            @Override
                            public void onCompleted() {
                                out.onNext((name + ":" + n).getBytes(StandardCharsets.UTF_8));
                                out.onCompleted();
                            }
                        }));
            }
        };
        try (FakeCri newer = FakeCri.start("newer", other.resolve("n.sock"), future);
                ShimHarness h2 = new ShimHarness(other, mode())) {
            h2.start(Optional.of(newer.endpoint()), null);
            MethodDescriptor<byte[], byte[]> d = ShimHarness.rawMethod("runtime.v2.RuntimeService/Upload",
                    MethodDescriptor.MethodType.CLIENT_STREAMING);
            AtomicReference<byte[]> got = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(1);
            io.grpc.stub.StreamObserver<byte[]> up = ClientCalls.asyncClientStreamingCall(
                    h2.channel.newCall(d, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS)),
                    new io.grpc.stub.StreamObserver<>() {
                        @Override
                        public void onNext(byte[] v) {
                            got.set(v);
                        }

                        @Override
                        public void onError(Throwable t) {
                            done.countDown();
                        }

                        @Override
                        public void onCompleted() {
                            done.countDown();
                        }
                    });
            up.onNext(new byte[100]);
            up.onNext(new byte[23]);
            up.onCompleted();
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(got.get(), StandardCharsets.UTF_8)).isEqualTo("runtime.v2.RuntimeService/Upload:123");
        }
    }

    @Test
    void headersGoUpTrailersHeadersStatusAndDescriptionComeBackUnchanged() {
        Metadata.Key<String> trace = Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);
        Metadata.Key<byte[]> bin = Metadata.Key.of("x-blob-bin", Metadata.BINARY_BYTE_MARSHALLER);
        Metadata.Key<String> respHeader = Metadata.Key.of("x-runtime-header", Metadata.ASCII_STRING_MARSHALLER);
        Metadata.Key<String> respTrailer = Metadata.Key.of("x-runtime-trailer", Metadata.ASCII_STRING_MARSHALLER);
        Metadata rh = new Metadata();
        rh.put(respHeader, "h1");
        Metadata rt = new Metadata();
        rt.put(respTrailer, "t1");
        runtime.on(CriMethods.STATUS, r -> FakeCri.Reply.error(
                Status.FAILED_PRECONDITION.withDescription("runtime says: not ready (détail ünicode)"), rt)
                .withHeaders(rh));

        Metadata sent = new Metadata();
        sent.put(trace, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        sent.put(bin, new byte[] {0, 1, 2, (byte) 255});
        AtomicReference<Metadata> headers = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        RuntimeServiceGrpc.RuntimeServiceBlockingStub stub = h.runtime()
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(sent),
                        MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
        assertThatThrownBy(() -> stub.status(StatusRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).isEqualTo("runtime says: not ready (détail ünicode)");
                });
        assertThat(headers.get().get(respHeader)).isEqualTo("h1");
        assertThat(trailers.get().get(respTrailer)).isEqualTo("t1");
        FakeCri.Received r = runtime.received(CriMethods.STATUS).get(0);
        assertThat(r.headers().get(trace)).isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assertThat(r.headers().get(bin)).containsExactly(0, 1, 2, 255);
    }

    @Test
    void aTrailersOnlyErrorPassesThroughWithItsTrailers() {
        Metadata.Key<String> k = Metadata.Key.of("x-why", Metadata.ASCII_STRING_MARSHALLER);
        Metadata t = new Metadata();
        t.put(k, "gone");
        runtime.on(CriMethods.CONTAINER_STATUS, r -> FakeCri.Reply.error(
                Status.NOT_FOUND.withDescription("an error occurred when try to find container \"x\""), t));
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        assertThatThrownBy(() -> h.runtime().withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(
                new AtomicReference<>(), trailers)).containerStatus(
                dev.nodekit.spec.cri.v1.ContainerStatusRequest.newBuilder().setContainerId("x").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).isEqualTo("an error occurred when try to find container \"x\"");
                });
        assertThat(trailers.get().get(k)).isEqualTo("gone");
    }

    @Test
    void theClientsDeadlineReachesTheRuntimeAndExpiresThere() {
        h.runtime().withDeadlineAfter(7, TimeUnit.SECONDS).version(VersionRequest.getDefaultInstance());
        io.grpc.Deadline d = runtime.received(CriMethods.VERSION).get(0).deadline();
        assertThat(d).isNotNull();
        assertThat(d.timeRemaining(TimeUnit.MILLISECONDS)).isBetween(4000L, 7000L);

        runtime.on(CriMethods.LIST_IMAGES, r -> FakeCri.Reply.ok(new byte[0]).withDelay(Duration.ofSeconds(3)));
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> h.images().withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                .listImages(dev.nodekit.spec.cri.v1.ListImagesRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(2500));
    }

    @Test
    void cancellingAStreamCancelsItAtTheRuntime() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        runtime.on(CriMethods.GET_CONTAINER_EVENTS, r -> FakeCri.Reply.ok(new byte[0], new byte[0]).heldBy(never));
        Context.CancellableContext ctx = Context.current().withCancellation();
        List<Object> got = new ArrayList<>();
        ctx.run(() -> {
            Iterator<dev.nodekit.spec.cri.v1.ContainerEventResponse> it = RuntimeServiceGrpc.newBlockingStub(h.channel)
                    .getContainerEvents(GetEventsRequest.getDefaultInstance());
            got.add(it.next()); // the first event arrives, then the runtime holds the stream open
        });
        ctx.cancel(null);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(runtime.cancelled()).contains(CriMethods.GET_CONTAINER_EVENTS.fullName()));
        assertThat(got).hasSize(1);
    }

    /** kubelet cancelling many calls (probes timing out on a sick node) must not get its connection cut. */
    @Test
    void hundredsOfCancellationsDoNotCloseTheClientsConnection() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        runtime.on(CriMethods.GET_CONTAINER_EVENTS, r -> FakeCri.Reply.ok(new byte[0], new byte[0]).heldBy(never));
        // A stream that lives across the cancellations: it fails if the connection is closed under it.
        AtomicReference<Throwable> sentinelError = new AtomicReference<>();
        Context.CancellableContext sentinel = Context.current().withCancellation();
        CountDownLatch sentinelFirst = new CountDownLatch(1);
        sentinel.run(() -> RuntimeServiceGrpc.newStub(h.channel).getContainerEvents(GetEventsRequest.getDefaultInstance(),
                new io.grpc.stub.StreamObserver<>() {
                    @Override
                    public void onNext(dev.nodekit.spec.cri.v1.ContainerEventResponse v) {
                        sentinelFirst.countDown();
                    }

                    @Override
                    public void onError(Throwable t) {
                        if (!(t instanceof StatusRuntimeException e && e.getStatus().getCode() == Status.Code.CANCELLED
                                && sentinel.isCancelled())) {
                            sentinelError.set(t);
                        }
                    }

                    @Override
                    public void onCompleted() {
                    }
                }));
        assertThat(sentinelFirst.await(10, TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < 250; i++) {
            Context.CancellableContext ctx = Context.current().withCancellation();
            ctx.run(() -> RuntimeServiceGrpc.newBlockingStub(h.channel)
                    .getContainerEvents(GetEventsRequest.getDefaultInstance()).next());
            ctx.cancel(null);
        }
        assertThat(h.runtime().version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("rt");
        assertThat(sentinelError.get()).as("the long-lived stream").isNull();
        sentinel.cancel(null);
    }

    @Test
    void sixteenMegabyteListsPassBothWays() {
        // ~15 MiB of containers: above grpc-java's 4 MiB default, below kubelet's 16 MiB.
        ListContainersResponse.Builder big = ListContainersResponse.newBuilder();
        String pad = "x".repeat(1000);
        for (int i = 0; big.build().getSerializedSize() < 15 * 1024 * 1024; i++) {
            big.addContainers(Container.newBuilder().setId("c" + i)
                    .setMetadata(ContainerMetadata.newBuilder().setName(pad)));
        }
        ListContainersResponse answer = big.build();
        runtime.on(CriMethods.LIST_CONTAINERS, r -> FakeCri.Reply.ok(answer));
        ListContainersResponse got = h.runtime().listContainers(ListContainersRequest.getDefaultInstance());
        assertThat(got.getContainersCount()).isEqualTo(answer.getContainersCount());
        assertThat(got.getSerializedSize()).isGreaterThan(4 * 1024 * 1024);
    }

    /** A server-streaming method of a newer runtime: up to {@code FLOOD_MESSAGES} of 1 MiB, each sent only while the transport takes them. */
    private static final int FLOOD_MESSAGES = 64;

    private static HandlerRegistry flood(java.util.concurrent.atomic.AtomicInteger sent) {
        return new HandlerRegistry() {
            @Override
            public ServerMethodDefinition<?, ?> lookupMethod(String name, String authority) {
                MethodDescriptor<byte[], byte[]> d = ShimHarness.rawMethod(name, MethodDescriptor.MethodType.SERVER_STREAMING);
                return ServerMethodDefinition.create(d, ServerCalls.asyncServerStreamingCall((req, out) -> {
                    var o = (io.grpc.stub.ServerCallStreamObserver<byte[]>) out;
                    o.setOnReadyHandler(() -> {
                        while (o.isReady() && sent.get() < FLOOD_MESSAGES) {
                            o.onNext(new byte[1024 * 1024]);
                            if (sent.incrementAndGet() == FLOOD_MESSAGES) {
                                o.onCompleted();
                            }
                        }
                    });
                }));
            }
        };
    }

    @Test
    void aClientThatDoesNotReadStopsTheRuntimeInsteadOfFillingTheShimsMemory(@TempDir Path other) throws Exception {
        java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        try (FakeCri newer = FakeCri.start("newer", other.resolve("n.sock"), flood(sent));
                ShimHarness h2 = new ShimHarness(other, mode())) {
            h2.start(Optional.of(newer.endpoint()), null);
            MethodDescriptor<byte[], byte[]> d = ShimHarness.rawMethod("test.Flood/Flood",
                    MethodDescriptor.MethodType.SERVER_STREAMING);
            ClientCall<byte[], byte[]> call = h2.channel.newCall(d, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
            java.util.concurrent.atomic.AtomicInteger got = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.CompletableFuture<Status> closed = new java.util.concurrent.CompletableFuture<>();
            call.start(new ClientCall.Listener<>() {
                @Override
                public void onMessage(byte[] message) {
                    got.incrementAndGet();
                }

                @Override
                public void onClose(Status status, Metadata trailers) {
                    closed.complete(status);
                }
            }, new Metadata());
            call.sendMessage(new byte[0]);
            call.halfClose(); // and asks for no message yet
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> sent.get() > 0);
            Thread.sleep(1500);
            // The client's, the shim's and the runtime's windows hold a few MiB; without flow control all 64 would be out.
            assertThat(sent.get()).as("messages the runtime could send to a client reading nothing").isLessThan(12);
            call.request(FLOOD_MESSAGES);
            assertThat(closed.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
            assertThat(got.get()).isEqualTo(FLOOD_MESSAGES);
        }
    }

    @Test
    void bigAndSmallCallsInParallelShareTheConnectionAndAllComeBackWhole() throws Exception {
        byte[] big = new byte[16 * 1024 * 1024 - 1024];
        new java.util.Random(7).nextBytes(big);
        // The request comes back inside the echo: 16 MiB up, 16 MiB down, per call.
        MethodDescriptor<byte[], byte[]> update = ShimHarness.rawMethod(CriMethods.UPDATE_RUNTIME_CONFIG.fullName(),
                MethodDescriptor.MethodType.UNARY);
        var pool = java.util.concurrent.Executors.newFixedThreadPool(12);
        try {
            List<java.util.concurrent.Future<Boolean>> bigs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                bigs.add(pool.submit(() -> {
                    byte[] answer = h.raw(update, big);
                    byte[] echoed = UnknownFieldSet.parseFrom(answer).getField(FakeCri.ECHO_FIELD)
                            .getLengthDelimitedList().get(0).toByteArray();
                    return java.util.Arrays.equals(java.util.Arrays.copyOfRange(echoed, echoed.length - big.length,
                            echoed.length), big);
                }));
            }
            List<java.util.concurrent.Future<String>> smalls = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                smalls.add(pool.submit(() -> h.runtime().version(VersionRequest.getDefaultInstance()).getRuntimeName()));
            }
            for (var f : smalls) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo("rt");
            }
            for (var f : bigs) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void execUrlsAreReturnedAsTheRuntimeGivesThem() {
        runtime.on(CriMethods.EXEC, r -> FakeCri.Reply.ok(ExecResponse.newBuilder()
                .setUrl("http://127.0.0.1:40123/exec/AbC_token").build()));
        assertThat(h.runtime().exec(ExecRequest.newBuilder().setContainerId("c").addCmd("sh").build()).getUrl())
                .isEqualTo("http://127.0.0.1:40123/exec/AbC_token");
    }

    @Test
    void manyConcurrentCallsAllArriveOnce() throws Exception {
        int n = 200;
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < 8; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < n / 8; i++) {
                    try {
                        h.runtime().listContainers(ListContainersRequest.getDefaultInstance());
                    } catch (RuntimeException e) {
                        errors.add(e);
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join();
        }
        assertThat(errors).isEmpty();
        assertThat(runtime.received(CriMethods.LIST_CONTAINERS)).hasSize(n);
    }

    @Test
    void withoutHooksOrRoutingNoMethodIsDecoded() {
        assertThat(h.shim.plans()).hasSize(41).allSatisfy(p -> assertThat(p.passThrough()).isTrue());
    }
}
