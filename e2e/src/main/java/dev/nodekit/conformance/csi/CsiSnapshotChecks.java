package dev.nodekit.conformance.csi;

import static dev.nodekit.conformance.Expect.ok;
import static dev.nodekit.conformance.Expect.that;
import static dev.nodekit.conformance.csi.CsiChecks.ROOT;
import static dev.nodekit.conformance.csi.CsiChecks.SPEC;
import static dev.nodekit.conformance.csi.CsiChecks.controller;
import static dev.nodekit.conformance.csi.CsiChecks.missingArgument;
import static dev.nodekit.conformance.csi.CsiChecks.scoped;
import static dev.nodekit.conformance.csi.CsiChecks.someVolumeId;
import static dev.nodekit.conformance.csi.CsiControllerChecks.created;
import static dev.nodekit.conformance.csi.CsiControllerChecks.fromSnapshot;
import static dev.nodekit.conformance.csi.CsiControllerChecks.fromVolume;
import static dev.nodekit.conformance.csi.CsiControllerChecks.range;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import dev.nodekit.conformance.CheckFailed;
import dev.nodekit.conformance.CheckSkipped;
import dev.nodekit.conformance.Expect;
import dev.nodekit.conformance.Suite;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.CreateSnapshotRequest;
import dev.nodekit.spec.csi.v1.CreateSnapshotResponse;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.CreateVolumeResponse;
import dev.nodekit.spec.csi.v1.DeleteSnapshotRequest;
import dev.nodekit.spec.csi.v1.GetSnapshotRequest;
import dev.nodekit.spec.csi.v1.GetSnapshotResponse;
import dev.nodekit.spec.csi.v1.ListSnapshotsRequest;
import dev.nodekit.spec.csi.v1.ListSnapshotsResponse;
import dev.nodekit.spec.csi.v1.Snapshot;
import dev.nodekit.spec.csi.v1.Volume;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import dev.nodekit.spec.csi.v1.VolumeContentSource;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The CSI snapshot suite: CreateSnapshot / DeleteSnapshot / ListSnapshots / GetSnapshot, volumes
 * restored from snapshots and cloned from volumes, and, with real mounts, the proof that the data
 * written before the snapshot (or clone) is in the new volume and the data written after is not.
 * Covers csi-sanity's ListSnapshots, CreateSnapshot and DeleteSnapshot groups and its
 * volume-from-snapshot / volume-from-volume specs.
 */
public final class CsiSnapshotChecks {
    private static final ControllerServiceCapability.RPC.Type CREATE_DELETE =
            ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME;
    private static final ControllerServiceCapability.RPC.Type SNAPSHOT =
            ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT;
    private static final ControllerServiceCapability.RPC.Type LIST = ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS;
    private static final ControllerServiceCapability.RPC.Type GET = ControllerServiceCapability.RPC.Type.GET_SNAPSHOT;
    private static final ControllerServiceCapability.RPC.Type CLONE = ControllerServiceCapability.RPC.Type.CLONE_VOLUME;

    private CsiSnapshotChecks() {
    }

    /** The snapshot, restore and clone suite. */
    public static Suite<CsiTarget> suite() {
        Suite.Builder<CsiTarget> b = Suite.builder("csi");
        create(b);
        delete(b);
        list(b);
        get(b);
        restore(b);
        clone(b);
        return b.build();
    }

    static DeleteSnapshotRequest deleteRequest(CsiTarget t, String id) {
        return DeleteSnapshotRequest.newBuilder().setSnapshotId(id).putAllSecrets(t.secrets()).build();
    }

    /** Registers the snapshot a call that should have failed created anyway. */
    private static CreateSnapshotResponse createdSnapshot(CsiResources r, CreateSnapshotResponse resp) {
        r.trackSnapshot(resp.getSnapshot().getSnapshotId());
        return resp;
    }

    // ---- CreateSnapshot

    private static void create(Suite.Builder<CsiTarget> b) {
        b.add(missingArgument("csi.snapshot.create.missing-name", "CreateSnapshot", "name", controller(SNAPSHOT),
                (t, r) -> createdSnapshot(r, t.controller().createSnapshot(CreateSnapshotRequest.newBuilder()
                        .setSourceVolumeId(someVolumeId(t, r)).putAllSecrets(t.secrets()).build()))));
        b.add(missingArgument("csi.snapshot.create.missing-source-volume-id", "CreateSnapshot", "source_volume_id",
                controller(SNAPSHOT), (t, r) -> createdSnapshot(r, t.controller().createSnapshot(
                        CreateSnapshotRequest.newBuilder().setName(t.uniqueName("csi-nosrc")).putAllSecrets(t.secrets())
                                .build()))));
        b.check("csi.snapshot.create", SPEC + "CreateSnapshot",
                "a snapshot becomes ready_to_use and reports its id, source volume, creation time and size",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    Instant start = Instant.now();
                    Volume v = r.createVolume("csi-snapsrc");
                    Snapshot s = r.createSnapshot("csi-snap", v.getVolumeId());
                    checkSnapshot(s, v.getVolumeId(), start, "CreateSnapshot");
                    that(s.getSizeBytes() == 0 || v.getCapacityBytes() == 0 || s.getSizeBytes() <= v.getCapacityBytes(),
                            "the snapshot reports size_bytes %d, more than its %d-byte source: a restore at the "
                                    + "source's size (Kubernetes' restoreSize) would be refused", s.getSizeBytes(),
                            v.getCapacityBytes());
                }));
        b.check("csi.snapshot.create.max-length-name", SPEC + "Size Limits",
                "a 128-byte snapshot name is accepted", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    Volume v = r.createVolume("csi-snapmax");
                    CreateSnapshotRequest req = CreateSnapshotRequest.newBuilder().setName(t.uniqueNameOfLength(
                            "csi-snapmaxlen", 128)).setSourceVolumeId(v.getVolumeId()).putAllSecrets(t.secrets()).build();
                    Snapshot s = r.createSnapshot(req);
                    Expect.equal(s.getSnapshotId(), r.createSnapshot(req).getSnapshotId(),
                            "snapshot_id of the repeated 128-byte name");
                }));
        b.check("csi.snapshot.create.idempotent", SPEC + "CreateSnapshot",
                "the same CreateSnapshot repeated answers OK with the same snapshot", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    Volume v = r.createVolume("csi-snapidem");
                    CreateSnapshotRequest req = r.snapshotRequest("csi-snapidem", v.getVolumeId());
                    Snapshot first = r.createSnapshot(req);
                    for (int i = 1; i <= CsiExpect.REPEATS; i++) {
                        Snapshot again = r.createSnapshot(req);
                        Expect.equal(first.getSnapshotId(), again.getSnapshotId(), "snapshot_id of repeat " + i);
                        Expect.equal(first.getCreationTime(), again.getCreationTime(),
                                "creation_time of repeat " + i + " (the snapshot is cut once)");
                        Expect.equal(first.getSourceVolumeId(), again.getSourceVolumeId(), "source_volume_id of repeat " + i);
                    }
                }));
        b.check("csi.snapshot.create.concurrent", SPEC + "Concurrency",
                "8 concurrent identical CreateSnapshot calls answer OK (one snapshot) or ABORTED", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    Volume v = r.createVolume("csi-snapconc");
                    CreateSnapshotRequest req = r.snapshotRequest("csi-snapconc", v.getVolumeId());
                    List<CreateSnapshotResponse> oks = CsiExpect.concurrently("CreateSnapshot " + req.getName(),
                            () -> t.controller().createSnapshot(req));
                    oks.forEach(o -> r.trackSnapshot(o.getSnapshot().getSnapshotId()));
                    String settled = CsiExpect.eventuallyOk("CreateSnapshot " + req.getName() + " after the burst",
                            () -> t.controller().createSnapshot(req)).getSnapshot().getSnapshotId();
                    r.trackSnapshot(settled);
                    for (CreateSnapshotResponse o : oks) {
                        that(o.getSnapshot().getSnapshotId().equals(settled), "concurrent CreateSnapshot %s answered "
                                + "OK with snapshots %s and %s: a duplicate", req.getName(),
                                o.getSnapshot().getSnapshotId(), settled);
                    }
                    if (t.controllerCapabilities().contains(LIST)) {
                        List<String> of = CsiLists.walk(token -> CsiLists.snapshotPage(t, ListSnapshotsRequest
                                .newBuilder().setSourceVolumeId(v.getVolumeId()).setStartingToken(token)));
                        that(of.equals(List.of(settled)), "after 8 concurrent CreateSnapshot %s, ListSnapshots of the "
                                + "source volume shows %s; expected only %s", req.getName(), of, settled);
                    }
                }));
        b.check("csi.snapshot.create.same-name-different-source", SPEC + "CreateSnapshot",
                "the same snapshot name for another source volume is ALREADY_EXISTS", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    Volume a = r.createVolume("csi-snapsrc-a");
                    Volume c = r.createVolume("csi-snapsrc-b");
                    CreateSnapshotRequest req = r.snapshotRequest("csi-snapname", a.getVolumeId());
                    r.createSnapshot(req);
                    CsiExpect.error(Status.Code.ALREADY_EXISTS, "CreateSnapshot " + req.getName() + " of another volume",
                            () -> createdSnapshot(r, t.controller().createSnapshot(req.toBuilder()
                                    .setSourceVolumeId(c.getVolumeId()).build())));
                }));
        b.check("csi.snapshot.create.unknown-source", SPEC + "CreateSnapshot",
                "a snapshot of an unknown volume is NOT_FOUND", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    String gone = r.goneVolumeId();
                    CsiExpect.error(Status.Code.NOT_FOUND, "CreateSnapshot of deleted volume " + gone,
                            () -> createdSnapshot(r, t.controller().createSnapshot(r.snapshotRequest("csi-snapgone", gone))));
                }));
    }

    static void checkSnapshot(Snapshot s, String sourceVolumeId, Instant notBefore, String what) {
        int idBytes = s.getSnapshotId().getBytes(StandardCharsets.UTF_8).length;
        that(idBytes <= 128, "%s: snapshot_id is %d bytes; CSI limits it to 128", what, idBytes);
        Expect.equal(sourceVolumeId, s.getSourceVolumeId(), what + ": source_volume_id");
        that(s.hasCreationTime() && (s.getCreationTime().getSeconds() != 0 || s.getCreationTime().getNanos() != 0),
                "%s: creation_time is not set (it is REQUIRED)", what);
        Instant created = Instant.ofEpochSecond(s.getCreationTime().getSeconds(), s.getCreationTime().getNanos());
        that(!created.isBefore(notBefore.minusSeconds(86_400)) && !created.isAfter(Instant.now().plusSeconds(86_400)),
                "%s: creation_time %s is more than a day away from the time of the check", what, created);
        that(s.getSizeBytes() >= 0, "%s: size_bytes %d is negative", what, s.getSizeBytes());
        that(s.getReadyToUse(), "%s: snapshot is not ready_to_use", what);
    }

    // ---- DeleteSnapshot

    private static void delete(Suite.Builder<CsiTarget> b) {
        b.add(missingArgument("csi.snapshot.delete.missing-snapshot-id", "DeleteSnapshot", "snapshot_id",
                controller(SNAPSHOT), (t, r) -> t.controller().deleteSnapshot(deleteRequest(t, ""))));
        b.check("csi.snapshot.delete.unknown-id", SPEC + "DeleteSnapshot",
                "deleting a snapshot id that does not exist answers OK", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    String gone = r.goneSnapshotId();
                    ok("DeleteSnapshot of deleted snapshot " + gone, () -> t.controller().deleteSnapshot(
                            deleteRequest(t, gone)));
                    ok("DeleteSnapshot of never-issued id 'csi-conformance-no-such-snapshot'", () -> t.controller()
                            .deleteSnapshot(deleteRequest(t, "csi-conformance-no-such-snapshot")));
                }));
        b.check("csi.snapshot.delete.idempotent", SPEC + "DeleteSnapshot",
                "DeleteSnapshot repeated and 8 times concurrently answers OK (or ABORTED); the snapshot is gone",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    Volume v = r.createVolume("csi-snapdel");
                    Snapshot s = r.createSnapshot("csi-snapdel", v.getVolumeId());
                    for (int i = 0; i <= CsiExpect.REPEATS; i++) {
                        ok("DeleteSnapshot " + s.getSnapshotId() + " call " + (i + 1),
                                () -> t.controller().deleteSnapshot(deleteRequest(t, s.getSnapshotId())));
                    }
                    assertGone(t, r, s.getSnapshotId());
                    Snapshot c = r.createSnapshot("csi-snapdelc", v.getVolumeId());
                    CsiExpect.concurrently("DeleteSnapshot " + c.getSnapshotId(),
                            () -> t.controller().deleteSnapshot(deleteRequest(t, c.getSnapshotId())));
                    CsiExpect.eventuallyOk("DeleteSnapshot " + c.getSnapshotId() + " after the burst",
                            () -> t.controller().deleteSnapshot(deleteRequest(t, c.getSnapshotId())));
                    assertGone(t, r, c.getSnapshotId());
                }));
    }

    /** A deleted snapshot is absent from ListSnapshots, NOT_FOUND for GetSnapshot and as a restore source. */
    static void assertGone(CsiTarget t, CsiResources r, String id) {
        List<ControllerServiceCapability.RPC.Type> caps = t.controllerCapabilities();
        if (caps.contains(LIST)) {
            List<String> ids = CsiLists.walk(token -> CsiLists.snapshotPage(t, ListSnapshotsRequest.newBuilder()
                    .setSnapshotId(id).setStartingToken(token)));
            that(ids.isEmpty(), "deleted snapshot %s is still listed by ListSnapshots(snapshot_id)", id);
        }
        if (caps.contains(GET)) {
            CsiExpect.error(Status.Code.NOT_FOUND, "GetSnapshot of deleted snapshot " + id, () -> t.controller()
                    .getSnapshot(GetSnapshotRequest.newBuilder().setSnapshotId(id).putAllSecrets(t.secrets()).build()));
        }
        CsiExpect.error(Status.Code.NOT_FOUND, "CreateVolume from deleted snapshot " + id, () -> CsiControllerChecks
                .created(r, t.controller().createVolume(t.createVolumeRequest(t.uniqueName("csi-fromgone"))
                        .setVolumeContentSource(fromSnapshot(id)).build())));
    }

    // ---- ListSnapshots

    private static List<String> snapshotIds(CsiTarget t, ListSnapshotsRequest.Builder filter) {
        return CsiLists.walk(token -> CsiLists.snapshotPage(t, filter.clone().setStartingToken(token)));
    }

    private static void list(Suite.Builder<CsiTarget> b) {
        b.check("csi.snapshot.list", SPEC + "ListSnapshots",
                "every entry is a complete snapshot; a new snapshot is listed once, a deleted one is not",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT, LIST);
                    Instant start = Instant.now();
                    Volume v = r.createVolume("csi-snaplist");
                    Snapshot s = r.createSnapshot("csi-snaplist", v.getVolumeId());
                    ListSnapshotsResponse all = ok("ListSnapshots()", () -> t.controller().listSnapshots(
                            ListSnapshotsRequest.newBuilder().putAllSecrets(t.secrets()).build()));
                    for (ListSnapshotsResponse.Entry e : all.getEntriesList()) {
                        that(!e.getSnapshot().getSnapshotId().isEmpty(), "a ListSnapshots entry has no snapshot_id");
                        that(!e.getSnapshot().getSourceVolumeId().isEmpty(), "ListSnapshots entry %s has no "
                                + "source_volume_id", e.getSnapshot().getSnapshotId());
                        that(e.getSnapshot().hasCreationTime(), "ListSnapshots entry %s has no creation_time",
                                e.getSnapshot().getSnapshotId());
                    }
                    List<String> ids = snapshotIds(t, ListSnapshotsRequest.newBuilder());
                    long n = ids.stream().filter(s.getSnapshotId()::equals).count();
                    that(n == 1, "snapshot %s appears %d times in ListSnapshots", s.getSnapshotId(), n);
                    ok("DeleteSnapshot " + s.getSnapshotId(), () -> t.controller().deleteSnapshot(
                            deleteRequest(t, s.getSnapshotId())));
                    that(!snapshotIds(t, ListSnapshotsRequest.newBuilder()).contains(s.getSnapshotId()),
                            "deleted snapshot %s is still listed", s.getSnapshotId());
                    checkSnapshot(s, v.getVolumeId(), start, "CreateSnapshot");
                }));
        b.check("csi.snapshot.list.filter-snapshot-id", SPEC + "ListSnapshots",
                "filtering by snapshot_id returns exactly that snapshot", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT, LIST);
                    List<Snapshot> three = threeSnapshots(r);
                    Snapshot target = three.get(1);
                    ListSnapshotsResponse resp = ok("ListSnapshots(snapshot_id)", () -> t.controller().listSnapshots(
                            ListSnapshotsRequest.newBuilder().setSnapshotId(target.getSnapshotId())
                                    .putAllSecrets(t.secrets()).build()));
                    that(resp.getEntriesCount() == 1, "ListSnapshots(snapshot_id=%s) returned %d entries",
                            target.getSnapshotId(), resp.getEntriesCount());
                    Snapshot got = resp.getEntries(0).getSnapshot();
                    Expect.equal(target.getSnapshotId(), got.getSnapshotId(), "ListSnapshots(snapshot_id) entry id");
                    Expect.equal(target.getSourceVolumeId(), got.getSourceVolumeId(),
                            "ListSnapshots(snapshot_id) entry source_volume_id");
                }));
        b.check("csi.snapshot.list.filter-source-volume", SPEC + "ListSnapshots",
                "filtering by source_volume_id returns exactly the snapshots of that volume", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT, LIST);
                    List<Snapshot> three = threeSnapshots(r);
                    Snapshot target = three.get(1);
                    ListSnapshotsResponse resp = ok("ListSnapshots(source_volume_id)", () -> t.controller()
                            .listSnapshots(ListSnapshotsRequest.newBuilder().setSourceVolumeId(target.getSourceVolumeId())
                                    .putAllSecrets(t.secrets()).build()));
                    that(resp.getEntriesCount() == 1, "ListSnapshots(source_volume_id=%s) returned %d entries; the "
                            + "volume has one snapshot", target.getSourceVolumeId(), resp.getEntriesCount());
                    Expect.equal(target.getSnapshotId(), resp.getEntries(0).getSnapshot().getSnapshotId(),
                            "ListSnapshots(source_volume_id) entry id");
                }));
        b.check("csi.snapshot.list.unknown-filters", SPEC + "ListSnapshots",
                "filters that match nothing (unknown snapshot or source volume) answer OK with no entries",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT, LIST);
                    String goneSnap = r.goneSnapshotId();
                    String goneVol = r.goneVolumeId();
                    for (ListSnapshotsRequest.Builder q : List.of(
                            ListSnapshotsRequest.newBuilder().setSnapshotId(goneSnap),
                            ListSnapshotsRequest.newBuilder().setSnapshotId("csi-conformance-none-exist-id"),
                            ListSnapshotsRequest.newBuilder().setSourceVolumeId(goneVol))) {
                        ListSnapshotsRequest req = q.putAllSecrets(t.secrets()).build();
                        ListSnapshotsResponse resp = ok("ListSnapshots(" + Expect.oneLine(req) + ")",
                                () -> t.controller().listSnapshots(req));
                        that(resp.getEntriesCount() == 0, "ListSnapshots(snapshot_id='%s', source_volume_id='%s') "
                                + "returned %d entries for an unknown id", req.getSnapshotId(), req.getSourceVolumeId(),
                                resp.getEntriesCount());
                    }
                }));
        b.check("csi.snapshot.list.pagination", SPEC + "ListSnapshots",
                "max_entries bounds each page, next_token walks every snapshot once, a token with max_entries=0 "
                        + "returns the rest at once", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT, LIST);
                    Volume v = r.createVolume("csi-snappage");
                    Set<String> mine = new HashSet<>();
                    for (int i = 0; i < 5; i++) {
                        mine.add(r.createSnapshot("csi-snappage" + i, v.getVolumeId()).getSnapshotId());
                    }
                    List<String> walked = CsiLists.walk(token -> CsiLists.snapshotPage(t, ListSnapshotsRequest
                            .newBuilder().setMaxEntries(2).setStartingToken(token)));
                    that(walked.containsAll(mine), "ListSnapshots walk with max_entries=2 missed %s",
                            CsiControllerChecks.missing(mine, walked));
                    Set<String> seen = new HashSet<>();
                    for (String id : walked) {
                        that(seen.add(id), "ListSnapshots walk with max_entries=2 returned %s twice", id);
                    }
                    CsiLists.Page first = CsiLists.snapshotPage(t, ListSnapshotsRequest.newBuilder().setMaxEntries(2));
                    that(first.ids().size() == 2 && !first.nextToken().isEmpty(), "ListSnapshots(max_entries=2) with "
                            + "at least 5 snapshots returned %d entries and next_token '%s'", first.ids().size(),
                            first.nextToken());
                    CsiLists.Page rest = CsiLists.snapshotPage(t, ListSnapshotsRequest.newBuilder()
                            .setStartingToken(first.nextToken()));
                    Set<String> expected = new HashSet<>(mine);
                    first.ids().forEach(expected::remove);
                    that(rest.ids().containsAll(expected), "ListSnapshots(starting_token=next_token) did not return "
                            + "all remaining snapshots: missing %s", CsiControllerChecks.missing(expected, rest.ids()));
                }));
        b.check("csi.snapshot.list.bad-token", SPEC + "ListSnapshots", "an unknown starting_token is ABORTED", t -> {
            t.requireController(LIST);
            CsiExpect.error(Status.Code.ABORTED, "ListSnapshots(starting_token='csi-conformance-invalid-token')",
                    () -> t.controller().listSnapshots(ListSnapshotsRequest.newBuilder()
                            .setStartingToken("csi-conformance-invalid-token").putAllSecrets(t.secrets()).build()));
        });
        b.check("csi.snapshot.list.negative-max-entries", SPEC + "ListSnapshots",
                "a negative max_entries is INVALID_ARGUMENT", t -> {
                    t.requireController(LIST);
                    CsiExpect.error(Status.Code.INVALID_ARGUMENT, "ListSnapshots(max_entries=-1)",
                            () -> t.controller().listSnapshots(ListSnapshotsRequest.newBuilder().setMaxEntries(-1)
                                    .putAllSecrets(t.secrets()).build()));
                });
    }

    /** Three volumes with one snapshot each (csi-sanity's "target and two unrelated" layout). */
    private static List<Snapshot> threeSnapshots(CsiResources r) throws InterruptedException {
        List<Snapshot> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Volume v = r.createVolume("csi-snapfilter" + i);
            out.add(r.createSnapshot("csi-snapfilter" + i, v.getVolumeId()));
        }
        return out;
    }

    // ---- GetSnapshot

    private static void get(Suite.Builder<CsiTarget> b) {
        b.add(missingArgument("csi.snapshot.get.missing-snapshot-id", "GetSnapshot", "snapshot_id", controller(GET),
                (t, r) -> t.controller().getSnapshot(GetSnapshotRequest.newBuilder().putAllSecrets(t.secrets()).build())));
        b.check("csi.snapshot.get", SPEC + "GetSnapshot", "GetSnapshot returns the snapshot as CreateSnapshot did",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT, GET);
                    Instant start = Instant.now();
                    Volume v = r.createVolume("csi-snapget");
                    Snapshot s = r.createSnapshot("csi-snapget", v.getVolumeId());
                    GetSnapshotResponse g = ok("GetSnapshot " + s.getSnapshotId(), () -> t.controller().getSnapshot(
                            GetSnapshotRequest.newBuilder().setSnapshotId(s.getSnapshotId()).putAllSecrets(t.secrets())
                                    .build()));
                    Expect.equal(s.getSnapshotId(), g.getSnapshot().getSnapshotId(), "GetSnapshot snapshot_id");
                    checkSnapshot(g.getSnapshot(), v.getVolumeId(), start, "GetSnapshot");
                    Expect.equal(s.getCreationTime(), g.getSnapshot().getCreationTime(), "GetSnapshot creation_time");
                }));
        b.check("csi.snapshot.get.unknown-id", SPEC + "GetSnapshot", "an unknown snapshot is NOT_FOUND",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT, GET);
                    String gone = r.goneSnapshotId();
                    CsiExpect.error(Status.Code.NOT_FOUND, "GetSnapshot of deleted snapshot " + gone, () -> t.controller()
                            .getSnapshot(GetSnapshotRequest.newBuilder().setSnapshotId(gone).putAllSecrets(t.secrets())
                                    .build()));
                }));
    }

    // ---- restore

    /** The size a restore of {@code s} asks for by default: the snapshot's size, or the run's volume size. */
    private static long restoreSize(CsiTarget t, Snapshot s) {
        return s.getSizeBytes() > 0 ? s.getSizeBytes() : t.config().volumeSize();
    }

    private static CreateVolumeRequest.Builder restoreRequest(CsiTarget t, String prefix, VolumeContentSource source,
            long required) {
        return t.createVolumeRequest(t.uniqueName(prefix)).setCapacityRange(range(required, 0))
                .setVolumeContentSource(source);
    }

    private static void restore(Suite.Builder<CsiTarget> b) {
        b.check("csi.snapshot.restore", SPEC + "CreateVolume",
                "a volume is created from a snapshot, at least as large as the snapshot, idempotently", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    Volume src = r.createVolume("csi-restsrc");
                    Snapshot s = r.createSnapshot("csi-restsnap", src.getVolumeId());
                    CreateVolumeRequest req = restoreRequest(t, "csi-restored", fromSnapshot(s.getSnapshotId()),
                            restoreSize(t, s)).build();
                    Volume v = r.createVolume(req);
                    that(v.getCapacityBytes() == 0 || v.getCapacityBytes() >= s.getSizeBytes(),
                            "restored volume has capacity_bytes %d, smaller than the snapshot's size_bytes %d",
                            v.getCapacityBytes(), s.getSizeBytes());
                    if (v.hasContentSource()) {
                        that(v.getContentSource().hasSnapshot() && v.getContentSource().getSnapshot().getSnapshotId()
                                .equals(s.getSnapshotId()), "restored volume reports content_source %s, not snapshot %s",
                                Expect.oneLine(v.getContentSource()), s.getSnapshotId());
                    }
                    Expect.equal(v.getVolumeId(), r.createVolume(req).getVolumeId(), "volume_id of the repeated restore");
                }));
        b.check("csi.snapshot.restore.unknown-snapshot", SPEC + "CreateVolume",
                "a volume from an unknown snapshot is NOT_FOUND", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    String gone = r.goneSnapshotId();
                    CsiExpect.error(Status.Code.NOT_FOUND, "CreateVolume from deleted snapshot " + gone,
                            () -> created(r, t.controller().createVolume(t.createVolumeRequest(t.uniqueName("csi-restgone"))
                                    .setVolumeContentSource(fromSnapshot(gone)).build())));
                }));
        b.check("csi.snapshot.restore.smaller-than-snapshot", SPEC + "CreateVolume",
                "a restore whose limit_bytes is below the snapshot's size is OUT_OF_RANGE", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    Volume src = r.createVolume("csi-restsmall");
                    Snapshot s = r.createSnapshot("csi-restsmall", src.getVolumeId());
                    if (s.getSizeBytes() < 2) {
                        throw new CheckSkipped("the snapshot does not report its size_bytes");
                    }
                    long half = s.getSizeBytes() / 2;
                    CsiExpect.error(Status.Code.OUT_OF_RANGE, "CreateVolume of " + half + " bytes from a snapshot of "
                            + s.getSizeBytes() + " bytes", () -> created(r, t.controller().createVolume(
                                    restoreRequest(t, "csi-restsmall", fromSnapshot(s.getSnapshotId()), half)
                                            .setCapacityRange(range(half, half)).build())));
                }));
        b.check("csi.snapshot.restore.larger", SPEC + "CreateVolume",
                "a restore larger than the snapshot is delivered at the requested size, or refused with OUT_OF_RANGE",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    Volume src = r.createVolume("csi-restlarge");
                    Snapshot s = r.createSnapshot("csi-restlarge", src.getVolumeId());
                    long twice = 2 * restoreSize(t, s);
                    Optional<Volume> v = largerRestore(t, r, fromSnapshot(s.getSnapshotId()), twice);
                    if (v.isEmpty()) {
                        return; // OUT_OF_RANGE: allowed by the spec
                    }
                    that(v.get().getCapacityBytes() == 0 || v.get().getCapacityBytes() >= twice, "a restore of %d bytes "
                            + "answered OK with capacity_bytes %d", twice, v.get().getCapacityBytes());
                }));
        b.check("csi.snapshot.restore.data", SPEC + "CreateSnapshot", "data written before the snapshot is in the "
                + "restored volume, data written after it is not (real mounts)", ROOT, scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    r.requireProvisioning();
                    VolumeCapability cap = t.capability();
                    Volume src = r.createVolume("csi-snapdata", cap);
                    VolumeData.Marker before = VolumeData.marker("before", 0);
                    VolumeData.Marker after = VolumeData.marker("after", 1);
                    writeAndRelease(r, src, cap, before);
                    Snapshot s = r.createSnapshot("csi-snapdata", src.getVolumeId());
                    writeAndRelease(r, src, cap, after);
                    Volume restored = r.createVolume(restoreRequest(t, "csi-snapdata-restored",
                            fromSnapshot(s.getSnapshotId()), restoreSize(t, s)).build());
                    CsiResources.Published p = r.publish(r.stage(restored, cap), false);
                    that(VolumeData.has(p, before), "the volume restored from snapshot %s lacks the data written "
                            + "before the snapshot", s.getSnapshotId());
                    that(!VolumeData.has(p, after), "the volume restored from snapshot %s has data written after the "
                            + "snapshot", s.getSnapshotId());
                }));
        b.check("csi.snapshot.restore.larger-data", SPEC + "CreateVolume", "a restore larger than the snapshot has "
                + "the data and the workload sees the larger size (filesystem grown, or device size)", ROOT,
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, SNAPSHOT);
                    r.requireProvisioning();
                    VolumeCapability cap = t.capability();
                    Volume src = r.createVolume("csi-restlarge", cap);
                    VolumeData.Marker before = VolumeData.marker("before", 0);
                    writeAndRelease(r, src, cap, before);
                    Snapshot s = r.createSnapshot("csi-restlarge", src.getVolumeId());
                    long size = restoreSize(t, s);
                    Optional<Volume> v = largerRestore(t, r, fromSnapshot(s.getSnapshotId()), 2 * size);
                    if (v.isEmpty()) {
                        throw new CheckSkipped("the plugin refuses restores larger than the snapshot (OUT_OF_RANGE), "
                                + "which the spec allows");
                    }
                    CsiResources.Published p = r.publish(r.stage(v.get(), cap), false);
                    that(VolumeData.has(p, before), "the larger restored volume lacks the snapshot's data");
                    long seen = VolumeData.visibleSize(p);
                    that(seen > size, "a restore to %d bytes from a %d-byte snapshot shows the workload only %d bytes "
                            + "(%s not grown)", 2 * size, size, seen, p.staged().block() ? "device" : "filesystem");
                }));
    }

    /** CreateVolume from {@code source} at {@code bytes}: the volume, or empty on OUT_OF_RANGE. */
    private static Optional<Volume> largerRestore(CsiTarget t, CsiResources r, VolumeContentSource source, long bytes) {
        try {
            CreateVolumeResponse resp = t.controller().createVolume(restoreRequest(t, "csi-larger", source, bytes).build());
            r.trackVolume(resp.getVolume().getVolumeId());
            return Optional.of(resp.getVolume());
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.OUT_OF_RANGE) {
                CsiExpect.wellFormed(e, "CreateVolume of " + bytes + " bytes from " + Expect.oneLine(source));
                return Optional.empty();
            }
            throw new CheckFailed("CreateVolume of " + bytes + " bytes from "
                    + Expect.oneLine(source) + ": expected OK or OUT_OF_RANGE, got " + CsiExpect.describe(e), e);
        }
    }

    /**
     * Stages and publishes {@code v}, writes {@code m}, then unpublishes and unstages it: the data is on
     * the volume and nothing of it is left in the node's caches when the snapshot or clone is cut.
     */
    static void writeAndRelease(CsiResources r, Volume v, VolumeCapability cap, VolumeData.Marker m) throws Exception {
        CsiResources.Published p = r.publish(r.stage(v, cap), false);
        VolumeData.write(p, m);
        r.release(p);
    }

    // ---- clone

    private static void clone(Suite.Builder<CsiTarget> b) {
        b.check("csi.clone.create", SPEC + "CreateVolume", "a volume is cloned from a volume", scoped((t, r) -> {
            t.requireController(CREATE_DELETE, CLONE);
            Volume src = r.createVolume("csi-clonesrc");
            Volume c = r.createVolume(restoreRequest(t, "csi-clone", fromVolume(src.getVolumeId()),
                    src.getCapacityBytes() > 0 ? src.getCapacityBytes() : t.config().volumeSize()).build());
            that(!c.getVolumeId().equals(src.getVolumeId()), "the clone has the source's volume_id");
            that(c.getCapacityBytes() == 0 || c.getCapacityBytes() >= src.getCapacityBytes(),
                    "the clone has capacity_bytes %d, smaller than the source's %d", c.getCapacityBytes(),
                    src.getCapacityBytes());
            if (c.hasContentSource()) {
                that(c.getContentSource().hasVolume() && c.getContentSource().getVolume().getVolumeId()
                        .equals(src.getVolumeId()), "the clone reports content_source %s, not volume %s",
                        Expect.oneLine(c.getContentSource()), src.getVolumeId());
            }
        }));
        b.check("csi.clone.unknown-source", SPEC + "CreateVolume", "a clone of an unknown volume is NOT_FOUND",
                scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, CLONE);
                    String gone = r.goneVolumeId();
                    CsiExpect.error(Status.Code.NOT_FOUND, "CreateVolume cloned from deleted volume " + gone,
                            () -> created(r, t.controller().createVolume(t.createVolumeRequest(t.uniqueName("csi-clonegone"))
                                    .setVolumeContentSource(fromVolume(gone)).build())));
                }));
        b.check("csi.clone.smaller-than-source", SPEC + "CreateVolume",
                "a clone whose limit_bytes is below the source's size is OUT_OF_RANGE", scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, CLONE);
                    Volume src = r.createVolume("csi-clonesmall");
                    if (src.getCapacityBytes() < 2) {
                        throw new CheckSkipped("the source volume does not report its capacity_bytes");
                    }
                    long half = src.getCapacityBytes() / 2;
                    CsiExpect.error(Status.Code.OUT_OF_RANGE, "CreateVolume of " + half + " bytes cloned from a volume of "
                            + src.getCapacityBytes() + " bytes", () -> created(r, t.controller().createVolume(
                                    restoreRequest(t, "csi-clonesmall", fromVolume(src.getVolumeId()), half)
                                            .setCapacityRange(range(half, half)).build())));
                }));
        b.check("csi.clone.data", SPEC + "CreateVolume", "a clone has the source's data at cloning time; later "
                + "writes to either volume do not show in the other (real mounts)", ROOT, scoped((t, r) -> {
                    t.requireController(CREATE_DELETE, CLONE);
                    r.requireProvisioning();
                    VolumeCapability cap = t.capability();
                    Volume src = r.createVolume("csi-clonedata", cap);
                    VolumeData.Marker before = VolumeData.marker("before", 0);
                    VolumeData.Marker after = VolumeData.marker("after", 1);
                    VolumeData.Marker cloneOnly = VolumeData.marker("clone-only", 2);
                    writeAndRelease(r, src, cap, before);
                    Volume c = r.createVolume(restoreRequest(t, "csi-clonedata-clone", fromVolume(src.getVolumeId()),
                            src.getCapacityBytes() > 0 ? src.getCapacityBytes() : t.config().volumeSize()).build());
                    writeAndRelease(r, src, cap, after);
                    CsiResources.Published p = r.publish(r.stage(c, cap), false);
                    that(VolumeData.has(p, before), "the clone of %s lacks the data written before cloning",
                            src.getVolumeId());
                    that(!VolumeData.has(p, after), "the clone of %s has data written to the source after cloning",
                            src.getVolumeId());
                    VolumeData.write(p, cloneOnly);
                    r.release(p);
                    CsiResources.Published s = r.publish(r.stage(src, cap), false);
                    that(!VolumeData.has(s, cloneOnly), "data written to the clone shows in the source volume %s",
                            src.getVolumeId());
                    that(VolumeData.has(s, after), "the source volume %s lost data written to it", src.getVolumeId());
                }));
    }
}
