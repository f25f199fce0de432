package dev.nodekit.conformance.csi;

import static dev.nodekit.conformance.Expect.ok;
import static dev.nodekit.conformance.Expect.that;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

import dev.nodekit.conformance.CheckFailed;
import dev.nodekit.conformance.CheckSkipped;
import dev.nodekit.conformance.Expect;
import dev.nodekit.conformance.Parallel;
import dev.nodekit.conformance.Suite;
import dev.nodekit.spec.csi.v1.ControllerGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.GetPluginCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.GetPluginCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.GetPluginInfoRequest;
import dev.nodekit.spec.csi.v1.GetPluginInfoResponse;
import dev.nodekit.spec.csi.v1.NodeGetInfoRequest;
import dev.nodekit.spec.csi.v1.NodeGetInfoResponse;
import dev.nodekit.spec.csi.v1.NodeServiceCapability;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.spec.csi.v1.ProbeRequest;
import dev.nodekit.spec.csi.v1.ProbeResponse;

/**
 * The CSI Identity suite: GetPluginInfo name and version rules, capabilities that are well formed
 * and consistent with what the other services advertise, and Probe. Covers csi-sanity's Identity
 * group and adds the repeat/concurrency and cross-service consistency rules.
 */
public final class CsiIdentityChecks {
    /** CSI: name at most 63 chars, alphanumeric at both ends, '-', '.' and alphanumerics between. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?");
    static final int CONCURRENCY = 8;

    private CsiIdentityChecks() {
    }

    /** The Identity suite. */
    public static Suite<CsiTarget> suite() {
        return Suite.<CsiTarget>builder("csi")
                .check("csi.identity.plugin-info-name", "CSI 1.12 GetPluginInfo",
                        "name is set, at most 63 characters, domain-name style", t -> {
                            GetPluginInfoResponse r = info(t);
                            String n = r.getName();
                            that(!n.isEmpty(), "GetPluginInfo.name is empty (the spec requires it)");
                            that(n.length() <= 63, "GetPluginInfo.name '%s' is %d characters; at most 63 allowed", n,
                                    n.length());
                            that(NAME.matcher(n).matches(), "GetPluginInfo.name '%s' must begin and end with an "
                                    + "alphanumeric character with only '-', '.' and alphanumerics between", n);
                        })
                .check("csi.identity.plugin-info-version", "CSI 1.12 GetPluginInfo",
                        "vendor_version is set and at most 128 bytes", t -> {
                            String v = info(t).getVendorVersion();
                            that(!v.isEmpty(), "GetPluginInfo.vendor_version is empty (the spec requires it)");
                            int bytes = v.getBytes(StandardCharsets.UTF_8).length;
                            that(bytes <= 128, "GetPluginInfo.vendor_version is %d bytes; strings are limited to 128", bytes);
                        })
                .check("csi.identity.plugin-info-stable", "CSI 1.12 Idempotency",
                        "repeated and concurrent GetPluginInfo calls give the same answer", t -> {
                            GetPluginInfoResponse first = info(t);
                            for (int i = 0; i < 5; i++) {
                                Expect.equal(first, info(t), "GetPluginInfo call " + (i + 2));
                            }
                            for (GetPluginInfoResponse r : Parallel.times(CONCURRENCY, () -> info(t))) {
                                Expect.equal(first, r, "concurrent GetPluginInfo");
                            }
                        })
                .check("csi.identity.capabilities-valid", "CSI 1.12 GetPluginCapabilities",
                        "every capability has a known type and none is repeated", t -> {
                            GetPluginCapabilitiesResponse r = ok("GetPluginCapabilities", () -> t.identity()
                                    .getPluginCapabilities(GetPluginCapabilitiesRequest.getDefaultInstance()));
                            Set<String> seen = new HashSet<>();
                            for (int i = 0; i < r.getCapabilitiesCount(); i++) {
                                PluginCapability c = r.getCapabilities(i);
                                String key;
                                if (c.hasService()) {
                                    var type = c.getService().getType();
                                    that(type != PluginCapability.Service.Type.UNKNOWN
                                            && type != PluginCapability.Service.Type.UNRECOGNIZED,
                                            "capabilities[%d].service.type is %s", i, type);
                                    key = "service:" + type;
                                } else if (c.hasVolumeExpansion()) {
                                    var type = c.getVolumeExpansion().getType();
                                    that(type != PluginCapability.VolumeExpansion.Type.UNKNOWN
                                            && type != PluginCapability.VolumeExpansion.Type.UNRECOGNIZED,
                                            "capabilities[%d].volume_expansion.type is %s", i, type);
                                    key = "volume_expansion";
                                } else {
                                    throw new CheckFailed("capabilities[" + i + "] has no type set (neither service "
                                            + "nor volume_expansion)");
                                }
                                that(seen.add(key), "capabilities[%d] repeats %s", i, key);
                            }
                        })
                .check("csi.identity.controller-service-consistent", "CSI 1.12 GetPluginCapabilities",
                        "a plugin that advertises CONTROLLER_SERVICE answers ControllerGetCapabilities", t -> {
                            if (!t.hasService(PluginCapability.Service.Type.CONTROLLER_SERVICE)) {
                                throw new CheckSkipped("plugin does not advertise CONTROLLER_SERVICE");
                            }
                            ok("ControllerGetCapabilities (CONTROLLER_SERVICE is advertised)", () -> t.controller()
                                    .controllerGetCapabilities(ControllerGetCapabilitiesRequest.getDefaultInstance()));
                        })
                .check("csi.identity.expansion-consistent", "CSI 1.12 GetPluginCapabilities",
                        "a plugin that advertises VolumeExpansion advertises EXPAND_VOLUME on the controller or node", t -> {
                            boolean expansion = t.pluginCapabilities().stream().anyMatch(PluginCapability::hasVolumeExpansion);
                            if (!expansion) {
                                throw new CheckSkipped("plugin does not advertise VolumeExpansion");
                            }
                            boolean controller = t.hasService(PluginCapability.Service.Type.CONTROLLER_SERVICE)
                                    && t.hasController(ControllerServiceCapability.RPC.Type.EXPAND_VOLUME);
                            boolean node = t.hasNode(NodeServiceCapability.RPC.Type.EXPAND_VOLUME);
                            that(controller || node, "VolumeExpansion is advertised but neither the controller nor "
                                    + "the node service advertises EXPAND_VOLUME");
                        })
                .check("csi.identity.accessibility-consistent", "CSI 1.12 NodeGetInfo",
                        "a plugin that advertises VOLUME_ACCESSIBILITY_CONSTRAINTS reports the node's topology", t -> {
                            if (!t.hasService(PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS)) {
                                throw new CheckSkipped("plugin does not advertise VOLUME_ACCESSIBILITY_CONSTRAINTS");
                            }
                            NodeGetInfoResponse r = ok("NodeGetInfo", () -> t.node().nodeGetInfo(
                                    NodeGetInfoRequest.getDefaultInstance()));
                            that(r.hasAccessibleTopology() && !r.getAccessibleTopology().getSegmentsMap().isEmpty(),
                                    "VOLUME_ACCESSIBILITY_CONSTRAINTS is advertised but NodeGetInfo has no "
                                            + "accessible_topology segments");
                        })
                .check("csi.identity.probe", "CSI 1.12 Probe",
                        "Probe answers OK and the plugin becomes ready within 10 s (or the call timeout)", t -> {
                            long waitNanos = Math.min(10_000_000_000L, t.config().callTimeout().toNanos());
                            long deadline = System.nanoTime() + waitNanos;
                            while (true) {
                                ProbeResponse r = probe(t);
                                if (!r.hasReady() || r.getReady().getValue()) {
                                    return;
                                }
                                if (System.nanoTime() > deadline) {
                                    throw new CheckFailed("Probe answered ready=false for " + waitNanos / 1_000_000 + " ms");
                                }
                                Thread.sleep(200);
                            }
                        })
                .check("csi.identity.probe-repeatable", "CSI 1.12 Idempotency",
                        "repeated and concurrent Probe calls all answer OK", t -> {
                            for (int i = 0; i < 10; i++) {
                                probe(t);
                            }
                            Parallel.times(CONCURRENCY, () -> probe(t));
                        })
                .build();
    }

    private static GetPluginInfoResponse info(CsiTarget t) {
        return ok("GetPluginInfo", () -> t.identity().getPluginInfo(GetPluginInfoRequest.getDefaultInstance()));
    }

    private static ProbeResponse probe(CsiTarget t) {
        return ok("Probe", () -> t.identity().probe(ProbeRequest.getDefaultInstance()));
    }
}
