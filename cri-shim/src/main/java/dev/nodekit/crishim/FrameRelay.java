package dev.nodekit.crishim;

import java.time.Duration;
import java.util.ArrayDeque;

import dev.nodekit.crishim.api.CallOutcome;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Error;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Headers;

/**
 * One call relayed as frames: the client's stream on a client link and a stream on a backend link.
 * Request HEADERS, DATA and trailers go one way, response HEADERS, DATA and trailers the other,
 * RST_STREAM either way, each as it arrives and unchanged (the HPACK coding is per connection, so
 * headers are decoded and re-encoded, but no header is added, dropped or changed; {@code grpc-timeout}
 * reaches the runtime as the client sent it). Until the backend stream exists (its connection is
 * being made), request frames wait here, unacknowledged, so the client's window bounds them.
 *
 * <p>Only event-loop code touches a relay. Its end is reported once to the observers when the
 * route is observed, from the response's {@code grpc-status} (never from the messages).
 */
final class FrameRelay {
    private static final long DEADLINE_SLACK_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(50);
    private final FrameFront front;
    private final FrameFront.Route route;
    private final FrameLink client;
    private final FrameLink.Stream clientStream;
    private final long startNanos;
    private final CharSequence grpcTimeout;
    private Http2Headers requestHeaders;
    private boolean requestHeadersEnd;
    private ArrayDeque<Early> early;
    private FrameLink backend;
    private FrameLink.Stream backendStream;
    private boolean responseHeadersSent;
    private boolean responseEnded;
    private boolean clientGone;
    private boolean reported;

    /** A request frame that arrived before the backend stream existed. */
    private record Early(ByteBuf data, Http2Headers trailers, boolean endStream) {
    }

    FrameRelay(FrameFront front, FrameFront.Route route, FrameLink client, FrameLink.Stream clientStream,
            Http2Headers requestHeaders, boolean endStream, long startNanos) {
        this.front = front;
        this.route = route;
        this.client = client;
        this.clientStream = clientStream;
        this.requestHeaders = requestHeaders;
        this.requestHeadersEnd = endStream;
        this.startNanos = startNanos;
        this.grpcTimeout = route.observed() ? requestHeaders.get(GrpcHeaders.GRPC_TIMEOUT) : null;
    }

    /** Whether the call is over on the client's side (answered, reset or its connection gone). */
    boolean finished() {
        return clientGone || responseEnded;
    }

    /**
     * Opens the backend stream on {@code link} and sends what the client sent so far.
     *
     * @return false if the link cannot take a new stream (ids used up): the caller retires it
     */
    boolean attach(FrameLink link) {
        if (finished()) {
            releaseEarly();
            return true;
        }
        if (link.idsUsedUp()) {
            return false;
        }
        FrameLink.Stream created = link.openStream(this, requestHeaders, requestHeadersEnd);
        if (created == null) {
            if (link.idsUsedUp()) {
                return false;
            }
            failUnavailable("cri-shim: " + route.backend().describe() + " has " + link.localStreams()
                    + " calls open, as many as it accepts");
            return true;
        }
        requestHeaders = null;
        backend = link;
        backendStream = created;
        if (early != null) {
            ArrayDeque<Early> frames = early;
            early = null;
            while (!frames.isEmpty()) {
                Early e = frames.poll();
                if (e.data() != null) {
                    backend.sendData(backendStream, e.data(), e.endStream(), client, clientStream);
                } else {
                    backend.sendHeaders(backendStream, e.trailers(), e.endStream());
                }
            }
        }
        return true;
    }

    // ---- frames from either link ----

    /** DATA read on {@code from}; returns the bytes to acknowledge at once (the rest when forwarded). */
    int data(FrameLink from, ByteBuf data, boolean endStream) {
        int n = data.readableBytes();
        if (from == client) {
            if (backend == null) {
                if (finished()) {
                    return n; // failed before a runtime stream existed
                }
                early().add(new Early(data.retain(), null, endStream));
                return 0;
            }
            if (clientGone || !backendStream.writable()) {
                return n;
            }
            // Also after the response ended: the rest of the request, END_STREAM included, closes
            // the runtime's stream (a runtime that answered early and does not reset would keep it).
            backend.sendData(backendStream, data.retain(), endStream, client, clientStream);
            return 0;
        }
        if (finished() || !clientStream.writable()) {
            return n;
        }
        if (endStream) {
            responseEnded = true; // first: ending the client's stream reports its close here
        }
        client.sendData(clientStream, data.retain(), endStream, backend, backendStream);
        if (endStream) {
            report(Status.Code.INTERNAL, "response ended without a grpc-status", CallOutcome.Origin.UPSTREAM);
        }
        return 0;
    }

    /** HEADERS read on {@code from}: request trailers, response headers or response trailers. */
    void headers(FrameLink from, Http2Headers headers, boolean endStream) {
        if (from == client) {
            if (backend == null) {
                if (!finished()) {
                    early().add(new Early(null, headers, endStream));
                }
            } else if (!clientGone && backendStream.writable()) {
                backend.sendHeaders(backendStream, headers, endStream);
            }
            return;
        }
        if (finished() || !clientStream.writable()) {
            return;
        }
        responseHeadersSent = true;
        if (endStream) {
            responseEnded = true; // first: ending the client's stream reports its close here
        }
        client.sendHeaders(clientStream, headers, endStream);
        if (endStream && route.observed()) {
            reportTrailers(headers);
        }
    }

    /** RST_STREAM read on {@code from}: passed to the other side with its error code. */
    void reset(FrameLink from, long errorCode) {
        if (from == client) {
            boolean wasOpen = !finished();
            clientGone = true;
            releaseEarly();
            resetBackend(errorCode);
            if (wasOpen) {
                report(clientResetCode(), "the client cancelled the call", CallOutcome.Origin.CLIENT);
            }
            return;
        }
        if (finished()) {
            // Typically NO_ERROR after the trailers (grpc-go: "stop sending, the answer is complete").
            // Not passed on: the client has its answer, and a reset would overtake the response frames
            // still queued behind the client's flow-control window and lose them.
            return;
        }
        responseEnded = true;
        if (clientStream.writable()) {
            client.sendReset(clientStream, errorCode);
        }
        Status.Code code = resetCode(errorCode);
        report(code == Status.Code.CANCELLED && deadlinePassed() ? Status.Code.DEADLINE_EXCEEDED : code,
                "the runtime reset the stream (HTTP/2 error " + errorCode + ")", CallOutcome.Origin.UPSTREAM);
    }

    /** A stream of this relay closed on {@code link}: if the other side is still open, it learns why. */
    void streamClosed(FrameLink link) {
        if (link == client) {
            if (!finished()) {
                clientGone = true;
                report(clientResetCode(), "the client's connection closed", CallOutcome.Origin.CLIENT);
            }
            clientGone = true;
            releaseEarly();
            resetBackend(Http2Error.CANCEL.code());
            return;
        }
        if (!finished()) {
            failUnavailable("cri-shim: " + route.backend().describe()
                    + " is unavailable: the connection closed before the call ended");
        }
    }

    /**
     * Ends the call with UNAVAILABLE and {@code message}: a trailers-only response, or trailers after
     * the response headers already sent. The client may retry; nothing was answered.
     */
    void failUnavailable(String message) {
        releaseEarly();
        if (finished()) {
            return;
        }
        responseEnded = true;
        if (clientStream.writable()) {
            Http2Headers t = new DefaultHttp2Headers();
            if (!responseHeadersSent) {
                t.status("200").set("content-type", "application/grpc");
            }
            t.set("grpc-status", "14").set("grpc-message", GrpcHeaders.percentEncode(message));
            client.sendHeaders(clientStream, t, true);
        }
        resetBackend(Http2Error.CANCEL.code());
        report(Status.Code.UNAVAILABLE, message, CallOutcome.Origin.TRANSPORT);
    }

    /** Resets the runtime's stream, if there is one still open (the link skips a finished one). */
    private void resetBackend(long errorCode) {
        if (backendStream != null) {
            backend.sendReset(backendStream, errorCode);
        }
    }

    private ArrayDeque<Early> early() {
        if (early == null) {
            early = new ArrayDeque<>(2);
        }
        return early;
    }

    private void releaseEarly() {
        if (early != null) {
            for (Early e : early) {
                if (e.data() != null) {
                    client.consumed(clientStream, e.data().readableBytes()); // the client's window comes back
                    e.data().release();
                }
            }
            early = null;
        }
        requestHeaders = null;
    }

    // ---- observation: from headers only ----

    private void reportTrailers(Http2Headers trailers) {
        CharSequence status = trailers.get(GrpcHeaders.GRPC_STATUS);
        Status.Code code = GrpcHeaders.code(status);
        String description = "";
        if (code != Status.Code.OK) {
            CharSequence m = trailers.get(GrpcHeaders.GRPC_MESSAGE);
            description = m == null ? "" : GrpcHeaders.percentDecode(m);
        }
        report(code, description, CallOutcome.Origin.UPSTREAM);
    }

    /** A cancellation when the request's own timeout has (about) run out is its deadline passing. */
    private Status.Code clientResetCode() {
        return deadlinePassed() ? Status.Code.DEADLINE_EXCEEDED : Status.Code.CANCELLED;
    }

    /**
     * Whether the request's {@code grpc-timeout} has run out, give or take the time its headers
     * took to arrive (the client's clock started before; both sides' timers fire together).
     */
    private boolean deadlinePassed() {
        long timeout = GrpcHeaders.timeoutNanos(grpcTimeout);
        if (timeout < 0) {
            return false;
        }
        long slack = Math.min(timeout / 10, DEADLINE_SLACK_NANOS);
        return System.nanoTime() - startNanos >= timeout - slack;
    }

    private static Status.Code resetCode(long errorCode) {
        if (errorCode == Http2Error.CANCEL.code()) {
            return Status.Code.CANCELLED;
        }
        if (errorCode == Http2Error.REFUSED_STREAM.code()) {
            return Status.Code.UNAVAILABLE;
        }
        if (errorCode == Http2Error.ENHANCE_YOUR_CALM.code()) {
            return Status.Code.RESOURCE_EXHAUSTED;
        }
        return Status.Code.INTERNAL;
    }

    private void report(Status.Code code, String description, CallOutcome.Origin origin) {
        if (reported || !route.observed()) {
            return;
        }
        reported = true;
        front.observe(new CallOutcome(route.method(), code, description,
                Duration.ofNanos(System.nanoTime() - startNanos), origin, route.upstreams()));
    }
}
