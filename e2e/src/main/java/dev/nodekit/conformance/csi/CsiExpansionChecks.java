package dev.nodekit.conformance.csi;

import static dev.nodekit.conformance.Expect.ok;
import static dev.nodekit.conformance.Expect.that;
import static dev.nodekit.conformance.csi.CsiChecks.ROOT;
import static dev.nodekit.conformance.csi.CsiChecks.SPEC;
import static dev.nodekit.conformance.csi.CsiChecks.controller;
import static dev.nodekit.conformance.csi.CsiChecks.missingArgument;
import static dev.nodekit.conformance.csi.CsiChecks.scoped;
import static dev.nodekit.conformance.csi.CsiChecks.someVolumeId;
import static dev.nodekit.conformance.csi.CsiControllerChecks.range;

import java.util.function.Consumer;

import dev.nodekit.conformance.CheckSkipped;
import dev.nodekit.conformance.Suite;
import dev.nodekit.spec.csi.v1.ControllerExpandVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerExpandVolumeResponse;
import dev.nodekit.spec.csi.v1.ControllerGetVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.GetCapacityResponse;
import dev.nodekit.spec.csi.v1.NodeExpandVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeExpandVolumeResponse;
import dev.nodekit.spec.csi.v1.NodeServiceCapability;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.spec.csi.v1.Volume;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import io.grpc.Status;

/**
 * The CSI expansion suite: ControllerExpandVolume (arguments, idempotency, NOT_FOUND, OUT_OF_RANGE,
 * node_expansion_required for filesystem volumes) and NodeExpandVolume, which must make the
 * filesystem (or device) the workload sees really grow, online or offline as the plugin advertises.
 * Covers csi-sanity's ExpandVolume group and the node expansion specs of its Node group.
 */
public final class CsiExpansionChecks {
    private static final ControllerServiceCapability.RPC.Type CREATE_DELETE =
            ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME;
    private static final ControllerServiceCapability.RPC.Type EXPAND = ControllerServiceCapability.RPC.Type.EXPAND_VOLUME;
    private static final NodeServiceCapability.RPC.Type NODE_EXPAND = NodeServiceCapability.RPC.Type.EXPAND_VOLUME;

    private CsiExpansionChecks() {
    }

    /** The expansion suite. */
    public static Suite<CsiTarget> suite() {
        Suite.Builder<CsiTarget> b = Suite.builder("csi");
        controllerExpand(b);
        nodeExpand(b);
        return b.build();
    }

    static ControllerExpandVolumeRequest.Builder expandRequest(CsiTarget t, String volumeId, long required) {
        return ControllerExpandVolumeRequest.newBuilder().setVolumeId(volumeId).setCapacityRange(range(required, 0))
                .setVolumeCapability(t.capability()).putAllSecrets(t.secrets());
    }

    private static void controllerExpand(Suite.Builder<CsiTarget> b) {
        b.add(missingArgument("csi.expansion.controller.missing-volume-id", "ControllerExpandVolume", "volume_id",
                controller(EXPAND), (t, r) -> t.controller().controllerExpandVolume(
                        expandRequest(t, "", 2 * t.config().volumeSize()).build())));
        b.add(missingArgument("csi.expansion.controller.missing-capacity-range", "ControllerExpandVolume",
                "capacity_range", controller(EXPAND), (t, r) -> t.controller().controllerExpandVolume(
                        expandRequest(t, someVolumeId(t, r), 0).clearCapacityRange().build())));
        b.check("csi.expansion.controller.expand", SPEC + "ControllerExpandVolume",
                "a volume grows to at least the requested size; filesystem volumes ask for node expansion", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, EXPAND);
                    long size = t.config().volumeSize();
                    Volume v = r.createVolume("csi-expand");
                    ControllerExpandVolumeResponse resp = ok("ControllerExpandVolume to " + 2 * size, () -> t.controller()
                            .controllerExpandVolume(expandRequest(t, v.getVolumeId(), 2 * size).build()));
                    that(resp.getCapacityBytes() >= 2 * size, "ControllerExpandVolume to %d bytes answered "
                            + "capacity_bytes %d", 2 * size, resp.getCapacityBytes());
                    if (t.config().accessType() == CsiTarget.AccessType.MOUNT && t.nodeCapabilities().contains(NODE_EXPAND)) {
                        that(resp.getNodeExpansionRequired(), "a mount volume was expanded but node_expansion_required "
                                + "is false: nobody will grow its filesystem");
                    }
                    if (t.controllerCapabilities().contains(ControllerServiceCapability.RPC.Type.GET_VOLUME)) {
                        long now = ok("ControllerGetVolume", () -> t.controller().controllerGetVolume(
                                ControllerGetVolumeRequest.newBuilder().setVolumeId(v.getVolumeId()).build()))
                                .getVolume().getCapacityBytes();
                        that(now >= 2 * size, "after expansion to %d bytes ControllerGetVolume reports %d", 2 * size, now);
                    }
                }));
        b.check("csi.expansion.controller.idempotent", SPEC + "ControllerExpandVolume",
                "expansion repeated, concurrent, or to a smaller size than the volume has answers OK", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, EXPAND);
                    long size = t.config().volumeSize();
                    Volume v = r.createVolume("csi-expidem");
                    ControllerExpandVolumeRequest req = expandRequest(t, v.getVolumeId(), 2 * size).build();
                    for (int i = 0; i <= CsiExpect.REPEATS; i++) {
                        long cap = ok("ControllerExpandVolume call " + (i + 1), () -> t.controller()
                                .controllerExpandVolume(req)).getCapacityBytes();
                        that(cap >= 2 * size, "ControllerExpandVolume call %d answered capacity_bytes %d < %d", i + 1,
                                cap, 2 * size);
                    }
                    for (ControllerExpandVolumeResponse o : CsiExpect.concurrently("ControllerExpandVolume",
                            () -> t.controller().controllerExpandVolume(req))) {
                        that(o.getCapacityBytes() >= 2 * size, "a concurrent ControllerExpandVolume answered "
                                + "capacity_bytes %d < %d", o.getCapacityBytes(), 2 * size);
                    }
                    long smaller = ok("ControllerExpandVolume to the original size", () -> t.controller()
                            .controllerExpandVolume(expandRequest(t, v.getVolumeId(), size).build())).getCapacityBytes();
                    that(smaller >= 2 * size, "ControllerExpandVolume to %d bytes of a %d-byte volume answered "
                            + "capacity_bytes %d (volumes never shrink)", size, 2 * size, smaller);
                }));
        b.check("csi.expansion.controller.unknown-volume", SPEC + "ControllerExpandVolume",
                "expanding an unknown volume is NOT_FOUND", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, EXPAND);
                    String gone = r.goneVolumeId();
                    CsiExpect.error(Status.Code.NOT_FOUND, "ControllerExpandVolume of deleted volume " + gone,
                            () -> t.controller().controllerExpandVolume(expandRequest(t, gone,
                                    2 * t.config().volumeSize()).build()));
                }));
        b.check("csi.expansion.controller.limit-below-required", SPEC + "ControllerExpandVolume",
                "expansion with limit_bytes below required_bytes is refused (OUT_OF_RANGE, or INVALID_ARGUMENT)",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, EXPAND);
                    long size = t.config().volumeSize();
                    Volume v = r.createVolume("csi-exprange");
                    CsiExpect.errorIn(CsiExpect.codes(Status.Code.OUT_OF_RANGE, Status.Code.INVALID_ARGUMENT),
                            "ControllerExpandVolume with required_bytes=" + 3 * size + " > limit_bytes=" + 2 * size,
                            () -> t.controller().controllerExpandVolume(expandRequest(t, v.getVolumeId(), 0)
                                    .setCapacityRange(range(3 * size, 2 * size)).build()));
                }));
        b.check("csi.expansion.controller.beyond-maximum", SPEC + "ControllerExpandVolume",
                "expansion beyond GetCapacity's maximum_volume_size is OUT_OF_RANGE", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, EXPAND, ControllerServiceCapability.RPC.Type.GET_CAPACITY);
                    GetCapacityResponse cap = ok("GetCapacity", () -> t.controller().getCapacity(
                            CsiControllerChecks.capacityRequest(t)));
                    if (!cap.hasMaximumVolumeSize() || cap.getMaximumVolumeSize().getValue() == Long.MAX_VALUE) {
                        throw new CheckSkipped("GetCapacity reports no maximum_volume_size");
                    }
                    long over = cap.getMaximumVolumeSize().getValue() + 1;
                    Volume v = r.createVolume("csi-expmax");
                    CsiExpect.error(Status.Code.OUT_OF_RANGE, "ControllerExpandVolume to " + over
                            + " bytes (maximum_volume_size + 1)", () -> t.controller().controllerExpandVolume(
                                    expandRequest(t, v.getVolumeId(), over).build()));
                }));
    }

    static NodeExpandVolumeRequest.Builder nodeExpandRequest(CsiTarget t, String volumeId, String path, long required) {
        return NodeExpandVolumeRequest.newBuilder().setVolumeId(volumeId).setVolumePath(path)
                .setCapacityRange(range(required, 0)).setVolumeCapability(t.capability()).putAllSecrets(t.secrets());
    }

    private static Consumer<CsiTarget> node(NodeServiceCapability.RPC.Type rpc) {
        return t -> t.requireNode(rpc);
    }

    private static void nodeExpand(Suite.Builder<CsiTarget> b) {
        b.add(missingArgument("csi.expansion.node.missing-volume-id", "NodeExpandVolume", "volume_id", node(NODE_EXPAND),
                (t, r) -> t.node().nodeExpandVolume(nodeExpandRequest(t, "", r.newTargetPath().getParent().toString(),
                        2 * t.config().volumeSize()).build())));
        b.add(missingArgument("csi.expansion.node.missing-volume-path", "NodeExpandVolume", "volume_path",
                node(NODE_EXPAND), (t, r) -> t.node().nodeExpandVolume(nodeExpandRequest(t, someVolumeId(t, r), "",
                        2 * t.config().volumeSize()).build())));
        b.check("csi.expansion.node.unknown-volume", SPEC + "NodeExpandVolume",
                "expanding an unknown volume on the node is NOT_FOUND", scoped((t, r) -> {
                    t.requireNode(NODE_EXPAND);
                    String gone = r.goneVolumeId();
                    String path = r.newTargetPath().toString();
                    CsiExpect.error(Status.Code.NOT_FOUND, "NodeExpandVolume of deleted volume " + gone,
                            () -> t.node().nodeExpandVolume(nodeExpandRequest(t, gone, path,
                                    2 * t.config().volumeSize()).build()));
                }));
        b.check("csi.expansion.node.expand", SPEC + "NodeExpandVolume", "after ControllerExpand and NodeExpand (online "
                + "or offline as advertised) the workload sees the larger filesystem or device, data intact", ROOT,
                scoped((t, r) -> {
                    t.requireNode(NODE_EXPAND);
                    r.requireProvisioning();
                    long size = t.config().volumeSize();
                    boolean controllerExpand = t.controllerCapabilities().contains(EXPAND);
                    boolean offlineOnly = t.pluginCapabilities().stream().anyMatch(c -> c.hasVolumeExpansion()
                            && c.getVolumeExpansion().getType() == PluginCapability.VolumeExpansion.Type.OFFLINE)
                            && t.pluginCapabilities().stream().noneMatch(c -> c.hasVolumeExpansion()
                            && c.getVolumeExpansion().getType() == PluginCapability.VolumeExpansion.Type.ONLINE);
                    VolumeCapability cap = t.capability();
                    Volume v = r.createVolume("csi-nodeexp", cap);
                    CsiResources.Published p = r.publish(r.stage(v, cap), false);
                    VolumeData.Marker marker = VolumeData.marker("expand", 0);
                    VolumeData.write(p, marker);
                    long before = VolumeData.visibleSize(p);
                    boolean nodeRequired = true;
                    if (offlineOnly) {
                        r.release(p);
                    }
                    if (controllerExpand) {
                        ControllerExpandVolumeResponse resp = ok("ControllerExpandVolume to " + 2 * size,
                                () -> t.controller().controllerExpandVolume(expandRequest(t, v.getVolumeId(), 2 * size)
                                        .build()));
                        that(resp.getCapacityBytes() >= 2 * size, "ControllerExpandVolume to %d answered %d", 2 * size,
                                resp.getCapacityBytes());
                        nodeRequired = resp.getNodeExpansionRequired();
                    }
                    if (offlineOnly) {
                        p = r.publish(r.stage(v, cap), false);
                    }
                    if (nodeRequired) {
                        NodeExpandVolumeRequest.Builder req = nodeExpandRequest(t, v.getVolumeId(), p.target().toString(),
                                2 * size);
                        p.staged().stagingPath().ifPresent(s -> req.setStagingTargetPath(s.toString()));
                        for (int i = 0; i < 2; i++) {
                            NodeExpandVolumeResponse resp = ok("NodeExpandVolume call " + (i + 1) + " on " + p.target(),
                                    () -> t.node().nodeExpandVolume(req.build()));
                            that(resp.getCapacityBytes() == 0 || resp.getCapacityBytes() >= 2 * size,
                                    "NodeExpandVolume to %d bytes answered capacity_bytes %d", 2 * size,
                                    resp.getCapacityBytes());
                        }
                    }
                    long after = VolumeData.visibleSize(p);
                    that(after > before && after > size, "after expansion from %d to %d bytes the workload sees %d "
                            + "bytes (before: %d): the %s did not grow", size, 2 * size, after, before,
                            p.staged().block() ? "device" : "filesystem");
                    that(VolumeData.has(p, marker), "data written before the expansion is gone");
                }));
    }
}
