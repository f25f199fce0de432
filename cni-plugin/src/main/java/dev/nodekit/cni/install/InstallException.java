package dev.nodekit.cni.install;

/** {@code nodekit cni install} could not complete; the message says what and why. */
public final class InstallException extends Exception {
    private static final long serialVersionUID = 1L;

    /** A failure described by {@code message}. */
    public InstallException(String message) {
        super(message);
    }
}
