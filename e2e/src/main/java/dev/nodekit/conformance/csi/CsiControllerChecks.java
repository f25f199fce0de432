package dev.nodekit.conformance.csi;

import static dev.nodekit.conformance.Expect.ok;
import static dev.nodekit.conformance.Expect.that;
import static dev.nodekit.conformance.csi.CsiChecks.SPEC;
import static dev.nodekit.conformance.csi.CsiChecks.controller;
import static dev.nodekit.conformance.csi.CsiChecks.missingArgument;
import static dev.nodekit.conformance.csi.CsiChecks.scoped;
import static dev.nodekit.conformance.csi.CsiChecks.someVolumeId;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.nodekit.conformance.CheckSkipped;
import dev.nodekit.conformance.Expect;
import dev.nodekit.conformance.Suite;
import dev.nodekit.spec.csi.v1.CapacityRange;
import dev.nodekit.spec.csi.v1.ControllerGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.ControllerGetCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.ControllerGetVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerGetVolumeResponse;
import dev.nodekit.spec.csi.v1.ControllerModifyVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerPublishVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerPublishVolumeResponse;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.ControllerUnpublishVolumeRequest;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.CreateVolumeResponse;
import dev.nodekit.spec.csi.v1.DeleteVolumeRequest;
import dev.nodekit.spec.csi.v1.GetCapacityRequest;
import dev.nodekit.spec.csi.v1.GetCapacityResponse;
import dev.nodekit.spec.csi.v1.ListVolumesRequest;
import dev.nodekit.spec.csi.v1.NodeGetInfoRequest;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.spec.csi.v1.Snapshot;
import dev.nodekit.spec.csi.v1.Topology;
import dev.nodekit.spec.csi.v1.ValidateVolumeCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.ValidateVolumeCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.Volume;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import dev.nodekit.spec.csi.v1.VolumeContentSource;
import io.grpc.Status;

/**
 * The CSI Controller suite: capabilities, GetCapacity, CreateVolume / DeleteVolume (arguments,
 * capacity rules, idempotency sequential and concurrent, ALREADY_EXISTS, OUT_OF_RANGE, topology),
 * ValidateVolumeCapabilities, ListVolumes (pagination, bad tokens, changes between pages),
 * ControllerGetVolume, Controller(Un)Publish and ControllerModifyVolume. Covers csi-sanity's
 * "Controller Service" group and goes further on concurrency, pagination and capacity rules.
 */
public final class CsiControllerChecks {
    private static final ControllerServiceCapability.RPC.Type CREATE_DELETE =
            ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME;
    private static final ControllerServiceCapability.RPC.Type LIST = ControllerServiceCapability.RPC.Type.LIST_VOLUMES;
    private static final ControllerServiceCapability.RPC.Type PUBLISH =
            ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME;
    private static final ControllerServiceCapability.RPC.Type GET_VOLUME = ControllerServiceCapability.RPC.Type.GET_VOLUME;
    private static final ControllerServiceCapability.RPC.Type MODIFY = ControllerServiceCapability.RPC.Type.MODIFY_VOLUME;
    private static final String NO_SUCH_NODE = "csi-conformance-no-such-node";

    private CsiControllerChecks() {
    }

    /** The Controller suite. */
    public static Suite<CsiTarget> suite() {
        Suite.Builder<CsiTarget> b = Suite.builder("csi");
        capabilities(b);
        createVolume(b);
        deleteVolume(b);
        validate(b);
        listVolumes(b);
        getVolume(b);
        controllerPublish(b);
        modify(b);
        return b.build();
    }

    // ---- capabilities and capacity

    private static void capabilities(Suite.Builder<CsiTarget> b) {
        b.check("csi.controller.capabilities-valid", SPEC + "ControllerGetCapabilities",
                "every capability is a known RPC type, none is repeated, the answer is stable", t -> {
                    if (!t.hasService(PluginCapability.Service.Type.CONTROLLER_SERVICE)) {
                        throw new CheckSkipped("plugin does not advertise CONTROLLER_SERVICE");
                    }
                    ControllerGetCapabilitiesResponse first = caps(t);
                    Set<ControllerServiceCapability.RPC.Type> seen = new HashSet<>();
                    for (int i = 0; i < first.getCapabilitiesCount(); i++) {
                        ControllerServiceCapability c = first.getCapabilities(i);
                        that(c.hasRpc(), "capabilities[%d] has no rpc set", i);
                        ControllerServiceCapability.RPC.Type type = c.getRpc().getType();
                        that(type != ControllerServiceCapability.RPC.Type.UNKNOWN
                                && type != ControllerServiceCapability.RPC.Type.UNRECOGNIZED,
                                "capabilities[%d] has type %s", i, type);
                        that(seen.add(type), "capabilities[%d] repeats %s", i, type);
                    }
                    for (int i = 0; i < CsiExpect.REPEATS; i++) {
                        Expect.equal(first, caps(t), "ControllerGetCapabilities call " + (i + 2));
                    }
                });
        b.check("csi.controller.get-capacity", SPEC + "GetCapacity",
                "GetCapacity answers with and without capabilities; capacity and size bounds are not negative",
                t -> {
                    t.requireController(ControllerServiceCapability.RPC.Type.GET_CAPACITY);
                    GetCapacityResponse plain = ok("GetCapacity()", () -> t.controller()
                            .getCapacity(GetCapacityRequest.getDefaultInstance()));
                    checkCapacity(plain, "GetCapacity()");
                    GetCapacityResponse withCaps = ok("GetCapacity(capability, parameters)", () -> t.controller()
                            .getCapacity(capacityRequest(t)));
                    checkCapacity(withCaps, "GetCapacity(capability, parameters)");
                });
    }

    private static ControllerGetCapabilitiesResponse caps(CsiTarget t) {
        return ok("ControllerGetCapabilities", () -> t.controller()
                .controllerGetCapabilities(ControllerGetCapabilitiesRequest.getDefaultInstance()));
    }

    static GetCapacityRequest capacityRequest(CsiTarget t) {
        return GetCapacityRequest.newBuilder().addVolumeCapabilities(t.capability()).putAllParameters(t.config().params())
                .build();
    }

    private static void checkCapacity(GetCapacityResponse r, String what) {
        that(r.getAvailableCapacity() >= 0, "%s: available_capacity %d is negative", what, r.getAvailableCapacity());
        if (r.hasMaximumVolumeSize()) {
            that(r.getMaximumVolumeSize().getValue() >= 0, "%s: maximum_volume_size is negative", what);
        }
        if (r.hasMinimumVolumeSize()) {
            that(r.getMinimumVolumeSize().getValue() >= 0, "%s: minimum_volume_size is negative", what);
        }
        if (r.hasMaximumVolumeSize() && r.hasMinimumVolumeSize()) {
            that(r.getMinimumVolumeSize().getValue() <= r.getMaximumVolumeSize().getValue(),
                    "%s: minimum_volume_size %d > maximum_volume_size %d", what, r.getMinimumVolumeSize().getValue(),
                    r.getMaximumVolumeSize().getValue());
        }
    }

    /** Registers the volume a call that should have failed created anyway, so it is deleted. */
    static CreateVolumeResponse created(CsiResources r, CreateVolumeResponse resp) {
        r.trackVolume(resp.getVolume().getVolumeId());
        return resp;
    }

    static CapacityRange range(long required, long limit) {
        return CapacityRange.newBuilder().setRequiredBytes(required).setLimitBytes(limit).build();
    }

    // ---- CreateVolume

    private static void createVolume(Suite.Builder<CsiTarget> b) {
        b.add(missingArgument("csi.controller.create-volume.missing-name", "CreateVolume", "name",
                controller(CREATE_DELETE), (t, r) -> created(r, t.controller().createVolume(
                        t.createVolumeRequest("").build()))));
        b.add(missingArgument("csi.controller.create-volume.missing-capabilities", "CreateVolume",
                "volume_capabilities", controller(CREATE_DELETE), (t, r) -> created(r, t.controller().createVolume(
                        t.createVolumeRequest(t.uniqueName("csi-nocaps")).clearVolumeCapabilities().build()))));
        b.add(missingArgument("csi.controller.create-volume.missing-access-mode", "CreateVolume",
                "volume_capabilities[].access_mode", controller(CREATE_DELETE), (t, r) -> created(r, t.controller()
                        .createVolume(t.createVolumeRequest(t.uniqueName("csi-nomode")).clearVolumeCapabilities()
                                .addVolumeCapabilities(t.capability().toBuilder().clearAccessMode()).build()))));
        b.add(missingArgument("csi.controller.create-volume.missing-access-type", "CreateVolume",
                "volume_capabilities[].access_type (mount or block)", controller(CREATE_DELETE), (t, r) -> created(r,
                        t.controller().createVolume(t.createVolumeRequest(t.uniqueName("csi-notype"))
                                .clearVolumeCapabilities().addVolumeCapabilities(t.capability().toBuilder()
                                        .clearMount().clearBlock()).build()))));
        b.check("csi.controller.create-volume.negative-capacity", SPEC + "CapacityRange",
                "a negative required_bytes or limit_bytes is INVALID_ARGUMENT", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE);
                    CsiExpect.error(Status.Code.INVALID_ARGUMENT, "CreateVolume with required_bytes=-1", () -> created(r,
                            t.controller().createVolume(t.createVolumeRequest(t.uniqueName("csi-neg"))
                                    .setCapacityRange(range(-1, 0)).build())));
                    CsiExpect.error(Status.Code.INVALID_ARGUMENT, "CreateVolume with limit_bytes=-1", () -> created(r,
                            t.controller().createVolume(t.createVolumeRequest(t.uniqueName("csi-neg"))
                                    .setCapacityRange(range(0, -1)).build())));
                }));
        b.check("csi.controller.create-volume", SPEC + "CreateVolume",
                "volumes are created with a volume_id of at most 128 bytes and a capacity within the requested range",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE);
                    long size = t.config().volumeSize();
                    Volume v = r.createVolume("csi-create");
                    int idBytes = v.getVolumeId().getBytes(StandardCharsets.UTF_8).length;
                    that(idBytes <= 128, "volume_id is %d bytes; CSI limits it to 128", idBytes);
                    that(v.getCapacityBytes() == 0 || v.getCapacityBytes() >= size,
                            "required_bytes=%d but capacity_bytes=%d", size, v.getCapacityBytes());
                    Volume exact = r.createVolume(t.createVolumeRequest(t.uniqueName("csi-exact"))
                            .setCapacityRange(range(size, size)).build());
                    that(exact.getCapacityBytes() == 0 || exact.getCapacityBytes() == size,
                            "required_bytes=limit_bytes=%d but capacity_bytes=%d", size, exact.getCapacityBytes());
                    Volume any = r.createVolume(t.createVolumeRequest(t.uniqueName("csi-anysize")).clearCapacityRange()
                            .build());
                    that(any.getCapacityBytes() >= 0, "capacity_bytes %d is negative", any.getCapacityBytes());
                    Set<String> ids = Set.of(v.getVolumeId(), exact.getVolumeId(), any.getVolumeId());
                    that(ids.size() == 3, "three CreateVolume calls with different names returned only %d distinct "
                            + "volume ids", ids.size());
                }));
        b.check("csi.controller.create-volume.max-length-name", SPEC + "Size Limits",
                "a 128-byte name is accepted (csi-sanity sends one)", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE);
                    String name = t.uniqueNameOfLength("csi-maxlen", 128);
                    Volume v = r.createVolume(t.createVolumeRequest(name).build());
                    Volume again = r.createVolume(t.createVolumeRequest(name).build());
                    Expect.equal(v.getVolumeId(), again.getVolumeId(), "volume_id of the repeated 128-byte name");
                }));
        b.check("csi.controller.create-volume.idempotent", SPEC + "CreateVolume",
                "the same CreateVolume repeated answers OK with the same volume", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE);
                    CreateVolumeRequest req = t.createVolumeRequest(t.uniqueName("csi-idem")).build();
                    Volume first = r.createVolume(req);
                    for (int i = 1; i <= CsiExpect.REPEATS; i++) {
                        Volume again = r.createVolume(req);
                        Expect.equal(first, again, "CreateVolume repeat " + i + " of " + req.getName());
                    }
                }));
        b.check("csi.controller.create-volume.concurrent", SPEC + "Concurrency",
                "8 concurrent identical CreateVolume calls answer OK (one volume) or ABORTED, never a second volume",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE);
                    boolean list = t.controllerCapabilities().contains(LIST);
                    Set<String> before = list ? new HashSet<>(CsiLists.allVolumes(t)) : Set.of();
                    CreateVolumeRequest req = t.createVolumeRequest(t.uniqueName("csi-conc")).build();
                    List<CreateVolumeResponse> oks = CsiExpect.concurrently("CreateVolume " + req.getName(),
                            () -> t.controller().createVolume(req));
                    oks.forEach(o -> r.trackVolume(o.getVolume().getVolumeId()));
                    Volume settled = CsiExpect.eventuallyOk("CreateVolume " + req.getName() + " after the burst",
                            () -> t.controller().createVolume(req)).getVolume();
                    r.trackVolume(settled.getVolumeId());
                    for (CreateVolumeResponse o : oks) {
                        that(o.getVolume().getVolumeId().equals(settled.getVolumeId()),
                                "concurrent CreateVolume %s answered OK with volume %s and %s: a duplicate volume",
                                req.getName(), o.getVolume().getVolumeId(), settled.getVolumeId());
                    }
                    if (list) {
                        Set<String> added = new LinkedHashSet<>(CsiLists.allVolumes(t));
                        added.removeAll(before);
                        that(added.equals(Set.of(settled.getVolumeId())), "after 8 concurrent CreateVolume %s, "
                                + "ListVolumes shows %d new volumes %s; expected only %s", req.getName(), added.size(),
                                added, settled.getVolumeId());
                    }
                }));
        b.check("csi.controller.create-volume.same-name-different-size", SPEC + "CreateVolume",
                "the same name with an incompatible capacity is ALREADY_EXISTS", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE);
                    long size = t.config().volumeSize();
                    String name = t.uniqueName("csi-twice");
                    r.createVolume(t.createVolumeRequest(name).setCapacityRange(range(size, size)).build());
                    CsiExpect.error(Status.Code.ALREADY_EXISTS, "CreateVolume " + name + " again with twice the size",
                            () -> created(r, t.controller().createVolume(t.createVolumeRequest(name)
                                    .setCapacityRange(range(2 * size, 2 * size)).build())));
                }));
        b.check("csi.controller.create-volume.same-name-different-source", SPEC + "CreateVolume",
                "the same name with another volume_content_source is ALREADY_EXISTS", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT);
                    Volume src = r.createVolume("csi-srcvol");
                    Snapshot snap = r.createSnapshot("csi-srcsnap", src.getVolumeId());
                    String name = t.uniqueName("csi-plain");
                    r.createVolume(t.createVolumeRequest(name).build());
                    CsiExpect.error(Status.Code.ALREADY_EXISTS, "CreateVolume " + name + " again from snapshot "
                            + snap.getSnapshotId(), () -> created(r, t.controller().createVolume(t.createVolumeRequest(name)
                                    .setVolumeContentSource(fromSnapshot(snap.getSnapshotId())).build())));
                }));
        b.check("csi.controller.create-volume.limit-below-required", SPEC + "CreateVolume",
                "limit_bytes below required_bytes is refused (OUT_OF_RANGE, or INVALID_ARGUMENT)", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE);
                    long size = t.config().volumeSize();
                    CsiExpect.errorIn(CsiExpect.codes(Status.Code.OUT_OF_RANGE, Status.Code.INVALID_ARGUMENT),
                            "CreateVolume with required_bytes=" + 2 * size + " > limit_bytes=" + size,
                            () -> created(r, t.controller().createVolume(t.createVolumeRequest(t.uniqueName("csi-range"))
                                    .setCapacityRange(range(2 * size, size)).build())));
                }));
        b.check("csi.controller.create-volume.capacity-bounds", SPEC + "GetCapacity",
                "a size beyond GetCapacity's maximum_volume_size (or below minimum_volume_size) is OUT_OF_RANGE",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, ControllerServiceCapability.RPC.Type.GET_CAPACITY);
                    GetCapacityResponse cap = ok("GetCapacity", () -> t.controller().getCapacity(capacityRequest(t)));
                    boolean checked = false;
                    if (cap.hasMaximumVolumeSize() && cap.getMaximumVolumeSize().getValue() < Long.MAX_VALUE) {
                        long over = cap.getMaximumVolumeSize().getValue() + 1;
                        CsiExpect.error(Status.Code.OUT_OF_RANGE, "CreateVolume with required_bytes=" + over
                                + " (maximum_volume_size + 1)", () -> created(r, t.controller().createVolume(t
                                        .createVolumeRequest(t.uniqueName("csi-toobig")).setCapacityRange(range(over, 0))
                                        .build())));
                        checked = true;
                    }
                    if (cap.hasMinimumVolumeSize() && cap.getMinimumVolumeSize().getValue() > 1) {
                        long under = cap.getMinimumVolumeSize().getValue() - 1;
                        CsiExpect.error(Status.Code.OUT_OF_RANGE, "CreateVolume with limit_bytes=" + under
                                + " (minimum_volume_size - 1)", () -> created(r, t.controller().createVolume(t
                                        .createVolumeRequest(t.uniqueName("csi-toosmall"))
                                        .setCapacityRange(range(0, under)).build())));
                        checked = true;
                    }
                    if (!checked) {
                        throw new CheckSkipped("GetCapacity reports neither maximum_volume_size nor minimum_volume_size");
                    }
                }));
        b.check("csi.controller.create-volume.topology", SPEC + "CreateVolume",
                "with the node's topology as requisite, the volume is accessible from this node", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE);
                    if (!t.hasService(PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS)) {
                        throw new CheckSkipped("plugin does not advertise VOLUME_ACCESSIBILITY_CONSTRAINTS");
                    }
                    Topology node = ok("NodeGetInfo", () -> t.node().nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()))
                            .getAccessibleTopology();
                    Volume v = r.createVolume("csi-topo");
                    if (v.getAccessibleTopologyCount() == 0) {
                        return; // OPTIONAL: "equally accessible from all nodes"
                    }
                    boolean here = v.getAccessibleTopologyList().stream().anyMatch(
                            vt -> node.getSegmentsMap().entrySet().containsAll(vt.getSegmentsMap().entrySet()));
                    that(here, "requisite was this node's topology %s, but the volume is accessible only from %s",
                            node.getSegmentsMap(), v.getAccessibleTopologyList().stream().map(Topology::getSegmentsMap)
                                    .toList());
                }));
    }

    static VolumeContentSource fromSnapshot(String snapshotId) {
        return VolumeContentSource.newBuilder().setSnapshot(VolumeContentSource.SnapshotSource.newBuilder()
                .setSnapshotId(snapshotId)).build();
    }

    static VolumeContentSource fromVolume(String volumeId) {
        return VolumeContentSource.newBuilder().setVolume(VolumeContentSource.VolumeSource.newBuilder()
                .setVolumeId(volumeId)).build();
    }

    // ---- DeleteVolume

    static DeleteVolumeRequest deleteRequest(CsiTarget t, String id) {
        return DeleteVolumeRequest.newBuilder().setVolumeId(id).putAllSecrets(t.secrets()).build();
    }

    private static void deleteVolume(Suite.Builder<CsiTarget> b) {
        b.add(missingArgument("csi.controller.delete-volume.missing-volume-id", "DeleteVolume", "volume_id",
                controller(CREATE_DELETE), (t, r) -> t.controller().deleteVolume(deleteRequest(t, ""))));
        b.check("csi.controller.delete-volume.unknown-id", SPEC + "DeleteVolume",
                "deleting an id that does not exist (deleted, or never issued) answers OK", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE);
                    String gone = r.goneVolumeId();
                    ok("DeleteVolume of deleted volume " + gone, () -> t.controller().deleteVolume(deleteRequest(t, gone)));
                    ok("DeleteVolume of never-issued id 'csi-conformance-no-such-volume' (csi-sanity sends such an id)",
                            () -> t.controller().deleteVolume(deleteRequest(t, "csi-conformance-no-such-volume")));
                }));
        b.check("csi.controller.delete-volume.idempotent", SPEC + "DeleteVolume",
                "DeleteVolume repeated and 8 times concurrently answers OK (or ABORTED); the volume is gone",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE);
                    Volume v = r.createVolume("csi-del");
                    for (int i = 0; i <= CsiExpect.REPEATS; i++) {
                        int n = i;
                        ok("DeleteVolume " + v.getVolumeId() + " call " + (n + 1),
                                () -> t.controller().deleteVolume(deleteRequest(t, v.getVolumeId())));
                    }
                    assertGone(t, v.getVolumeId());
                    Volume w = r.createVolume("csi-delc");
                    CsiExpect.concurrently("DeleteVolume " + w.getVolumeId(),
                            () -> t.controller().deleteVolume(deleteRequest(t, w.getVolumeId())));
                    CsiExpect.eventuallyOk("DeleteVolume " + w.getVolumeId() + " after the burst",
                            () -> t.controller().deleteVolume(deleteRequest(t, w.getVolumeId())));
                    assertGone(t, w.getVolumeId());
                }));
    }

    /** A deleted volume is NOT_FOUND for ValidateVolumeCapabilities and absent from ListVolumes. */
    static void assertGone(CsiTarget t, String id) {
        CsiExpect.error(Status.Code.NOT_FOUND, "ValidateVolumeCapabilities of deleted volume " + id,
                () -> t.controller().validateVolumeCapabilities(validateRequest(t, id).build()));
        if (t.controllerCapabilities().contains(LIST)) {
            that(!CsiLists.allVolumes(t).contains(id), "deleted volume %s is still in ListVolumes", id);
        }
    }

    // ---- ValidateVolumeCapabilities

    static ValidateVolumeCapabilitiesRequest.Builder validateRequest(CsiTarget t, String id) {
        return ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(id).addVolumeCapabilities(t.capability())
                .putAllParameters(t.config().params()).putAllSecrets(t.secrets());
    }

    private static void validate(Suite.Builder<CsiTarget> b) {
        b.add(missingArgument("csi.controller.validate-capabilities.missing-volume-id", "ValidateVolumeCapabilities",
                "volume_id", controller(), (t, r) -> t.controller().validateVolumeCapabilities(
                        validateRequest(t, "").build())));
        b.add(missingArgument("csi.controller.validate-capabilities.missing-capabilities", "ValidateVolumeCapabilities",
                "volume_capabilities", controller(), (t, r) -> t.controller().validateVolumeCapabilities(
                        validateRequest(t, someVolumeId(t, r)).clearVolumeCapabilities().build())));
        b.check("csi.controller.validate-capabilities", SPEC + "ValidateVolumeCapabilities",
                "the capability a volume was created with is confirmed", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE);
                    Volume v = r.createVolume("csi-validate");
                    ValidateVolumeCapabilitiesResponse resp = ok("ValidateVolumeCapabilities " + v.getVolumeId(),
                            () -> t.controller().validateVolumeCapabilities(validateRequest(t, v.getVolumeId())
                                    .putAllVolumeContext(v.getVolumeContextMap()).build()));
                    that(resp.hasConfirmed(), "the volume was created with %s, yet it is not confirmed (message: '%s')",
                            Expect.oneLine(t.capability()), resp.getMessage());
                    that(resp.getConfirmed().getVolumeCapabilitiesCount() > 0,
                            "confirmed is set but lists no volume_capabilities (the field is REQUIRED)");
                }));
        b.check("csi.controller.validate-capabilities.unknown-volume", SPEC + "ValidateVolumeCapabilities",
                "an unknown volume is NOT_FOUND", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE);
                    String gone = r.goneVolumeId();
                    CsiExpect.error(Status.Code.NOT_FOUND, "ValidateVolumeCapabilities of deleted volume " + gone,
                            () -> t.controller().validateVolumeCapabilities(validateRequest(t, gone).build()));
                }));
    }

    // ---- ListVolumes

    private static List<Volume> createMany(CsiTarget t, CsiResources r, String prefix, int n) {
        List<Volume> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(r.createVolume(prefix + i));
        }
        return out;
    }

    private static void listVolumes(Suite.Builder<CsiTarget> b) {
        b.check("csi.controller.list-volumes", SPEC + "ListVolumes",
                "a created volume is listed exactly once and a deleted one is not", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, LIST);
                    Volume v = r.createVolume("csi-list");
                    List<String> ids = CsiLists.allVolumes(t);
                    that(ids.stream().filter(v.getVolumeId()::equals).count() == 1,
                            "volume %s appears %d times in ListVolumes", v.getVolumeId(),
                            ids.stream().filter(v.getVolumeId()::equals).count());
                    ok("DeleteVolume " + v.getVolumeId(), () -> t.controller().deleteVolume(
                            deleteRequest(t, v.getVolumeId())));
                    that(!CsiLists.allVolumes(t).contains(v.getVolumeId()), "deleted volume %s is still listed",
                            v.getVolumeId());
                }));
        b.check("csi.controller.list-volumes.pagination", SPEC + "ListVolumes",
                "max_entries bounds each page, next_token walks every volume once, a token with max_entries=0 "
                        + "returns the rest at once", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, LIST);
                    Set<String> mine = new HashSet<>();
                    createMany(t, r, "csi-page", 5).forEach(v -> mine.add(v.getVolumeId()));
                    List<String> walked = CsiLists.walk(token -> CsiLists.volumePage(t, 2, token));
                    checkWalk(walked, mine, "ListVolumes walk with max_entries=2");
                    CsiLists.Page first = CsiLists.volumePage(t, 2, "");
                    that(!first.nextToken().isEmpty(), "ListVolumes(max_entries=2) with at least 5 volumes returned no "
                            + "next_token");
                    CsiLists.Page rest = CsiLists.volumePage(t, 0, first.nextToken());
                    Set<String> expected = new HashSet<>(mine);
                    first.ids().forEach(expected::remove);
                    that(rest.ids().containsAll(expected), "ListVolumes(starting_token=next_token, max_entries=0) "
                            + "did not return all remaining volumes: missing %s", missing(expected, rest.ids()));
                }));
        b.check("csi.controller.list-volumes.bad-token", SPEC + "ListVolumes",
                "an unknown starting_token is ABORTED", t -> {
                    t.requireController(LIST);
                    CsiExpect.error(Status.Code.ABORTED, "ListVolumes(starting_token='csi-conformance-invalid-token')",
                            () -> t.controller().listVolumes(ListVolumesRequest.newBuilder()
                                    .setStartingToken("csi-conformance-invalid-token").build()));
                });
        b.check("csi.controller.list-volumes.negative-max-entries", SPEC + "ListVolumes",
                "a negative max_entries is INVALID_ARGUMENT", t -> {
                    t.requireController(LIST);
                    CsiExpect.error(Status.Code.INVALID_ARGUMENT, "ListVolumes(max_entries=-1)",
                            () -> t.controller().listVolumes(ListVolumesRequest.newBuilder().setMaxEntries(-1).build()));
                });
        b.check("csi.controller.list-volumes.changes-between-pages", SPEC + "ListVolumes",
                "a volume created between pages, or the last volume of a page deleted, does not break the walk",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, LIST);
                    Set<String> mine = new HashSet<>();
                    createMany(t, r, "csi-chg", 5).forEach(v -> mine.add(v.getVolumeId()));
                    // 1: a volume created after the first page.
                    CsiLists.Page first = CsiLists.volumePage(t, 2, "");
                    Set<String> ours = new HashSet<>(mine);
                    ours.add(r.createVolume("csi-chg-new").getVolumeId());
                    List<String> walked = new ArrayList<>(first.ids());
                    if (!first.nextToken().isEmpty()) {
                        walked.addAll(CsiLists.walk(token -> CsiLists.volumePage(t, 2,
                                token.isEmpty() ? first.nextToken() : token)));
                    }
                    that(walked.containsAll(mine), "after a volume was created between pages, the walk missed "
                            + "untouched volumes %s", missing(mine, walked));
                    // 2: the last volume of a page deleted before the next page is asked for.
                    CsiLists.Page page = CsiLists.volumePage(t, 2, "");
                    for (int n = 0; n < CsiLists.MAX_PAGES && !page.nextToken().isEmpty() && !endsWithOneOf(page, ours);
                            n++) {
                        page = CsiLists.volumePage(t, 2, page.nextToken());
                    }
                    if (page.nextToken().isEmpty() || !endsWithOneOf(page, ours)) {
                        throw new CheckSkipped("no page of ListVolumes ends with a volume of this check, so none can "
                                + "be deleted between pages");
                    }
                    String last = page.ids().get(page.ids().size() - 1);
                    String token = page.nextToken();
                    ok("DeleteVolume " + last, () -> t.controller().deleteVolume(deleteRequest(t, last)));
                    CsiLists.walk(next -> CsiLists.volumePage(t, 2, next.isEmpty() ? token : next));
                }));
    }

    private static boolean endsWithOneOf(CsiLists.Page page, Set<String> ids) {
        return !page.ids().isEmpty() && ids.contains(page.ids().get(page.ids().size() - 1));
    }

    private static void checkWalk(List<String> walked, Set<String> mine, String what) {
        that(walked.containsAll(mine), "%s missed volumes %s", what, missing(mine, walked));
        Set<String> seen = new HashSet<>();
        for (String id : walked) {
            that(seen.add(id), "%s returned %s twice", what, id);
        }
    }

    static Set<String> missing(Set<String> expected, List<String> got) {
        Set<String> m = new LinkedHashSet<>(expected);
        got.forEach(m::remove);
        return m;
    }

    // ---- ControllerGetVolume

    private static void getVolume(Suite.Builder<CsiTarget> b) {
        b.add(missingArgument("csi.controller.get-volume.missing-volume-id", "ControllerGetVolume", "volume_id",
                controller(GET_VOLUME), (t, r) -> t.controller().controllerGetVolume(
                        ControllerGetVolumeRequest.getDefaultInstance())));
        b.check("csi.controller.get-volume", SPEC + "ControllerGetVolume",
                "ControllerGetVolume returns the volume; with VOLUME_CONDITION a healthy volume is reported normal",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, GET_VOLUME);
                    Volume v = r.createVolume("csi-get");
                    ControllerGetVolumeResponse g = ok("ControllerGetVolume " + v.getVolumeId(), () -> t.controller()
                            .controllerGetVolume(ControllerGetVolumeRequest.newBuilder().setVolumeId(v.getVolumeId())
                                    .build()));
                    Expect.equal(v.getVolumeId(), g.getVolume().getVolumeId(), "ControllerGetVolume volume_id");
                    Expect.equal(v.getCapacityBytes(), g.getVolume().getCapacityBytes(),
                            "ControllerGetVolume capacity_bytes");
                    if (t.controllerCapabilities().contains(ControllerServiceCapability.RPC.Type.VOLUME_CONDITION)) {
                        that(g.hasStatus() && g.getStatus().hasVolumeCondition(), "VOLUME_CONDITION is advertised "
                                + "but ControllerGetVolume has no status.volume_condition");
                        that(!g.getStatus().getVolumeCondition().getAbnormal(), "a new volume is reported abnormal: %s",
                                g.getStatus().getVolumeCondition().getMessage());
                        that(!g.getStatus().getVolumeCondition().getMessage().isEmpty(),
                                "volume_condition.message is empty (it is REQUIRED)");
                    }
                }));
        b.check("csi.controller.get-volume.unknown-volume", SPEC + "ControllerGetVolume",
                "an unknown volume is NOT_FOUND", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, GET_VOLUME);
                    String gone = r.goneVolumeId();
                    CsiExpect.error(Status.Code.NOT_FOUND, "ControllerGetVolume of deleted volume " + gone,
                            () -> t.controller().controllerGetVolume(ControllerGetVolumeRequest.newBuilder()
                                    .setVolumeId(gone).build()));
                }));
    }

    // ---- ControllerPublish / Unpublish

    static ControllerPublishVolumeRequest.Builder publishRequest(CsiTarget t, String volumeId, String nodeId) {
        return ControllerPublishVolumeRequest.newBuilder().setVolumeId(volumeId).setNodeId(nodeId)
                .setVolumeCapability(t.capability()).putAllSecrets(t.secrets());
    }

    static ControllerUnpublishVolumeRequest unpublishRequest(CsiTarget t, String volumeId, String nodeId) {
        return ControllerUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId).setNodeId(nodeId)
                .putAllSecrets(t.secrets()).build();
    }

    private static void controllerPublish(Suite.Builder<CsiTarget> b) {
        b.add(missingArgument("csi.controller.publish.missing-volume-id", "ControllerPublishVolume", "volume_id",
                controller(PUBLISH), (t, r) -> t.controller().controllerPublishVolume(
                        publishRequest(t, "", r.nodeId()).build())));
        b.add(missingArgument("csi.controller.publish.missing-node-id", "ControllerPublishVolume", "node_id",
                controller(PUBLISH), (t, r) -> t.controller().controllerPublishVolume(
                        publishRequest(t, someVolumeId(t, r), "").build())));
        b.add(missingArgument("csi.controller.publish.missing-capability", "ControllerPublishVolume",
                "volume_capability", controller(PUBLISH), (t, r) -> {
                    String id = someVolumeId(t, r);
                    r.trackControllerPublish(id, r.nodeId());
                    return t.controller().controllerPublishVolume(publishRequest(t, id, r.nodeId())
                            .clearVolumeCapability().build());
                }));
        b.add(missingArgument("csi.controller.unpublish.missing-volume-id", "ControllerUnpublishVolume", "volume_id",
                controller(PUBLISH), (t, r) -> t.controller().controllerUnpublishVolume(
                        unpublishRequest(t, "", r.nodeId()))));
        b.check("csi.controller.publish.unknown-volume", SPEC + "ControllerPublishVolume",
                "publishing an unknown volume is NOT_FOUND", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, PUBLISH);
                    String gone = r.goneVolumeId();
                    CsiExpect.error(Status.Code.NOT_FOUND, "ControllerPublishVolume of deleted volume " + gone,
                            () -> t.controller().controllerPublishVolume(publishRequest(t, gone, r.nodeId()).build()));
                }));
        b.check("csi.controller.publish.unknown-node", SPEC + "ControllerPublishVolume",
                "publishing to an unknown node is NOT_FOUND", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, PUBLISH);
                    Volume v = r.createVolume("csi-cpub-node");
                    r.trackControllerPublish(v.getVolumeId(), NO_SUCH_NODE);
                    CsiExpect.error(Status.Code.NOT_FOUND, "ControllerPublishVolume to node '" + NO_SUCH_NODE + "'",
                            () -> t.controller().controllerPublishVolume(publishRequest(t, v.getVolumeId(), NO_SUCH_NODE)
                                    .build()));
                }));
        b.check("csi.controller.publish.idempotent", SPEC + "ControllerPublishVolume",
                "ControllerPublish repeated and concurrent answers OK (or ABORTED) with the same publish_context; "
                        + "ControllerUnpublish repeated answers OK", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, PUBLISH);
                    Volume v = r.createVolume("csi-cpub");
                    String node = r.nodeId();
                    r.trackControllerPublish(v.getVolumeId(), node);
                    ControllerPublishVolumeRequest req = publishRequest(t, v.getVolumeId(), node)
                            .putAllVolumeContext(v.getVolumeContextMap()).build();
                    Map<String, String> first = ok("ControllerPublishVolume", () -> t.controller()
                            .controllerPublishVolume(req)).getPublishContextMap();
                    for (int i = 1; i <= CsiExpect.REPEATS; i++) {
                        Expect.equal(first, ok("ControllerPublishVolume repeat " + i, () -> t.controller()
                                .controllerPublishVolume(req)).getPublishContextMap(), "publish_context of repeat " + i);
                    }
                    for (ControllerPublishVolumeResponse o : CsiExpect.concurrently("ControllerPublishVolume",
                            () -> t.controller().controllerPublishVolume(req))) {
                        Expect.equal(first, o.getPublishContextMap(), "publish_context of a concurrent repeat");
                    }
                    for (int i = 0; i <= CsiExpect.REPEATS; i++) {
                        ok("ControllerUnpublishVolume call " + (i + 1), () -> t.controller()
                                .controllerUnpublishVolume(unpublishRequest(t, v.getVolumeId(), node)));
                    }
                }));
        b.check("csi.controller.publish.incompatible", SPEC + "ControllerPublishVolume",
                "publishing again to the same node with another readonly flag is ALREADY_EXISTS", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, PUBLISH, ControllerServiceCapability.RPC.Type.PUBLISH_READONLY);
                    Volume v = r.createVolume("csi-cpub-ro");
                    String node = r.nodeId();
                    r.trackControllerPublish(v.getVolumeId(), node);
                    ok("ControllerPublishVolume readonly=false", () -> t.controller().controllerPublishVolume(
                            publishRequest(t, v.getVolumeId(), node).setReadonly(false).build()));
                    CsiExpect.error(Status.Code.ALREADY_EXISTS, "ControllerPublishVolume again with readonly=true",
                            () -> t.controller().controllerPublishVolume(publishRequest(t, v.getVolumeId(), node)
                                    .setReadonly(true).build()));
                }));
        b.check("csi.controller.unpublish.not-published", SPEC + "ControllerUnpublishVolume",
                "unpublishing a volume that is not published answers OK", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, PUBLISH);
                    Volume v = r.createVolume("csi-cunpub");
                    ok("ControllerUnpublishVolume of a volume never published", () -> t.controller()
                            .controllerUnpublishVolume(unpublishRequest(t, v.getVolumeId(), r.nodeId())));
                }));
    }

    // ---- ControllerModifyVolume

    static ControllerModifyVolumeRequest.Builder modifyRequest(CsiTarget t, String volumeId) {
        return ControllerModifyVolumeRequest.newBuilder().setVolumeId(volumeId)
                .putMutableParameters("csi.conformance.nodekit.dev/unsupported", "x").putAllSecrets(t.secrets());
    }

    private static void modify(Suite.Builder<CsiTarget> b) {
        b.add(missingArgument("csi.controller.modify-volume.missing-volume-id", "ControllerModifyVolume", "volume_id",
                controller(MODIFY), (t, r) -> t.controller().controllerModifyVolume(modifyRequest(t, "").build())));
        b.add(missingArgument("csi.controller.modify-volume.missing-parameters", "ControllerModifyVolume",
                "mutable_parameters", controller(MODIFY), (t, r) -> t.controller().controllerModifyVolume(
                        modifyRequest(t, someVolumeId(t, r)).clearMutableParameters().build())));
        b.check("csi.controller.modify-volume.unknown-volume", SPEC + "ControllerModifyVolume",
                "modifying an unknown volume is NOT_FOUND (or INVALID_ARGUMENT for the probe parameter, which the "
                        + "spec lets a plugin check first)", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, MODIFY);
                    String gone = r.goneVolumeId();
                    CsiExpect.errorIn(CsiExpect.codes(Status.Code.NOT_FOUND, Status.Code.INVALID_ARGUMENT),
                            "ControllerModifyVolume of deleted volume " + gone,
                            () -> t.controller().controllerModifyVolume(modifyRequest(t, gone).build()));
                }));
        b.check("csi.controller.modify-volume.unsupported-parameter", SPEC + "ControllerModifyVolume",
                "an unknown mutable parameter is INVALID_ARGUMENT", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, MODIFY);
                    Volume v = r.createVolume("csi-modify");
                    CsiExpect.error(Status.Code.INVALID_ARGUMENT, "ControllerModifyVolume with mutable parameter "
                            + "'csi.conformance.nodekit.dev/unsupported'", () -> t.controller().controllerModifyVolume(
                                    modifyRequest(t, v.getVolumeId()).build()));
                }));
    }
}
