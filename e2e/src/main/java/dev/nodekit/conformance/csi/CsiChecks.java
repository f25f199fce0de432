package dev.nodekit.conformance.csi;

import java.util.Set;
import java.util.function.Consumer;

import dev.nodekit.common.Requirement;
import dev.nodekit.conformance.Check;
import dev.nodekit.conformance.CheckBody;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.PluginCapability;
import io.grpc.Status;

/** Shared shapes of CSI checks: a body with a {@link CsiResources} scope, and the missing-argument check. */
final class CsiChecks {
    static final String SPEC = "CSI 1.12 ";
    static final Set<Requirement> ROOT = Set.of(Requirement.ROOT);
    static final Set<Requirement> ROOT_LOOP = Set.of(Requirement.ROOT, Requirement.LOOP_DEVICES);

    private CsiChecks() {
    }

    /** A check body that gets a fresh resource scope, closed (everything undone) when it ends. */
    @FunctionalInterface
    interface ScopedBody {
        void run(CsiTarget t, CsiResources r) throws Exception;
    }

    /** A request that lacks one field; built with a scope so it can point at a real volume. */
    @FunctionalInterface
    interface ScopedCall {
        Object call(CsiTarget t, CsiResources r) throws Exception;
    }

    static CheckBody<CsiTarget> scoped(ScopedBody body) {
        return t -> {
            try (CsiResources r = new CsiResources(t)) {
                body.run(t, r);
            }
        };
    }

    /**
     * {@code rpc} without {@code field} must answer INVALID_ARGUMENT (with a message, without details).
     * {@code gate} skips the check when the RPC is not advertised.
     */
    static Check<CsiTarget> missingArgument(String id, String rpc, String field, Consumer<CsiTarget> gate,
            ScopedCall call) {
        return new Check<>(id, SPEC + rpc, rpc + " without " + field + " is INVALID_ARGUMENT", Set.of(), scoped((t, r) -> {
            gate.accept(t);
            CsiExpect.error(Status.Code.INVALID_ARGUMENT, rpc + " without " + field, () -> call.call(t, r));
        }));
    }

    /** A gate on controller capabilities. */
    static Consumer<CsiTarget> controller(ControllerServiceCapability.RPC.Type... rpcs) {
        return t -> t.requireController(rpcs);
    }

    /** No gate: every node plugin serves this RPC. */
    static Consumer<CsiTarget> always() {
        return t -> { };
    }

    /** A volume id for requests whose point is another field: a real volume when the plugin can create one. */
    static String someVolumeId(CsiTarget t, CsiResources r) {
        if (t.hasService(PluginCapability.Service.Type.CONTROLLER_SERVICE)
                && t.controllerCapabilities().contains(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME)) {
            return r.createVolume("csi-arg").getVolumeId();
        }
        return "csi-conformance-volume-id";
    }
}
