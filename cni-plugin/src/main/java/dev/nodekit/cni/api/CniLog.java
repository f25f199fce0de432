package dev.nodekit.cni.api;

import java.util.Locale;

/**
 * Keeps logging off the success path of a CNI executable. Initialising SLF4J (service lookup over
 * every jar of the class path, the binding's set-up) costs tens of milliseconds in a fresh JVM, which
 * is paid on every pod ADD. So nodekit's CNI classes hold their logger in a lazily initialised holder
 * ({@code private static final class Log { static final Logger LOG = ... }}), log warnings and errors
 * only when something went wrong, and guard per-call debug lines with {@link #debug()}, which reads
 * the level the binding would ({@code nodekit.log.level} / {@code NODEKIT_LOG_LEVEL}) without
 * touching SLF4J.
 */
public final class CniLog {
    private static final boolean DEBUG = computeDebug();

    private CniLog() {
    }

    /** Whether DEBUG (or TRACE) logging was asked for. */
    public static boolean debug() {
        return DEBUG;
    }

    private static boolean computeDebug() {
        String v = System.getProperty("nodekit.log.level");
        if (v == null || v.isBlank()) {
            v = System.getenv("NODEKIT_LOG_LEVEL");
        }
        if (v == null) {
            return false;
        }
        String l = v.strip().toUpperCase(Locale.ROOT);
        return "DEBUG".equals(l) || "TRACE".equals(l);
    }
}
