package dev.nodekit.crishim.api;

import java.util.Objects;

import io.grpc.Status;

/**
 * Thrown by a hook to refuse a call on purpose (a policy rule said no). The call ends with
 * {@link #code()} and the message, whatever the interceptor's {@link FailureMode}: a rejection is
 * the interceptor working, not failing. The message reaches kubelet, and through it the pod's
 * events, so it should name the rule and the object: {@code policy rule "no-privileged": container
 * "app" of pod default/web asks for privileged mode}.
 */
public final class CriRejection extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient Status.Code code;

    /** A rejection with {@code code} (not OK) and a message for the client. */
    public CriRejection(Status.Code code, String message) {
        super(Objects.requireNonNull(message, "message"));
        this.code = Objects.requireNonNull(code, "code");
        if (code == Status.Code.OK) {
            throw new IllegalArgumentException("a rejection cannot have status OK");
        }
    }

    /** The status code the call ends with. */
    public Status.Code code() {
        return code;
    }

    /** The status the client sees. */
    public Status toStatus() {
        return code.toStatus().withDescription(getMessage());
    }
}
