package dev.nodekit.csi;

import static dev.nodekit.csi.Statuses.expect;
import static dev.nodekit.csi.TestDriver.block;
import static dev.nodekit.csi.TestDriver.mount;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.csi.spi.Health;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.StorageException;
import dev.nodekit.spec.csi.v1.CapacityRange;
import dev.nodekit.spec.csi.v1.ControllerExpandVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerExpandVolumeResponse;
import dev.nodekit.spec.csi.v1.ControllerGetCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.ControllerGetVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerGetVolumeResponse;
import dev.nodekit.spec.csi.v1.ControllerPublishVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.CreateSnapshotRequest;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.DeleteSnapshotRequest;
import dev.nodekit.spec.csi.v1.DeleteVolumeRequest;
import dev.nodekit.spec.csi.v1.GetCapacityRequest;
import dev.nodekit.spec.csi.v1.GetCapacityResponse;
import dev.nodekit.spec.csi.v1.GetSnapshotRequest;
import dev.nodekit.spec.csi.v1.ListSnapshotsRequest;
import dev.nodekit.spec.csi.v1.ListSnapshotsResponse;
import dev.nodekit.spec.csi.v1.ListVolumesRequest;
import dev.nodekit.spec.csi.v1.ListVolumesResponse;
import dev.nodekit.spec.csi.v1.Snapshot;
import dev.nodekit.spec.csi.v1.Topology;
import dev.nodekit.spec.csi.v1.TopologyRequirement;
import dev.nodekit.spec.csi.v1.ValidateVolumeCapabilitiesRequest;
import dev.nodekit.spec.csi.v1.ValidateVolumeCapabilitiesResponse;
import dev.nodekit.spec.csi.v1.Volume;
import dev.nodekit.spec.csi.v1.VolumeCapability.AccessMode.Mode;
import dev.nodekit.spec.csi.v1.VolumeContentSource;
import io.grpc.Status.Code;

class CsiControllerServiceTest {
    static final long MIB = 1L << 20;
    static final long GIB = 1L << 30;

    @TempDir
    Path tmp;
    TestDriver d;

    @BeforeEach
    void start() throws Exception {
        d = new TestDriver(tmp);
    }

    @AfterEach
    void stop() throws Exception {
        d.close();
    }

    static CreateVolumeRequest.Builder create(String name) {
        return CreateVolumeRequest.newBuilder().setName(name).addVolumeCapabilities(mount());
    }

    Volume createVolume(String name, long bytes) {
        return d.controller().createVolume(create(name)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(bytes)).build()).getVolume();
    }

    Snapshot snapshot(String name, String source) {
        return d.controller().createSnapshot(CreateSnapshotRequest.newBuilder().setName(name)
                .setSourceVolumeId(source).build()).getSnapshot();
    }

    // ---- capabilities -----------------------------------------------------------------------

    @Test
    void advertisesTheControllerCapabilitiesAndNotPublishOrModify() {
        Set<ControllerServiceCapability.RPC.Type> caps = new HashSet<>();
        d.controller().controllerGetCapabilities(ControllerGetCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList().forEach(c -> caps.add(c.getRpc().getType()));
        assertThat(caps).containsExactlyInAnyOrderElementsOf(CsiControllerService.CAPABILITIES)
                .doesNotContain(ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME,
                        ControllerServiceCapability.RPC.Type.MODIFY_VOLUME);
        expect(Code.UNIMPLEMENTED, () -> d.controller().controllerPublishVolume(
                ControllerPublishVolumeRequest.getDefaultInstance()));
    }

    // ---- CreateVolume: required fields ------------------------------------------------------

    @Test
    void createNeedsANameAndCapabilitiesEachNamedInTheMessage() {
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(
                CreateVolumeRequest.newBuilder().addVolumeCapabilities(mount()).build()))).contains("name");
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(
                CreateVolumeRequest.newBuilder().setName("pvc-1").build()))).contains("volume_capabilities");
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(CreateVolumeRequest.newBuilder()
                .setName("pvc-1").addVolumeCapabilities(mount().toBuilder().clearAccessMode()).build())))
                .contains("volume_capabilities[0].access_mode");
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(CreateVolumeRequest.newBuilder()
                .setName("pvc-1").addVolumeCapabilities(mount().toBuilder().clearMount()).build())))
                .contains("access type");
        assertThat(d.backend.createCalls()).isZero();
    }

    @Test
    void nameLimitsFollowTheSpec() {
        String max = "n".repeat(128);
        assertThat(createVolume(max, MIB).getVolumeId()).isNotEmpty();
        assertThat(expect(Code.INVALID_ARGUMENT, () -> createVolume("n".repeat(129), MIB))).contains("128");
        assertThat(expect(Code.INVALID_ARGUMENT, () -> createVolume("bad\u0001name", MIB))).contains("U+0001");
        assertThat(createVolume("tab\tis\tallowed", MIB).getVolumeId()).isNotEmpty();
    }

    @Test
    void multiNodeModesAreRejectedWithAClearMessage() {
        for (Mode m : List.of(Mode.MULTI_NODE_MULTI_WRITER, Mode.MULTI_NODE_READER_ONLY, Mode.MULTI_NODE_SINGLE_WRITER)) {
            String msg = expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(CreateVolumeRequest.newBuilder()
                    .setName("pvc-" + m).addVolumeCapabilities(mount("ext4", m)).build()));
            assertThat(msg).contains(m.name()).contains("SINGLE_NODE");
        }
        for (Mode m : List.of(Mode.SINGLE_NODE_WRITER, Mode.SINGLE_NODE_READER_ONLY, Mode.SINGLE_NODE_SINGLE_WRITER,
                Mode.SINGLE_NODE_MULTI_WRITER)) {
            d.controller().createVolume(CreateVolumeRequest.newBuilder().setName("ok-" + m)
                    .addVolumeCapabilities(mount("ext4", m)).build());
        }
    }

    @Test
    void filesystemsAreExt4AndXfsAndBlockIsAccepted() {
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(CreateVolumeRequest.newBuilder()
                .setName("v").addVolumeCapabilities(mount("btrfs", Mode.SINGLE_NODE_WRITER)).build())))
                .contains("btrfs");
        d.controller().createVolume(CreateVolumeRequest.newBuilder().setName("b")
                .addVolumeCapabilities(block(Mode.SINGLE_NODE_WRITER)).build());
        Volume x = d.controller().createVolume(CreateVolumeRequest.newBuilder().setName("x")
                .addVolumeCapabilities(mount("xfs", Mode.SINGLE_NODE_WRITER)).setCapacityRange(CapacityRange.newBuilder()
                        .setRequiredBytes(10 * MIB)).build()).getVolume();
        assertThat(x.getCapacityBytes()).as("xfs minimum").isEqualTo(Sizes.XFS_MIN_BYTES);
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(CreateVolumeRequest.newBuilder()
                .setName("mixed").addVolumeCapabilities(mount()).addVolumeCapabilities(block(Mode.SINGLE_NODE_WRITER))
                .build()))).contains("volume_capabilities[1]");
    }

    @Test
    void unknownParametersAreRejectedByNameAndKubernetesKeysIgnored() throws Exception {
        String msg = expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(create("p")
                .putParameters("tier", "fast").putParameters("colour", "blue").build()));
        assertThat(msg).contains("'colour'").contains("fake backend").contains("tier");
        Volume v = d.controller().createVolume(create("p").putParameters("tier", "fast")
                .putParameters("csi.storage.k8s.io/pvc/name", "data").putParameters("pool", "default").build())
                .getVolume();
        ObjectId id = ObjectId.parse(v.getVolumeId(), ObjectId.Kind.VOLUME);
        assertThat(d.backend.images()).singleElement().satisfies(i -> {
            assertThat(i.id()).isEqualTo(id);
            assertThat(i.parameters()).isEqualTo(Map.of("tier", "fast"));
        });
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(create("q")
                .putParameters("pool", "nope").build()))).contains("nope");
    }

    @Test
    void mapsAboveFourKibibytesAreRejected() throws Exception {
        String big = "x".repeat(4097);
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(create("p")
                .putParameters("tier", big).build()))).contains("parameters");
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(create("p")
                .putSecrets("key", big).build()))).contains("secrets").doesNotContain(big.substring(0, 50));
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(create("p")
                .putMutableParams("iops", "100").build()))).contains("mutable_parameters");
    }

    // ---- CreateVolume: sizes ------------------------------------------------------------------

    @Test
    void capacityRangeRules() {
        assertThat(d.controller().createVolume(create("default").build()).getVolume().getCapacityBytes())
                .isEqualTo(GIB);
        assertThat(createVolume("rounded", MIB + 1).getCapacityBytes()).isEqualTo(2 * MIB);
        assertThat(d.controller().createVolume(create("limited").setCapacityRange(CapacityRange.newBuilder()
                .setLimitBytes(100 * MIB)).build()).getVolume().getCapacityBytes()).isEqualTo(100 * MIB);
        assertThat(d.controller().createVolume(create("exact").setCapacityRange(CapacityRange.newBuilder()
                .setRequiredBytes(5 * MIB).setLimitBytes(5 * MIB)).build()).getVolume().getCapacityBytes())
                .isEqualTo(5 * MIB);
        expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(create("neg").setCapacityRange(
                CapacityRange.newBuilder().setRequiredBytes(-1)).build()));
        expect(Code.OUT_OF_RANGE, () -> d.controller().createVolume(create("inverted").setCapacityRange(
                CapacityRange.newBuilder().setRequiredBytes(10 * MIB).setLimitBytes(MIB)).build()));
        expect(Code.OUT_OF_RANGE, () -> d.controller().createVolume(CreateVolumeRequest.newBuilder().setName("tiny-xfs")
                .addVolumeCapabilities(mount("xfs", Mode.SINGLE_NODE_WRITER))
                .setCapacityRange(CapacityRange.newBuilder().setLimitBytes(100 * MIB)).build()));
        expect(Code.OUT_OF_RANGE, () -> d.controller().createVolume(create("sub-mib").setCapacityRange(
                CapacityRange.newBuilder().setRequiredBytes(10).setLimitBytes(100)).build()));
        d.backend.setLimits(0, 10 * GIB);
        expect(Code.OUT_OF_RANGE, () -> createVolume("huge", 11 * GIB));
        d.backend.setLimits(64 * MIB, 0);
        assertThat(createVolume("raised", MIB).getCapacityBytes()).isEqualTo(64 * MIB);
    }

    @Test
    void theBackendsSizeLimitsAreReadOncePerParameterSetAndNotPerCreate() throws Exception {
        FakeBackend backend = new FakeBackend(TestDriver.NODE, tmp.resolve("cached"));
        backend.setLimits(8 * MIB, 0);
        CsiControllerService svc = new CsiControllerService(backend, new dev.nodekit.csi.Topology(TestDriver.TOPOLOGY_KEY,
                TestDriver.NODE), d.limiter, java.time.Duration.ofHours(1));
        for (int i = 0; i < 5; i++) {
            var out = new io.grpc.stub.StreamObserver<dev.nodekit.spec.csi.v1.CreateVolumeResponse>() {
                dev.nodekit.spec.csi.v1.CreateVolumeResponse got;

                @Override
                public void onNext(dev.nodekit.spec.csi.v1.CreateVolumeResponse v) {
                    got = v;
                }

                @Override
                public void onError(Throwable t) {
                    throw new AssertionError(t);
                }

                @Override
                public void onCompleted() {
                }
            };
            svc.createVolume(create("c" + i).setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(MIB))
                    .build(), out);
            assertThat(out.got.getVolume().getCapacityBytes()).as("raised to the backend's minimum").isEqualTo(8 * MIB);
        }
        assertThat(backend.capacityCalls()).isEqualTo(1);
    }

    @Test
    void capacityExceededIsResourceExhausted() {
        expect(Code.RESOURCE_EXHAUSTED, () -> createVolume("too-big", FakeBackend.TOTAL + GIB));
    }

    // ---- CreateVolume: idempotency ------------------------------------------------------------

    @Test
    void createIsIdempotentByNameAndRejectsIncompatibleRepeats() {
        Volume first = createVolume("pvc-1", 10 * MIB);
        for (int i = 0; i < 5; i++) {
            assertThat(createVolume("pvc-1", 10 * MIB)).isEqualTo(first);
        }
        assertThat(d.controller().createVolume(create("pvc-1").setCapacityRange(CapacityRange.newBuilder()
                .setRequiredBytes(5 * MIB).setLimitBytes(20 * MIB)).build()).getVolume()).as("compatible range")
                .isEqualTo(first);
        assertThat(expect(Code.ALREADY_EXISTS, () -> createVolume("pvc-1", 20 * MIB))).contains("pvc-1");
        assertThat(expect(Code.ALREADY_EXISTS, () -> d.controller().createVolume(CreateVolumeRequest.newBuilder()
                .setName("pvc-1").addVolumeCapabilities(block(Mode.SINGLE_NODE_WRITER))
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(10 * MIB)).build()))).contains("block");
        assertThat(expect(Code.ALREADY_EXISTS, () -> d.controller().createVolume(CreateVolumeRequest.newBuilder()
                .setName("pvc-1").addVolumeCapabilities(mount("xfs", Mode.SINGLE_NODE_WRITER))
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(10 * MIB)).build()))).contains("xfs");
        assertThat(expect(Code.ALREADY_EXISTS, () -> d.controller().createVolume(create("pvc-1")
                .putParameters("tier", "slow").setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(10 * MIB))
                .build()))).contains("parameters");
        assertThat(d.backend.images()).hasSize(1);
    }

    @Test
    void createReturnsTheTopologyOfThisNodeAndHonoursRequirements() {
        Topology ours = Topology.newBuilder().putSegments(TestDriver.TOPOLOGY_KEY, TestDriver.NODE).build();
        Topology other = Topology.newBuilder().putSegments(TestDriver.TOPOLOGY_KEY, "node-b").build();
        assertThat(createVolume("t", MIB).getAccessibleTopologyList()).containsExactly(ours);
        assertThat(expect(Code.RESOURCE_EXHAUSTED, () -> d.controller().createVolume(create("t2")
                .setAccessibilityRequirements(TopologyRequirement.newBuilder().addRequisite(other)).build())))
                .contains(TestDriver.NODE);
        d.controller().createVolume(create("t3").setAccessibilityRequirements(TopologyRequirement.newBuilder()
                .addRequisite(other).addRequisite(ours).addPreferred(ours)).build());
        d.controller().createVolume(create("t4").setAccessibilityRequirements(TopologyRequirement.newBuilder()
                .addPreferred(other)).build());
    }

    // ---- CreateVolume: content sources ------------------------------------------------------

    @Test
    void restoreAndCloneCopyDataAndCheckSizes() throws Exception {
        Volume src = createVolume("src", 8 * MIB);
        ObjectId srcId = ObjectId.parse(src.getVolumeId(), ObjectId.Kind.VOLUME);
        d.backend.write(srcId, "hello");
        Snapshot snap = snapshot("snap", src.getVolumeId());
        VolumeContentSource fromSnap = VolumeContentSource.newBuilder().setSnapshot(
                VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(snap.getSnapshotId())).build();
        Volume restored = d.controller().createVolume(create("restored").setVolumeContentSource(fromSnap).build())
                .getVolume();
        assertThat(restored.getCapacityBytes()).as("source size when none required").isEqualTo(8 * MIB);
        assertThat(restored.getContentSource()).isEqualTo(fromSnap);
        assertThat(d.backend.dataOf(ObjectId.parse(restored.getVolumeId(), ObjectId.Kind.VOLUME))).isEqualTo("hello");
        expect(Code.OUT_OF_RANGE, () -> d.controller().createVolume(create("small").setVolumeContentSource(fromSnap)
                .setCapacityRange(CapacityRange.newBuilder().setLimitBytes(4 * MIB)).build()));
        assertThat(expect(Code.ALREADY_EXISTS, () -> d.controller().createVolume(create("restored").build())))
                .contains("content source");

        VolumeContentSource fromVol = VolumeContentSource.newBuilder().setVolume(
                VolumeContentSource.VolumeSource.newBuilder().setVolumeId(src.getVolumeId())).build();
        Volume clone = d.controller().createVolume(create("clone").setVolumeContentSource(fromVol)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(16 * MIB)).build()).getVolume();
        assertThat(clone.getCapacityBytes()).isEqualTo(16 * MIB);
        assertThat(d.backend.dataOf(ObjectId.parse(clone.getVolumeId(), ObjectId.Kind.VOLUME))).isEqualTo("hello");
    }

    @Test
    void missingOrMalformedSourcesAreNotFound() {
        ObjectId ghost = ObjectId.newSnapshot(FakeBackend.KIND, TestDriver.NODE, FakeBackend.POOL);
        for (String id : List.of(ghost.encode(), "../../etc/passwd", "s1-fake-zzzz")) {
            expect(Code.NOT_FOUND, () -> d.controller().createVolume(create("r").setVolumeContentSource(
                    VolumeContentSource.newBuilder().setSnapshot(VolumeContentSource.SnapshotSource.newBuilder()
                            .setSnapshotId(id))).build()));
        }
        expect(Code.NOT_FOUND, () -> d.controller().createVolume(create("c").setVolumeContentSource(
                VolumeContentSource.newBuilder().setVolume(VolumeContentSource.VolumeSource.newBuilder()
                        .setVolumeId(ObjectId.newVolume(FakeBackend.KIND, TestDriver.NODE, "p").encode()))).build()));
        expect(Code.INVALID_ARGUMENT, () -> d.controller().createVolume(create("e").setVolumeContentSource(
                VolumeContentSource.getDefaultInstance()).build()));
        assertThat(d.backend.images()).isEmpty();
    }

    // ---- DeleteVolume ---------------------------------------------------------------------------

    @Test
    void deleteIsIdempotentAndSnapshotsOutliveTheirVolume() throws Exception {
        expect(Code.INVALID_ARGUMENT, () -> d.controller().deleteVolume(DeleteVolumeRequest.getDefaultInstance()));
        expect(Code.INVALID_ARGUMENT, () -> d.controller().deleteVolume(DeleteVolumeRequest.newBuilder()
                .setVolumeId("v".repeat(129)).build()));
        d.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId("reallyfakevolumeid").build());
        d.controller().deleteVolume(DeleteVolumeRequest.newBuilder()
                .setVolumeId(ObjectId.newVolume(FakeBackend.KIND, TestDriver.NODE, "default").encode()).build());
        Volume v = createVolume("gone", MIB);
        Snapshot s = snapshot("kept", v.getVolumeId());
        for (int i = 0; i < 3; i++) {
            d.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(v.getVolumeId()).build());
        }
        assertThat(d.backend.images()).isEmpty();
        assertThat(d.controller().getSnapshot(GetSnapshotRequest.newBuilder().setSnapshotId(s.getSnapshotId()).build())
                .getSnapshot().getReadyToUse()).isTrue();
        d.controller().createVolume(create("from-kept").setVolumeContentSource(VolumeContentSource.newBuilder()
                .setSnapshot(VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(s.getSnapshotId()))).build());
    }

    @Test
    void deletingAnAttachedVolumeIsFailedPrecondition() throws Exception {
        Volume v = createVolume("busy", MIB);
        d.backend.attach(ObjectId.parse(v.getVolumeId(), ObjectId.Kind.VOLUME), false,
                dev.nodekit.csi.spi.Credentials.none());
        expect(Code.FAILED_PRECONDITION, () -> d.controller().deleteVolume(DeleteVolumeRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).build()));
    }

    // ---- ValidateVolumeCapabilities -----------------------------------------------------------

    @Test
    void validateConfirmsOnlyWhatIsSupported() {
        expect(Code.INVALID_ARGUMENT, () -> d.controller().validateVolumeCapabilities(
                ValidateVolumeCapabilitiesRequest.newBuilder().addVolumeCapabilities(mount()).build()));
        Volume v = createVolume("val", MIB);
        expect(Code.INVALID_ARGUMENT, () -> d.controller().validateVolumeCapabilities(
                ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(v.getVolumeId()).build()));
        expect(Code.NOT_FOUND, () -> d.controller().validateVolumeCapabilities(ValidateVolumeCapabilitiesRequest
                .newBuilder().setVolumeId("some-fake-id").addVolumeCapabilities(mount()).build()));
        ValidateVolumeCapabilitiesResponse ok = d.controller().validateVolumeCapabilities(
                ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(v.getVolumeId()).addVolumeCapabilities(mount())
                        .addVolumeCapabilities(mount("ext4", Mode.SINGLE_NODE_MULTI_WRITER)).putParameters("tier", "x")
                        .build());
        assertThat(ok.hasConfirmed()).isTrue();
        assertThat(ok.getConfirmed().getVolumeCapabilitiesCount()).isEqualTo(2);
        for (var cap : List.of(mount("ext4", Mode.MULTI_NODE_MULTI_WRITER), block(Mode.SINGLE_NODE_WRITER),
                mount("xfs", Mode.SINGLE_NODE_WRITER))) {
            ValidateVolumeCapabilitiesResponse no = d.controller().validateVolumeCapabilities(
                    ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(v.getVolumeId())
                            .addVolumeCapabilities(cap).build());
            assertThat(no.hasConfirmed()).as("%s", cap).isFalse();
            assertThat(no.getMessage()).isNotEmpty();
        }
        assertThat(d.controller().validateVolumeCapabilities(ValidateVolumeCapabilitiesRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).addVolumeCapabilities(mount()).putParameters("colour", "red").build())
                .getMessage()).contains("colour");
    }

    // ---- ListVolumes ----------------------------------------------------------------------------

    @Test
    void listVolumesPagesWithTokensAndAbortsOnABadOne() {
        Set<String> created = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            created.add(createVolume("l" + i, MIB).getVolumeId());
        }
        Set<String> seen = new HashSet<>();
        String token = "";
        int pages = 0;
        do {
            ListVolumesResponse r = d.controller().listVolumes(ListVolumesRequest.newBuilder().setMaxEntries(2)
                    .setStartingToken(token).build());
            assertThat(r.getEntriesCount()).isLessThanOrEqualTo(2);
            r.getEntriesList().forEach(e -> {
                seen.add(e.getVolume().getVolumeId());
                assertThat(e.getStatus().getVolumeCondition().getAbnormal()).isFalse();
            });
            token = r.getNextToken();
            pages++;
        } while (!token.isEmpty());
        assertThat(seen).isEqualTo(created);
        assertThat(pages).isEqualTo(3);
        assertThat(d.controller().listVolumes(ListVolumesRequest.getDefaultInstance()).getEntriesCount()).isEqualTo(5);
        expect(Code.ABORTED, () -> d.controller().listVolumes(ListVolumesRequest.newBuilder()
                .setStartingToken("not-a-token").build()));
        expect(Code.INVALID_ARGUMENT, () -> d.controller().listVolumes(ListVolumesRequest.newBuilder()
                .setMaxEntries(-1).build()));
    }

    // ---- GetCapacity ----------------------------------------------------------------------------

    @Test
    void capacityHonoursTopologyCapabilitiesAndParameters() {
        GetCapacityResponse all = d.controller().getCapacity(GetCapacityRequest.getDefaultInstance());
        assertThat(all.getAvailableCapacity()).isEqualTo(FakeBackend.TOTAL);
        createVolume("c", GIB);
        assertThat(d.controller().getCapacity(GetCapacityRequest.newBuilder().addVolumeCapabilities(mount())
                .setAccessibleTopology(Topology.newBuilder().putSegments(TestDriver.TOPOLOGY_KEY, TestDriver.NODE))
                .build()).getAvailableCapacity()).isEqualTo(FakeBackend.TOTAL - GIB);
        assertThat(d.controller().getCapacity(GetCapacityRequest.newBuilder()
                .setAccessibleTopology(Topology.newBuilder().putSegments(TestDriver.TOPOLOGY_KEY, "node-b")).build())
                .getAvailableCapacity()).isZero();
        assertThat(d.controller().getCapacity(GetCapacityRequest.newBuilder()
                .addVolumeCapabilities(mount("ext4", Mode.MULTI_NODE_MULTI_WRITER)).build()).getAvailableCapacity())
                .isZero();
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.controller().getCapacity(GetCapacityRequest.newBuilder()
                .putParameters("colour", "red").build()))).contains("colour");
        assertThat(d.controller().getCapacity(GetCapacityRequest.newBuilder()
                .addVolumeCapabilities(mount("xfs", Mode.SINGLE_NODE_WRITER)).build()).getMinimumVolumeSize().getValue())
                .isEqualTo(Sizes.XFS_MIN_BYTES);
        d.backend.setLimits(0, 5 * GIB);
        assertThat(d.controller().getCapacity(GetCapacityRequest.getDefaultInstance()).getMaximumVolumeSize()
                .getValue()).isEqualTo(5 * GIB);
    }

    // ---- Snapshots ------------------------------------------------------------------------------

    @Test
    void createSnapshotChecklist() {
        Volume v = createVolume("sv", MIB);
        expect(Code.INVALID_ARGUMENT, () -> d.controller().createSnapshot(CreateSnapshotRequest.newBuilder()
                .setSourceVolumeId(v.getVolumeId()).build()));
        assertThat(expect(Code.INVALID_ARGUMENT, () -> d.controller().createSnapshot(CreateSnapshotRequest.newBuilder()
                .setName("s").build()))).contains("source_volume_id");
        expect(Code.NOT_FOUND, () -> snapshot("s", "not-a-volume"));
        expect(Code.NOT_FOUND, () -> snapshot("s",
                ObjectId.newVolume(FakeBackend.KIND, TestDriver.NODE, "default").encode()));
        Snapshot s = snapshot("s", v.getVolumeId());
        assertThat(s.getReadyToUse()).isTrue();
        assertThat(s.getSourceVolumeId()).isEqualTo(v.getVolumeId());
        assertThat(s.getSizeBytes()).isEqualTo(MIB);
        assertThat(s.getCreationTime().getSeconds()).isPositive();
        assertThat(snapshot("s", v.getVolumeId())).isEqualTo(s);
        Volume other = createVolume("other", MIB);
        expect(Code.ALREADY_EXISTS, () -> snapshot("s", other.getVolumeId()));
        expect(Code.INVALID_ARGUMENT, () -> d.controller().createSnapshot(CreateSnapshotRequest.newBuilder()
                .setName("p").setSourceVolumeId(v.getVolumeId()).putParameters("colour", "red").build()));
        d.controller().createSnapshot(CreateSnapshotRequest.newBuilder().setName("k8s").setSourceVolumeId(
                v.getVolumeId()).putParameters("csi.storage.k8s.io/volumesnapshot/name", "snap-1").build());
    }

    @Test
    void deleteGetAndListSnapshots() {
        Volume a = createVolume("a", MIB);
        Volume b = createVolume("b", MIB);
        List<String> ofA = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ofA.add(snapshot("a" + i, a.getVolumeId()).getSnapshotId());
        }
        Snapshot sb = snapshot("b0", b.getVolumeId());
        assertThat(d.controller().listSnapshots(ListSnapshotsRequest.getDefaultInstance()).getEntriesCount())
                .isEqualTo(4);
        ListSnapshotsResponse bySource = d.controller().listSnapshots(ListSnapshotsRequest.newBuilder()
                .setSourceVolumeId(a.getVolumeId()).build());
        assertThat(bySource.getEntriesList()).extracting(e -> e.getSnapshot().getSnapshotId())
                .containsExactlyInAnyOrderElementsOf(ofA);
        assertThat(d.controller().listSnapshots(ListSnapshotsRequest.newBuilder().setSnapshotId(sb.getSnapshotId())
                .build()).getEntriesList()).extracting(e -> e.getSnapshot()).containsExactly(sb);
        for (ListSnapshotsRequest unknown : List.of(
                ListSnapshotsRequest.newBuilder().setSnapshotId("none-exist-id").build(),
                ListSnapshotsRequest.newBuilder().setSourceVolumeId("none-exist-volume").build(),
                ListSnapshotsRequest.newBuilder().setSnapshotId(ObjectId.newSnapshot(FakeBackend.KIND,
                        TestDriver.NODE, "default").encode()).build())) {
            assertThat(d.controller().listSnapshots(unknown).getEntriesCount()).isZero();
        }
        Set<String> paged = new HashSet<>();
        String token = "";
        do {
            ListSnapshotsResponse r = d.controller().listSnapshots(ListSnapshotsRequest.newBuilder().setMaxEntries(1)
                    .setStartingToken(token).build());
            r.getEntriesList().forEach(e -> paged.add(e.getSnapshot().getSnapshotId()));
            token = r.getNextToken();
        } while (!token.isEmpty());
        assertThat(paged).hasSize(4);
        expect(Code.ABORTED, () -> d.controller().listSnapshots(ListSnapshotsRequest.newBuilder()
                .setStartingToken("garbage").build()));
        expect(Code.INVALID_ARGUMENT, () -> d.controller().listSnapshots(ListSnapshotsRequest.newBuilder()
                .setMaxEntries(-3).build()));

        expect(Code.NOT_FOUND, () -> d.controller().getSnapshot(GetSnapshotRequest.newBuilder()
                .setSnapshotId("nope").build()));
        expect(Code.INVALID_ARGUMENT, () -> d.controller().getSnapshot(GetSnapshotRequest.getDefaultInstance()));
        expect(Code.INVALID_ARGUMENT, () -> d.controller().deleteSnapshot(DeleteSnapshotRequest.getDefaultInstance()));
        d.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId("unknown").build());
        for (int i = 0; i < 2; i++) {
            d.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(sb.getSnapshotId()).build());
        }
        expect(Code.NOT_FOUND, () -> d.controller().getSnapshot(GetSnapshotRequest.newBuilder()
                .setSnapshotId(sb.getSnapshotId()).build()));
    }

    // ---- Expansion and GetVolume ----------------------------------------------------------------

    @Test
    void expandChecklist() {
        Volume v = createVolume("e", 10 * MIB);
        expect(Code.INVALID_ARGUMENT, () -> d.controller().controllerExpandVolume(ControllerExpandVolumeRequest
                .newBuilder().setVolumeId(v.getVolumeId()).build()));
        expect(Code.INVALID_ARGUMENT, () -> d.controller().controllerExpandVolume(ControllerExpandVolumeRequest
                .newBuilder().setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(GIB)).build()));
        expect(Code.NOT_FOUND, () -> d.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder()
                .setVolumeId("ghost").setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(GIB)).build()));
        ControllerExpandVolumeResponse r = d.controller().controllerExpandVolume(ControllerExpandVolumeRequest
                .newBuilder().setVolumeId(v.getVolumeId()).setCapacityRange(CapacityRange.newBuilder()
                        .setRequiredBytes(20 * MIB + 1)).setVolumeCapability(mount()).build());
        assertThat(r.getCapacityBytes()).isEqualTo(21 * MIB);
        assertThat(r.getNodeExpansionRequired()).isTrue();
        assertThat(d.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(5 * MIB))
                .build()).getCapacityBytes()).as("already large enough").isEqualTo(21 * MIB);
        expect(Code.OUT_OF_RANGE, () -> d.controller().controllerExpandVolume(ControllerExpandVolumeRequest
                .newBuilder().setVolumeId(v.getVolumeId()).setCapacityRange(CapacityRange.newBuilder()
                        .setRequiredBytes(MIB).setLimitBytes(2 * MIB)).build()));
        d.backend.setLimits(0, 30 * MIB);
        expect(Code.OUT_OF_RANGE, () -> d.controller().controllerExpandVolume(ControllerExpandVolumeRequest
                .newBuilder().setVolumeId(v.getVolumeId()).setCapacityRange(CapacityRange.newBuilder()
                        .setRequiredBytes(40 * MIB)).build()));
    }

    @Test
    void getVolumeReportsTheBackendsCondition() throws Exception {
        Volume v = createVolume("g", MIB);
        expect(Code.NOT_FOUND, () -> d.controller().controllerGetVolume(ControllerGetVolumeRequest.newBuilder()
                .setVolumeId("ghost").build()));
        ControllerGetVolumeResponse r = d.controller().controllerGetVolume(ControllerGetVolumeRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).build());
        assertThat(r.getVolume()).isEqualTo(v);
        assertThat(r.getStatus().getVolumeCondition().getAbnormal()).isFalse();
        d.backend.breakImage(ObjectId.parse(v.getVolumeId(), ObjectId.Kind.VOLUME), "data file is missing");
        assertThat(d.controller().controllerGetVolume(ControllerGetVolumeRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).build()).getStatus().getVolumeCondition().getMessage())
                .isEqualTo("data file is missing");
        assertThat(d.controller().listVolumes(ListVolumesRequest.getDefaultInstance()).getEntries(0).getStatus()
                .getVolumeCondition().getAbnormal()).isTrue();
        d.backend.setHealth(Health.unhealthy("data dir is read-only"));
        assertThat(d.controller().controllerGetVolume(ControllerGetVolumeRequest.newBuilder()
                .setVolumeId(v.getVolumeId()).build()).getStatus().getVolumeCondition())
                .satisfies(c -> {
                    assertThat(c.getAbnormal()).isTrue();
                    assertThat(c.getMessage()).contains("read-only");
                });
    }

    // ---- Errors from the backend ----------------------------------------------------------------

    @Test
    void backendFailuresMapThroughTheStatusMapper() {
        d.backend.failNext("createImage", new StorageException.Unavailable("cluster unreachable", null));
        assertThat(expect(Code.UNAVAILABLE, () -> createVolume("u", MIB))).contains("cluster unreachable");
        d.backend.failNext("createImage", new StorageException.Pending("busy"));
        expect(Code.ABORTED, () -> createVolume("u", MIB));
        d.backend.failNext("createImage", new StorageException.Internal("disk on fire", new RuntimeException()));
        expect(Code.INTERNAL, () -> createVolume("u", MIB));
        d.backend.failNext("findImageByName", new StorageException.PermissionDenied("no", null));
        expect(Code.PERMISSION_DENIED, () -> createVolume("u", MIB));
        assertThat(createVolume("u", MIB).getVolumeId()).isNotEmpty();
    }
}
