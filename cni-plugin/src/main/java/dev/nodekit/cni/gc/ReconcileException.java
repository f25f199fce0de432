package dev.nodekit.cni.gc;

/** The leak reconciler could not run (the runtime could not be asked, the conf dir is unreadable). Nothing was released. */
public final class ReconcileException extends Exception {
    private static final long serialVersionUID = 1L;

    /** With a message saying what could not be done. */
    public ReconcileException(String message, Throwable cause) {
        super(message, cause);
    }

    /** With a message saying what could not be done. */
    public ReconcileException(String message) {
        super(message);
    }
}
