package dev.nodekit.crishim.api;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

import io.grpc.Status;

/**
 * How one call through the shim ended, as observers see it after the client has its answer.
 *
 * @param method      full method name, {@code runtime.v1.RuntimeService/ListContainers}; for a method
 *                    the shim does not know, whatever the client asked for
 * @param code        the status code the client got
 * @param description the status description ("" when none)
 * @param elapsed     from the call's arrival at the shim to its status
 * @param origin      who decided the status
 * @param upstreams   names of the runtimes the call went to (empty when it went nowhere)
 */
public record CallOutcome(String method, Status.Code code, String description, Duration elapsed, Origin origin,
        List<String> upstreams) {
    public CallOutcome {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(code, "code");
        description = description == null ? "" : description;
        Objects.requireNonNull(elapsed, "elapsed");
        Objects.requireNonNull(origin, "origin");
        upstreams = List.copyOf(upstreams);
    }

    /** The RPC name after the last slash: {@code ListContainers}. */
    public String shortMethod() {
        int slash = method.lastIndexOf('/');
        return slash < 0 ? method : method.substring(slash + 1);
    }

    /** Whether the call succeeded. */
    public boolean ok() {
        return code == Status.Code.OK;
    }

    /** Who decided how a call ended. */
    public enum Origin {
        /** The runtime answered (success or its own error). */
        UPSTREAM,
        /** The shim could not reach the runtime (not running, socket gone, connection lost). */
        TRANSPORT,
        /** An interceptor rejected the call or failed closed. */
        INTERCEPTOR,
        /** The client cancelled, or its deadline passed, before an answer. */
        CLIENT
    }
}
