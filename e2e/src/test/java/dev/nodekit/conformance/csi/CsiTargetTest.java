package dev.nodekit.conformance.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.conformance.CheckSkipped;
import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.VolumeCapability;

/** What CsiTarget adds for checks: names, capabilities, the default request, gates, withVolume. */
class CsiTargetTest {
    @TempDir
    Path dir;

    @Test
    void uniqueNamesAreUniqueAndCanBeExactly128Bytes() throws Exception {
        try (FakePlugin fake = new FakePlugin(dir.resolve("data"), false)) {
            CsiTarget t = fake.target(FakePlugin.config(dir, CsiTarget.AccessType.MOUNT, 1 << 20, Map.of()));
            assertThat(t.uniqueName("x")).matches("x-[0-9a-f]{12}").isNotEqualTo(t.uniqueName("x"));
            assertThat(t.uniqueNameOfLength("csi-max", 128).getBytes(StandardCharsets.UTF_8)).hasSize(128);
        }
    }

    @Test
    void capabilityFollowsTheRunsAccessTypeAndFsType() throws Exception {
        try (FakePlugin fake = new FakePlugin(dir.resolve("data"), false)) {
            CsiTarget mount = fake.target(FakePlugin.config(dir, CsiTarget.AccessType.MOUNT, 1 << 20, Map.of()));
            CsiTarget block = fake.target(FakePlugin.config(dir, CsiTarget.AccessType.BLOCK, 1 << 20, Map.of()));
            VolumeCapability m = mount.capability();
            assertThat(m.getMount().getFsType()).isEqualTo("ext4");
            assertThat(m.getAccessMode().getMode()).isEqualTo(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER);
            assertThat(block.capability().hasBlock()).isTrue();
        }
    }

    @Test
    void defaultRequestCarriesSizeParametersSecretsAndTheNodesTopology() throws Exception {
        try (FakePlugin fake = new FakePlugin(dir.resolve("data"), false)) {
            CsiTarget.Config base = FakePlugin.config(dir, CsiTarget.AccessType.MOUNT, 5 << 20, Map.of("k", "v"));
            CsiTarget.Config c = new CsiTarget.Config(base.endpoint(), base.controllerEndpoint(), base.stagingDir(),
                    base.targetDir(), Map.of("pool", "p1"), base.secrets(), base.volumeSize(), base.accessType(),
                    base.fsType(), base.callTimeout());
            CreateVolumeRequest r = fake.target(c).createVolumeRequest("n").build();
            assertThat(r.getCapacityRange().getRequiredBytes()).isEqualTo(5 << 20);
            assertThat(r.getParametersMap()).containsEntry("pool", "p1");
            assertThat(r.getSecretsMap()).containsEntry("k", "v");
            assertThat(r.getAccessibilityRequirements().getRequisite(0).getSegmentsMap())
                    .containsEntry(FakePlugin.TOPOLOGY_KEY, FakePlugin.NODE_ID);
        }
    }

    @Test
    void gatesSkipWithTheCapabilityName() throws Exception {
        try (FakePlugin fake = new FakePlugin(dir.resolve("data"), false)) {
            fake.controllerCaps.remove(ControllerServiceCapability.RPC.Type.LIST_VOLUMES);
            CsiTarget t = fake.target(FakePlugin.config(dir, CsiTarget.AccessType.MOUNT, 1 << 20, Map.of()));
            t.requireController(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME);
            assertThatThrownBy(() -> t.requireController(ControllerServiceCapability.RPC.Type.LIST_VOLUMES))
                    .isInstanceOf(CheckSkipped.class).hasMessageContaining("LIST_VOLUMES");
        }
    }

    @Test
    void withVolumeDeletesTheVolumeEvenWhenTheBodyFails() throws Exception {
        try (FakePlugin fake = new FakePlugin(dir.resolve("data"), false)) {
            CsiTarget t = fake.target(FakePlugin.config(dir, CsiTarget.AccessType.MOUNT, 1 << 20, Map.of()));
            AtomicReference<String> id = new AtomicReference<>();
            assertThatThrownBy(() -> t.withVolume("csi-with", v -> {
                id.set(v.getVolumeId());
                assertThat(fake.volume(v.getVolumeId())).isPresent();
                throw new IllegalStateException("body failed");
            })).hasMessage("body failed");
            assertThat(fake.volume(id.get())).isEmpty();
            List<String> ids = t.withVolume("csi-with", v -> List.of(v.getVolumeId()));
            assertThat(ids).hasSize(1);
            assertThat(fake.volumesInOrder()).isEmpty();
        }
    }
}
