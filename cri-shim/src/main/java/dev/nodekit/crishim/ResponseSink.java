package dev.nodekit.crishim;

import dev.nodekit.crishim.api.CallOutcome;
import io.grpc.Metadata;
import io.grpc.Status;

/**
 * Where a {@link Leg} delivers what the runtime(s) answered. Calls may come from several threads
 * (one per upstream of a fan-out); the sink serialises what it does with them. {@code onClose}
 * comes once, after the messages of the upstream(s) that had to finish.
 */
interface ResponseSink {
    void onHeaders(Metadata headers);

    /** A response message from upstream number {@code source} of the target. */
    void onMessage(byte[] message, int source);

    void onClose(Status status, Metadata trailers, CallOutcome.Origin origin);
}
