package dev.nodekit.cni.api;

import java.util.List;

import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.CniVersion;
import dev.nodekit.spec.cni.Result;

/**
 * What a CNI plugin author implements; {@link CniDispatcher} does the rest (environment, version
 * negotiation, VERSION, result conversion, errors on stdout, exit code).
 *
 * <p>Every method gets a validated {@link CniRequest} and reports failure by throwing a
 * {@link CniException} with the spec's code; anything else thrown becomes code 999 (internal error),
 * as in Go's skel. Implementations write nothing to stdout: stdout belongs to the dispatcher.
 * A plugin instance serves one call in an exec'd plugin, but may serve many at once when called
 * in-process (a bridge calling its IPAM), so implementations keep no per-call state in fields.
 */
public interface CniPlugin {

    /** The versions every nodekit plugin supports: 0.3.0 to 1.1.0. */
    List<CniVersion> DEFAULT_VERSIONS = List.of(CniVersion.V0_3_0, CniVersion.V0_3_1, CniVersion.V0_4_0,
            CniVersion.V1_0_0, CniVersion.V1_1_0);

    /**
     * Attaches the container. The returned result may be of any version (the 1.x model is kept);
     * the dispatcher converts it to the request's version. A plugin given a {@code prevResult}
     * returns it, changed or not.
     */
    Result add(CniRequest request) throws CniException;

    /** Detaches the container; must succeed when what it would remove is already gone. */
    void del(CniRequest request) throws CniException;

    /** Verifies the attachment described by the configuration's {@code prevResult}. */
    void check(CniRequest request) throws CniException;

    /** Reports whether the plugin can serve ADD (codes 50/51 when not). The default: ready. */
    default void status(CniRequest request) throws CniException {
    }

    /**
     * Releases what belongs to attachments not in {@code cni.dev/valid-attachments}
     * ({@code request.config().gcAttachments()}). The default: nothing to collect.
     */
    default void gc(CniRequest request) throws CniException {
    }

    /** The spec versions this plugin accepts; the default is {@link #DEFAULT_VERSIONS}. */
    default List<CniVersion> supportedVersions() {
        return DEFAULT_VERSIONS;
    }

    /** One line printed to stderr when the plugin runs without {@code CNI_COMMAND}. */
    String about();
}
