package dev.nodekit.common.grpc;

import org.slf4j.MDC;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/** Outermost interceptor: assigns the request id, puts it in the gRPC Context and the MDC of every callback, echoes it. */
final class RequestIdInterceptor implements ServerInterceptor {

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
            ServerCallHandler<ReqT, RespT> next) {
        String offered = headers.get(RequestIds.METADATA_KEY);
        String id = RequestIds.isAcceptable(offered) ? offered : RequestIds.generate();
        Context ctx = Context.current().withValue(RequestIds.CONTEXT_KEY, id);
        ServerCall<ReqT, RespT> echoing = new EchoingCall<>(call, id);
        // Streaming handlers run inside startCall, so the MDC must be set here too.
        String previous = MDC.get(RequestIds.MDC_KEY);
        MDC.put(RequestIds.MDC_KEY, id);
        try {
            return new MdcListener<>(Contexts.interceptCall(ctx, echoing, headers, next), id);
        } finally {
            restore(previous);
        }
    }

    static void restore(String previous) {
        if (previous == null) {
            MDC.remove(RequestIds.MDC_KEY);
        } else {
            MDC.put(RequestIds.MDC_KEY, previous);
        }
    }

    /** Adds the id to the response headers, or to the trailers of a trailers-only response. */
    private static final class EchoingCall<ReqT, RespT> extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT> {
        private final String id;
        private boolean headersSent;

        EchoingCall(ServerCall<ReqT, RespT> delegate, String id) {
            super(delegate);
            this.id = id;
        }

        @Override
        public void sendHeaders(Metadata headers) {
            headers.discardAll(RequestIds.METADATA_KEY);
            headers.put(RequestIds.METADATA_KEY, id);
            headersSent = true;
            super.sendHeaders(headers);
        }

        @Override
        public void close(Status status, Metadata trailers) {
            if (!headersSent) {
                trailers.discardAll(RequestIds.METADATA_KEY);
                trailers.put(RequestIds.METADATA_KEY, id);
            }
            super.close(status, trailers);
        }
    }

    /** Sets the MDC for each callback and restores what the (pooled) thread had before. */
    private static final class MdcListener<ReqT> extends ForwardingServerCallListener.SimpleForwardingServerCallListener<ReqT> {
        private final String id;

        MdcListener(ServerCall.Listener<ReqT> delegate, String id) {
            super(delegate);
            this.id = id;
        }

        private void run(Runnable r) {
            String previous = MDC.get(RequestIds.MDC_KEY);
            MDC.put(RequestIds.MDC_KEY, id);
            try {
                r.run();
            } finally {
                restore(previous);
            }
        }

        @Override
        public void onMessage(ReqT message) {
            run(() -> super.onMessage(message));
        }

        @Override
        public void onHalfClose() {
            run(super::onHalfClose);
        }

        @Override
        public void onCancel() {
            run(super::onCancel);
        }

        @Override
        public void onComplete() {
            run(super::onComplete);
        }

        @Override
        public void onReady() {
            run(super::onReady);
        }
    }
}
