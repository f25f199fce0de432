package dev.nodekit.conformance;

/**
 * Thrown by a check body when the check does not apply to the target (for example a capability
 * the plugin does not advertise). Not for missing host requirements: those are declared on the
 * {@link Check} so that strict mode can turn them into failures.
 */
public final class CheckSkipped extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CheckSkipped(String reason) {
        super(reason, null, false, false);
    }
}
