package dev.nodekit.crishim;

import java.time.Duration;
import java.util.List;

import dev.nodekit.crishim.api.CallOutcome;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;

/**
 * A call nothing reads, forwarded as bytes the moment it arrives (grpc-java's {@code GrpcProxy}):
 * any number of messages each way, flow control passed through (the next message is asked for only
 * when the other side can take it), headers, trailers, status, deadline and cancellation passed on.
 *
 * <p>Threads: the server listener runs on the server's I/O thread and alone drives the client call
 * (start, messages, half-close, cancel); the client listener runs on the client's I/O thread and
 * alone drives the server call (headers, messages, close). Only {@code request()}, which both
 * classes allow from any thread, crosses over.
 */
final class PassThroughCall {
    private static final Metadata.Key<String> GRPC_TIMEOUT = Metadata.Key.of("grpc-timeout",
            Metadata.ASCII_STRING_MARSHALLER);

    private PassThroughCall() {
    }

    static ServerCall.Listener<byte[]> start(Engine engine, MethodPlan plan, Upstream upstream,
            ServerCall<byte[], byte[]> serverCall, Metadata headers) {
        long startNanos = System.nanoTime();
        ClientCall<byte[], byte[]> clientCall = upstream.newCall(plan.descriptor(), callOptions());
        ResponseProxy responses = new ResponseProxy(engine, plan, upstream, serverCall, clientCall, startNanos);
        RequestProxy requests = new RequestProxy(clientCall, serverCall, responses);
        responses.requests = requests;
        clientCall.start(responses, forwardable(headers));
        clientCall.request(1);
        serverCall.request(1);
        return requests;
    }

    /** The client's deadline, passed on as is (the time already spent counts against it). */
    static CallOptions callOptions() {
        Deadline d = Context.current().getDeadline();
        return d == null ? CallOptions.DEFAULT : CallOptions.DEFAULT.withDeadline(d);
    }

    /**
     * The request headers minus the timeout, which the deadline replaces; everything else
     * (trace context, user agent extras, custom keys, binary headers) goes to the runtime.
     */
    static Metadata forwardable(Metadata headers) {
        headers.discardAll(GRPC_TIMEOUT);
        return headers;
    }

    /** Client to shim to runtime. */
    private static final class RequestProxy extends ServerCall.Listener<byte[]> {
        private final ClientCall<byte[], byte[]> clientCall;
        private final ServerCall<byte[], byte[]> serverCall;
        private final ResponseProxy responses;
        private boolean needToRequest;

        RequestProxy(ClientCall<byte[], byte[]> clientCall, ServerCall<byte[], byte[]> serverCall,
                ResponseProxy responses) {
            this.clientCall = clientCall;
            this.serverCall = serverCall;
            this.responses = responses;
        }

        @Override
        public void onMessage(byte[] message) {
            clientCall.sendMessage(message);
            synchronized (this) {
                if (clientCall.isReady()) {
                    serverCall.request(1);
                } else {
                    needToRequest = true;
                }
            }
        }

        @Override
        public void onHalfClose() {
            clientCall.halfClose();
        }

        @Override
        public void onCancel() {
            responses.clientCancelled = true;
            clientCall.cancel("cri-shim: the client cancelled the call", null);
        }

        @Override
        public void onReady() {
            responses.onServerReady();
        }

        /** The runtime can take more: ask the client for the next message if we held back. */
        synchronized void onClientReady() {
            if (needToRequest) {
                needToRequest = false; // first: request() may deliver the next message at once, which may set it again
                serverCall.request(1);
            }
        }
    }

    /** Runtime to shim to client. */
    private static final class ResponseProxy extends ClientCall.Listener<byte[]> {
        private final Engine engine;
        private final MethodPlan plan;
        private final Upstream upstream;
        private final ServerCall<byte[], byte[]> serverCall;
        private final ClientCall<byte[], byte[]> clientCall;
        private final long startNanos;
        private RequestProxy requests;
        private boolean needToRequest;
        volatile boolean clientCancelled;

        ResponseProxy(Engine engine, MethodPlan plan, Upstream upstream, ServerCall<byte[], byte[]> serverCall,
                ClientCall<byte[], byte[]> clientCall, long startNanos) {
            this.engine = engine;
            this.plan = plan;
            this.upstream = upstream;
            this.serverCall = serverCall;
            this.clientCall = clientCall;
            this.startNanos = startNanos;
        }

        @Override
        public void onHeaders(Metadata headers) {
            serverCall.sendHeaders(headers);
        }

        @Override
        public void onMessage(byte[] message) {
            serverCall.sendMessage(message);
            synchronized (this) {
                if (serverCall.isReady()) {
                    clientCall.request(1);
                } else {
                    needToRequest = true;
                }
            }
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            Status out = Leg.annotate(status, upstream);
            try {
                serverCall.close(out, trailers);
            } catch (IllegalStateException e) {
                // already closed by cancellation: nothing to send
            }
            CallOutcome.Origin origin = clientCancelled ? CallOutcome.Origin.CLIENT : Leg.originOf(status);
            engine.observe(new CallOutcome(plan.fullName(), out.getCode(), out.getDescription(),
                    Duration.ofNanos(System.nanoTime() - startNanos), origin, List.of(upstream.name())));
        }

        @Override
        public void onReady() {
            if (requests != null) {
                requests.onClientReady();
            }
        }

        synchronized void onServerReady() {
            if (needToRequest) {
                needToRequest = false; // first: with direct executors request() delivers the next message
                clientCall.request(1); // reentrantly, and onMessage may set it again (a lost wake-up otherwise)
            }
        }
    }
}
