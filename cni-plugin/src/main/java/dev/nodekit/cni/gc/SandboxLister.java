package dev.nodekit.cni.gc;

import java.util.Set;

/**
 * The pod sandboxes the container runtime knows, whatever their state: their ids are the
 * {@code CNI_CONTAINERID}s a runtime gives its CNI plugins (containerd and CRI-O both use the
 * sandbox id). {@link CriSandboxLister} asks over CRI; tests pass a fixed set.
 */
public interface SandboxLister {

    /**
     * Every sandbox id the runtime knows. An empty set must mean "the runtime knows none" (right after
     * a reboot with its state gone), never "could not ask".
     *
     * @throws ReconcileException when the runtime cannot be asked
     */
    Set<String> sandboxIds() throws ReconcileException;
}
