package dev.nodekit.crishim;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;

import dev.nodekit.common.grpc.UdsServer;
import dev.nodekit.crishim.api.CriMethod;
import dev.nodekit.crishim.api.CriMethods;
import dev.nodekit.spec.cri.v1.Container;
import dev.nodekit.spec.cri.v1.ContainerState;
import dev.nodekit.spec.cri.v1.CreateContainerRequest;
import dev.nodekit.spec.cri.v1.CreateContainerResponse;
import dev.nodekit.spec.cri.v1.ListContainersResponse;
import dev.nodekit.spec.cri.v1.ListPodSandboxResponse;
import dev.nodekit.spec.cri.v1.PodSandbox;
import dev.nodekit.spec.cri.v1.RemoveContainerRequest;
import dev.nodekit.spec.cri.v1.RemovePodSandboxRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxRequest;
import dev.nodekit.spec.cri.v1.RunPodSandboxResponse;
import dev.nodekit.spec.cri.v1.VersionResponse;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;

/**
 * An in-process CRI runtime on a real unix socket, answering every CRI v1 method (unary and
 * streaming) as bytes, so tests see exactly what crossed the shim. By default each method answers
 * an "echo": the response type's default instance plus an unknown field {@value #ECHO_FIELD}
 * holding {@code method|request bytes} (streaming methods send {@value #STREAM_MESSAGES} of them).
 * Unknown fields survive raw forwarding and are dropped by nobody, so an echo proves the call went
 * to this runtime, unchanged both ways. {@link #on} replaces the answer of one method; {@link
 * #stateful} makes pods and containers real enough for routing tests.
 */
public final class FakeCri implements AutoCloseable {
    static final int ECHO_FIELD = 9999;
    static final int STREAM_MESSAGES = 3;

    /** One call as the runtime saw it. */
    public record Received(String method, byte[] request, Metadata headers, Deadline deadline) {
        <Q extends Message> Q parsed(CriMethod<Q, ?> m) {
            try {
                return m.parseRequest(request);
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** What to answer. */
    public record Reply(Metadata headers, List<byte[]> messages, Status status, Metadata trailers, Duration delay,
            CountDownLatch hold) {
        static Reply ok(byte[]... messages) {
            return new Reply(null, List.of(messages), Status.OK, new Metadata(), Duration.ZERO, null);
        }

        static Reply ok(Message... messages) {
            List<byte[]> b = new ArrayList<>();
            for (Message m : messages) {
                b.add(m.toByteArray());
            }
            return new Reply(null, b, Status.OK, new Metadata(), Duration.ZERO, null);
        }

        static Reply error(Status status, Metadata trailers) {
            return new Reply(null, List.of(), status, trailers, Duration.ZERO, null);
        }

        Reply withHeaders(Metadata h) {
            return new Reply(h, messages, status, trailers, delay, hold);
        }

        Reply withDelay(Duration d) {
            return new Reply(headers, messages, status, trailers, d, hold);
        }

        /** Sends the headers and first message, then waits for {@code latch} (or cancellation) before the rest. */
        Reply heldBy(CountDownLatch latch) {
            return new Reply(headers, messages, status, trailers, delay, latch);
        }
    }

    private final String name;
    private final Path socket;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final Map<String, Function<Received, Reply>> behaviors = new ConcurrentHashMap<>();
    private final List<String> cancelled = new CopyOnWriteArrayList<>();
    private final HandlerRegistry extra;
    private UdsServer server;

    // stateful mode
    private final Map<String, PodSandbox> pods = new ConcurrentHashMap<>();
    private final Map<String, Container> containers = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();

    private FakeCri(String name, Path socket, HandlerRegistry extra) {
        this.name = name;
        this.socket = socket;
        this.extra = extra;
    }

    /** A runtime named {@code name} (it says so in Version) on {@code socket}, started. */
    public static FakeCri start(String name, Path socket) throws Exception {
        return start(name, socket, null);
    }

    /** Like {@link #start(String, Path)}, also answering method names CRI v1 does not have through {@code extra}. */
    public static FakeCri start(String name, Path socket, HandlerRegistry extra) throws Exception {
        FakeCri f = new FakeCri(name, socket, extra);
        f.on(CriMethods.VERSION, r -> Reply.ok(VersionResponse.newBuilder().setVersion("0.1.0").setRuntimeName(name)
                .setRuntimeVersion("1.0.0-fake").setRuntimeApiVersion("v1").build()));
        f.listen();
        return f;
    }

    /** Starts serving again on the same socket after {@link #stop()} (a runtime restart). */
    public synchronized void listen() throws Exception {
        UdsServer.Builder b = UdsServer.builder(socket).shutdownHook(false).shutdownGrace(Duration.ZERO)
                .directExecutor(false);
        b.addService(service("runtime.v1.RuntimeService"));
        b.addService(service("runtime.v1.ImageService"));
        if (extra != null) {
            b.fallbackHandlerRegistry(extra);
        }
        server = b.build().start();
    }

    /** Stops serving (the runtime dies); {@link #listen()} brings it back. */
    public synchronized void stop() {
        if (server != null) {
            server.shutdown(Duration.ZERO);
            server = null;
        }
    }

    public String name() {
        return name;
    }

    public String endpoint() {
        return "unix://" + socket;
    }

    public List<Received> received() {
        return received;
    }

    /** Calls of one method, in order. */
    public List<Received> received(CriMethod<?, ?> m) {
        return received.stream().filter(r -> r.method().equals(m.fullName())).toList();
    }

    /** Full names of calls that were cancelled while this runtime was answering them. */
    public List<String> cancelled() {
        return cancelled;
    }

    public <Q extends Message> FakeCri on(CriMethod<Q, ?> m, Function<Received, Reply> behavior) {
        behaviors.put(m.fullName(), behavior);
        return this;
    }

    /** The echo a method answers by default. */
    static byte[] echo(String method, byte[] request) {
        UnknownFieldSet.Field f = UnknownFieldSet.Field.newBuilder()
                .addLengthDelimited(ByteString.copyFromUtf8(method + "|").concat(ByteString.copyFrom(request))).build();
        return UnknownFieldSet.newBuilder().addField(ECHO_FIELD, f).build().toByteArray();
    }

    /** Makes RunPodSandbox, CreateContainer, their List and Remove calls keep real state; ids start with this runtime's name. */
    public FakeCri stateful() {
        on(CriMethods.RUN_POD_SANDBOX, r -> {
            RunPodSandboxRequest req = r.parsed(CriMethods.RUN_POD_SANDBOX);
            String id = name + "-pod-" + ids.incrementAndGet();
            pods.put(id, PodSandbox.newBuilder().setId(id).setMetadata(req.getConfig().getMetadata())
                    .putAllLabels(req.getConfig().getLabelsMap()).setRuntimeHandler(req.getRuntimeHandler()).build());
            return Reply.ok(RunPodSandboxResponse.newBuilder().setPodSandboxId(id).build());
        });
        on(CriMethods.CREATE_CONTAINER, r -> {
            CreateContainerRequest req = r.parsed(CriMethods.CREATE_CONTAINER);
            if (!pods.containsKey(req.getPodSandboxId())) {
                return Reply.error(Status.NOT_FOUND.withDescription(name + ": no pod " + req.getPodSandboxId()),
                        new Metadata());
            }
            String id = name + "-ctr-" + ids.incrementAndGet();
            containers.put(id, Container.newBuilder().setId(id).setPodSandboxId(req.getPodSandboxId())
                    .setMetadata(req.getConfig().getMetadata()).setState(ContainerState.CONTAINER_CREATED).build());
            return Reply.ok(CreateContainerResponse.newBuilder().setContainerId(id).build());
        });
        on(CriMethods.LIST_POD_SANDBOX, r -> Reply.ok(ListPodSandboxResponse.newBuilder().addAllItems(pods.values()).build()));
        on(CriMethods.LIST_CONTAINERS, r -> Reply.ok(ListContainersResponse.newBuilder()
                .addAllContainers(containers.values()).build()));
        on(CriMethods.REMOVE_POD_SANDBOX, r -> {
            pods.remove(r.parsed(CriMethods.REMOVE_POD_SANDBOX).getPodSandboxId());
            return Reply.ok(dev.nodekit.spec.cri.v1.RemovePodSandboxResponse.getDefaultInstance());
        });
        on(CriMethods.REMOVE_CONTAINER, r -> {
            RemoveContainerRequest req = r.parsed(CriMethods.REMOVE_CONTAINER);
            containers.remove(req.getContainerId());
            return Reply.ok(dev.nodekit.spec.cri.v1.RemoveContainerResponse.getDefaultInstance());
        });
        for (CriMethod<?, ?> m : List.of(CriMethods.START_CONTAINER, CriMethods.STOP_CONTAINER,
                CriMethods.CONTAINER_STATUS, CriMethods.STOP_POD_SANDBOX, CriMethods.POD_SANDBOX_STATUS)) {
            on(m, r -> {
                String id = WireFields.string(r.request(), 1).orElse(""); // pod_sandbox_id or container_id
                boolean known = m.name().contains("PodSandbox") ? pods.containsKey(id) : containers.containsKey(id);
                return known ? Reply.ok(echo(r.method(), r.request()))
                        : Reply.error(Status.NOT_FOUND.withDescription(name + ": no such id " + id), new Metadata());
            });
        }
        return this;
    }

    private ServerServiceDefinition service(String serviceName) {
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(serviceName);
        for (CriMethod<?, ?> m : CriMethods.all()) {
            if (!m.serviceName().equals(serviceName)) {
                continue;
            }
            MethodDescriptor<byte[], byte[]> d = MethodDescriptor.<byte[], byte[]>newBuilder()
                    .setFullMethodName(m.fullName())
                    .setType(m.serverStreaming() ? MethodDescriptor.MethodType.SERVER_STREAMING
                            : MethodDescriptor.MethodType.UNARY)
                    .setRequestMarshaller(RawMarshaller.INSTANCE).setResponseMarshaller(RawMarshaller.INSTANCE).build();
            b.addMethod(ServerMethodDefinition.create(d, new Handler(m)));
        }
        return b.build();
    }

    /** Answers one method from its behavior (or the echo). */
    private final class Handler implements ServerCallHandler<byte[], byte[]> {
        private final CriMethod<?, ?> method;

        Handler(CriMethod<?, ?> method) {
            this.method = method;
        }

        @Override
        public ServerCall.Listener<byte[]> startCall(ServerCall<byte[], byte[]> call, Metadata headers) {
            Deadline deadline = Context.current().getDeadline();
            call.request(1);
            return new ServerCall.Listener<>() {
                byte[] request;

                @Override
                public void onMessage(byte[] message) {
                    request = message;
                }

                @Override
                public void onHalfClose() {
                    Received r = new Received(method.fullName(), request, headers, deadline);
                    received.add(r);
                    Function<Received, Reply> b = behaviors.get(method.fullName());
                    Reply reply = b != null ? b.apply(r) : defaultReply(r);
                    try {
                        answer(call, reply);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }

                @Override
                public void onCancel() {
                    cancelled.add(method.fullName());
                }
            };
        }

        private Reply defaultReply(Received r) {
            int n = method.serverStreaming() ? STREAM_MESSAGES : 1;
            byte[][] msgs = new byte[n][];
            for (int i = 0; i < n; i++) {
                msgs[i] = echo(r.method() + "#" + i, r.request());
            }
            return Reply.ok(msgs);
        }

        private void answer(ServerCall<byte[], byte[]> call, Reply reply) throws InterruptedException {
            if (!reply.delay().isZero()) {
                Thread.sleep(reply.delay().toMillis());
            }
            if (!reply.status().isOk() && reply.messages().isEmpty() && reply.headers() == null) {
                call.close(reply.status(), reply.trailers());
                return;
            }
            call.sendHeaders(reply.headers() != null ? reply.headers() : new Metadata());
            for (int i = 0; i < reply.messages().size(); i++) {
                if (call.isCancelled()) {
                    return;
                }
                call.sendMessage(reply.messages().get(i));
                if (i == 0 && reply.hold() != null) {
                    while (!call.isCancelled() && !reply.hold().await(20, TimeUnit.MILLISECONDS)) {
                        // wait for the test to release it or the client to cancel
                    }
                }
            }
            if (!call.isCancelled()) {
                call.close(reply.status(), reply.trailers());
            }
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** A proto varint + bytes, for building odd payloads in tests. */
    static byte[] field(int number, byte[] value) throws java.io.IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        CodedOutputStream c = CodedOutputStream.newInstance(out);
        c.writeByteArray(number, value);
        c.flush();
        return out.toByteArray();
    }
}
