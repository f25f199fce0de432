package dev.nodekit.crishim;

/**
 * The shim cannot start: its socket is taken, a plug-in jar does not load, the chain names an
 * interceptor type nobody provides. The message says what and where.
 */
public final class CriShimException extends Exception {
    private static final long serialVersionUID = 1L;

    public CriShimException(String message) {
        super(message);
    }

    public CriShimException(String message, Throwable cause) {
        super(message, cause);
    }
}
