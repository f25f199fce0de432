package dev.nodekit.common.grpc;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;

/** Runs a callback exactly once with a call's final status, whether the handler closed it or the call was cancelled. */
final class CallEnds {
    private CallEnds() {
    }

    /**
     * Starts {@code next} with {@code call} wrapped so that {@code onEnd} sees the status the client
     * got: the one passed to {@code close}, or CANCELLED / DEADLINE_EXCEEDED when the call was
     * cancelled first, even if a handler still closes it afterwards (its answer is then dropped by the
     * transport, and onCancel may be queued behind the handler). {@code onRequest} (may be null) sees
     * each request message before the handler does. Must be called in the call's Context.
     */
    static <ReqT, RespT> ServerCall.Listener<ReqT> intercept(ServerCall<ReqT, RespT> call, Metadata headers,
            ServerCallHandler<ReqT, RespT> next, Consumer<ReqT> onRequest, Consumer<Status> onEnd) {
        Context callContext = Context.current(); // cancelled as soon as the client cancels or the deadline passes
        AtomicBoolean ended = new AtomicBoolean();
        Consumer<Status> once = s -> {
            if (ended.compareAndSet(false, true)) {
                onEnd.accept(s);
            }
        };
        ServerCall<ReqT, RespT> wrapped = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                // Checked before closing: a normal close cancels the context too, right after.
                Status seen = callContext.isCancelled() ? cancelStatus(callContext) : status;
                try {
                    super.close(status, trailers);
                } finally {
                    once.accept(seen);
                }
            }
        };
        ServerCall.Listener<ReqT> listener;
        try {
            listener = next.startCall(wrapped, headers);
        } catch (RuntimeException | Error e) {
            once.accept(Status.UNKNOWN.withDescription("handler failed to start").withCause(e));
            throw e;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onMessage(ReqT message) {
                if (onRequest != null) {
                    onRequest.accept(message);
                }
                super.onMessage(message);
            }

            @Override
            public void onCancel() {
                try {
                    super.onCancel();
                } finally {
                    once.accept(cancelStatus(callContext));
                }
            }
        };
    }

    /** Why a call was cancelled, as far as the server can tell. */
    static Status cancelStatus(Context callContext) {
        Deadline d = callContext.getDeadline();
        if (d != null && d.isExpired()) {
            return Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded before the handler answered");
        }
        return Status.CANCELLED.withDescription("cancelled by the client or the transport");
    }
}
