package dev.nodekit.crishim.api;

/**
 * What the shim does when an interceptor's hook throws something other than {@link CriRejection},
 * or runs past its time budget.
 */
public enum FailureMode {
    /**
     * Log it, count it, and carry on as if this interceptor had not been there: the request (or
     * response) goes on as the previous interceptor left it. Right for audit, metrics and anything
     * whose absence must not take the node down: a proxy that fails closed on a bug is a node that
     * creates no pods.
     */
    OPEN,
    /**
     * Fail the call with a status naming the interceptor: INTERNAL when the hook threw, UNAVAILABLE
     * when it ran out of time (kubelet retries both). Right for security policy, where forwarding an
     * unchecked request is worse than not forwarding it.
     */
    CLOSED
}
