package dev.nodekit.conformance;

/** A check found the target breaking the rule it enforces. The message says what was seen. */
public final class CheckFailed extends AssertionError {
    private static final long serialVersionUID = 1L;

    public CheckFailed(String message) {
        super(message);
    }

    public CheckFailed(String message, Throwable cause) {
        super(message, cause);
    }
}
