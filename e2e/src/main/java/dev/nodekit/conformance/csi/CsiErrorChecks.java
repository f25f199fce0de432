package dev.nodekit.conformance.csi;

import static dev.nodekit.conformance.csi.CsiChecks.SPEC;
import static dev.nodekit.conformance.csi.CsiChecks.scoped;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.nodekit.conformance.CheckFailed;
import dev.nodekit.conformance.Expect;
import dev.nodekit.conformance.Suite;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.ListVolumesRequest;
import dev.nodekit.spec.csi.v1.NodePublishVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnstageVolumeRequest;
import dev.nodekit.spec.csi.v1.PluginCapability;
import io.grpc.StatusRuntimeException;

/**
 * The CSI error scheme on its own: whatever the code, an error reply carries a human-readable
 * message and empty details. Every error check of the other suites asserts the same on the error
 * it provokes; this check provokes one error of each kind the plugin can be asked for, so the rule
 * has a check of its own to fail.
 */
public final class CsiErrorChecks {
    private CsiErrorChecks() {
    }

    /** The error-scheme suite. */
    public static Suite<CsiTarget> suite() {
        return Suite.<CsiTarget>builder("csi")
                .check("csi.errors.well-formed", SPEC + "Error Scheme", "error replies of every service carry a "
                        + "message and no details (INVALID_ARGUMENT, NOT_FOUND, ABORTED as the plugin allows)",
                        scoped((t, r) -> {
                            Map<String, StatusRuntimeException> seen = new LinkedHashMap<>();
                            provoke(seen, "NodePublishVolume without arguments", () -> t.node()
                                    .nodePublishVolume(NodePublishVolumeRequest.getDefaultInstance()));
                            provoke(seen, "NodeUnstageVolume without arguments", () -> t.node()
                                    .nodeUnstageVolume(NodeUnstageVolumeRequest.getDefaultInstance()));
                            if (t.hasService(PluginCapability.Service.Type.CONTROLLER_SERVICE)) {
                                List<ControllerServiceCapability.RPC.Type> caps = t.controllerCapabilities();
                                if (caps.contains(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME)) {
                                    String gone = r.goneVolumeId();
                                    provoke(seen, "ValidateVolumeCapabilities of a deleted volume", () -> t.controller()
                                            .validateVolumeCapabilities(CsiControllerChecks.validateRequest(t, gone)
                                                    .build()));
                                }
                                if (caps.contains(ControllerServiceCapability.RPC.Type.LIST_VOLUMES)) {
                                    provoke(seen, "ListVolumes with a bad token", () -> t.controller().listVolumes(
                                            ListVolumesRequest.newBuilder().setStartingToken("csi-conformance-bad")
                                                    .build()));
                                }
                            }
                            seen.forEach((what, e) -> CsiExpect.wellFormed(e, what));
                        }))
                .build();
    }

    /** Records the error {@code call} provokes under {@code what}; a call that does not fail fails the check. */
    private static void provoke(Map<String, StatusRuntimeException> seen, String what, Expect.Call call) {
        try {
            Object result = call.run();
            throw new CheckFailed(what + " succeeded: " + Expect.oneLine(result));
        } catch (StatusRuntimeException e) {
            seen.put(what, e);
        } catch (CheckFailed e) {
            throw e;
        } catch (Exception e) {
            throw new CheckFailed(what + ": " + e, e);
        }
    }
}
