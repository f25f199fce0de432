package dev.nodekit.cni.net;

import java.nio.file.Path;

import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;

/**
 * The namespace path does not exist or is not a network namespace (a bind mount already unmounted,
 * a process that exited). ADD and CHECK fail with it; DEL treats it as "already gone" and still
 * releases what it holds outside the namespace (addresses, firewall rules).
 */
public final class NoSuchNetNsException extends CniException {
    private static final long serialVersionUID = 1L;

    private final transient Path path;

    /** The namespace at {@code path} cannot be entered; {@code why} is nsenter's message or ours. */
    public NoSuchNetNsException(Path path, String why) {
        super(CniError.INTERNAL, "network namespace " + path + " cannot be entered: " + why);
        this.path = path;
    }

    /** The namespace path from the request. */
    public Path path() {
        return path;
    }
}
