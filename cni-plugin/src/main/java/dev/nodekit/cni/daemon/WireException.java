package dev.nodekit.cni.daemon;

/**
 * A frame of nodekit's CNI daemon protocol that cannot be accepted: malformed, too large, or of a
 * newer protocol version. Carries the refusal code the daemon sends back ({@link CniWire#REFUSED_VERSION},
 * {@link CniWire#REFUSED_MALFORMED}...), so the client knows whether to fall back.
 */
public final class WireException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int refusal;

    /** A refusal with {@code code} (one of {@code CniWire.REFUSED_*}) and a message for the client's stderr. */
    public WireException(int refusal, String message) {
        super(message);
        this.refusal = refusal;
    }

    /** The refusal code sent to the client. */
    public int refusal() {
        return refusal;
    }
}
