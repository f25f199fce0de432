package dev.nodekit.crishim.api;

import java.time.Duration;
import java.util.Optional;

/**
 * What a hook may know about the call it is looking at, besides its messages. Implemented by the
 * shim; a view, valid while the hook runs.
 */
public interface CriCall {
    /** The method being called. */
    CriMethod<?, ?> method();

    /**
     * The last value of an ASCII request header ({@code traceparent}, {@code x-request-id}); header
     * names are case-insensitive. Binary ({@code -bin}) headers are not offered.
     */
    Optional<String> header(String name);

    /** Time left before the client's deadline, if it set one (kubelet always does). */
    Optional<Duration> timeRemaining();

    /**
     * The runtime the call went to, for after- and completion hooks; empty in before-hooks (routing
     * comes after them) and for calls fanned out to several runtimes.
     */
    Optional<String> upstream();
}
