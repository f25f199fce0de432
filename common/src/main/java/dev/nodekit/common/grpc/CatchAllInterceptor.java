package dev.nodekit.common.grpc;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Innermost interceptor: an exception escaping a handler becomes INTERNAL (or its own status) with the cause logged once. */
final class CatchAllInterceptor implements ServerInterceptor {
    private static final Logger log = LoggerFactory.getLogger(CatchAllInterceptor.class);
    /** Longest exception message copied into the status description. */
    static final int MAX_MESSAGE_CHARS = 300;

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
            ServerCallHandler<ReqT, RespT> next) {
        GuardedCall<ReqT, RespT> guarded = new GuardedCall<>(call);
        ServerCall.Listener<ReqT> listener;
        try {
            listener = next.startCall(guarded, headers);
        } catch (RuntimeException | Error e) {
            guarded.fail(e);
            return new ServerCall.Listener<>() {
            };
        }
        return new GuardedListener<>(listener, guarded);
    }

    /** Remembers whether the handler closed the call, so a failure is answered at most once. */
    private static final class GuardedCall<ReqT, RespT> extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT> {
        private volatile boolean closed;

        GuardedCall(ServerCall<ReqT, RespT> delegate) {
            super(delegate);
        }

        @Override
        public void close(Status status, Metadata trailers) {
            closed = true;
            super.close(status, trailers);
        }

        void fail(Throwable e) {
            if (e instanceof VirtualMachineError vme) {
                throw vme; // out of memory or stack: nothing sensible to answer
            }
            String method = getMethodDescriptor().getFullMethodName();
            Status status;
            Metadata trailers;
            if (e instanceof StatusRuntimeException sre) {
                // A handler that throws a status means that status (grpc-java alone would answer UNKNOWN).
                status = sre.getStatus();
                trailers = sre.getTrailers() != null ? sre.getTrailers() : new Metadata();
                log.atDebug().addKeyValue("method", method).addKeyValue("code", status.getCode())
                        .log("handler threw a status");
            } else {
                status = Status.INTERNAL.withDescription(describe(method, e)).withCause(e);
                trailers = new Metadata();
                log.atError().setCause(e).addKeyValue("method", method).addKeyValue("closed", closed)
                        .log("unexpected exception in gRPC handler");
            }
            if (closed || isCancelled()) {
                return;
            }
            try {
                close(status, trailers);
            } catch (RuntimeException closeFailure) {
                log.atWarn().setCause(closeFailure).addKeyValue("method", method)
                        .log("could not send the error status");
            }
        }

        private static String describe(String method, Throwable e) {
            String msg = e.getMessage();
            StringBuilder sb = new StringBuilder("unexpected ").append(e.getClass().getSimpleName())
                    .append(" in ").append(method);
            if (msg != null && !msg.isBlank()) {
                sb.append(": ").append(msg.length() > MAX_MESSAGE_CHARS ? msg.substring(0, MAX_MESSAGE_CHARS) + "..." : msg);
            }
            RequestIds.current().ifPresent(id -> sb.append(" (request_id=").append(id).append(", cause in the plugin log)"));
            return sb.toString();
        }
    }

    /** Catches what escapes each callback. */
    private static final class GuardedListener<ReqT> extends ForwardingServerCallListener.SimpleForwardingServerCallListener<ReqT> {
        private final GuardedCall<ReqT, ?> call;

        GuardedListener(ServerCall.Listener<ReqT> delegate, GuardedCall<ReqT, ?> call) {
            super(delegate);
            this.call = call;
        }

        @Override
        public void onMessage(ReqT message) {
            try {
                super.onMessage(message);
            } catch (RuntimeException | Error e) {
                call.fail(e);
            }
        }

        @Override
        public void onHalfClose() {
            try {
                super.onHalfClose();
            } catch (RuntimeException | Error e) {
                call.fail(e);
            }
        }

        @Override
        public void onCancel() {
            try {
                super.onCancel();
            } catch (RuntimeException | Error e) {
                call.fail(e);
            }
        }

        @Override
        public void onComplete() {
            try {
                super.onComplete();
            } catch (RuntimeException | Error e) {
                call.fail(e);
            }
        }

        @Override
        public void onReady() {
            try {
                super.onReady();
            } catch (RuntimeException | Error e) {
                call.fail(e);
            }
        }
    }
}
