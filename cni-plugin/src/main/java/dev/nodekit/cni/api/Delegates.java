package dev.nodekit.cni.api;

import java.io.OutputStream;
import java.time.Duration;

import dev.nodekit.common.exec.CommandRunner;

/**
 * Finds the delegate a plugin calls for {@code ipam.type}: a plugin of this JVM when one is
 * registered for that type (nodekit's own IPAM, called in-process instead of paying a second JVM
 * start), else the executable of that name in {@code CNI_PATH} ({@link ExecPlugin}). Both receive
 * the same {@link CniRequest}, so the delegate cannot tell the difference.
 */
public final class Delegates {

    /** Plugins available in-process, by type. */
    public interface InProcess {
        /** The plugin serving {@code type}, or null when it must be exec'd. */
        CniPlugin lookup(String type);
    }

    /** No in-process plugin: every delegate is exec'd. */
    public static final InProcess NONE = new InProcess() {
        @Override
        public CniPlugin lookup(String type) {
            return null;
        }
    };

    private final InProcess inProcess;
    private final CommandRunner runner;
    private final OutputStream stderr;
    private final Duration timeout;

    /**
     * Delegates resolved through {@code inProcess} first.
     *
     * @param stderr  where exec'd delegates' stderr goes
     * @param timeout the bound on one exec'd delegate call
     */
    public Delegates(InProcess inProcess, CommandRunner runner, OutputStream stderr, Duration timeout) {
        if (inProcess == null || runner == null || stderr == null || timeout == null) {
            throw new IllegalArgumentException("all arguments are required");
        }
        this.inProcess = inProcess;
        this.runner = runner;
        this.stderr = stderr;
        this.timeout = timeout;
    }

    /** The delegate for {@code type}. */
    public CniPlugin forType(String type) {
        CniPlugin p = inProcess.lookup(type);
        return p != null ? p : new ExecPlugin(type, runner, stderr, timeout);
    }
}
