package dev.nodekit.conformance.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.nodekit.spec.cri.v1.Image;

/** The target's config rules, kubelet-style pod cgroup names and image name matching. */
class CriTargetTest {
    @Test
    void defaultsAndWithers() {
        CriTarget.Config c = CriTarget.Config.of("unix:///run/containerd/containerd.sock");
        assertThat(c.image()).isEqualTo(CriTarget.DEFAULT_IMAGE);
        assertThat(c.runtimeHandler()).isEmpty();
        assertThat(c.cgroupParent()).isEmpty();
        CriTarget.Config viaShim = c.withImageEndpoint("unix:///run/img.sock").withEndpoint("unix:///run/nodekit/cri.sock");
        assertThat(viaShim.endpoint()).isEqualTo("unix:///run/nodekit/cri.sock");
        assertThat(viaShim.imageEndpoint()).contains("unix:///run/nodekit/cri.sock");
        assertThat(c.withCgroupParent("").cgroupParent()).isEmpty();
    }

    @Test
    void rejectsWhatCannotWork() {
        CriTarget.Config c = CriTarget.Config.of("unix:///x.sock");
        assertThatThrownBy(() -> CriTarget.Config.of("tcp://127.0.0.1:1")).hasMessageContaining("not a unix socket");
        assertThatThrownBy(() -> c.withImage(" ")).hasMessageContaining("--image");
        assertThatThrownBy(() -> c.withCgroupParent("/a/../../etc")).hasMessageContaining("--cgroup-parent");
        assertThatThrownBy(() -> c.withCgroupParent("a b")).hasMessageContaining("--cgroup-parent");
        assertThatThrownBy(() -> c.withLogRoot(Path.of("logs"))).hasMessageContaining("absolute");
        assertThatThrownBy(() -> c.withCallTimeout(java.time.Duration.ZERO)).hasMessageContaining("positive");
    }

    @Test
    void podCgroupsAreNamedAsKubeletNamesThem() {
        CriTarget.Config c = CriTarget.Config.of("unix:///x.sock");
        assertThat(c.withCgroupParent("/nodekit").podCgroup("1-2")).contains("/nodekit/pod1-2");
        assertThat(c.withCgroupParent("kubepods-besteffort.slice").podCgroup("1-2"))
                .contains("kubepods-besteffort-pod1_2.slice");
        assertThat(c.podCgroup("1-2")).isEmpty();
    }

    @Test
    void imageNamesAreNormalizedLikeTheRuntimeListsThem() {
        assertThat(ImageRefs.normalize("busybox")).isEqualTo("docker.io/library/busybox:latest");
        assertThat(ImageRefs.normalize("me/app:1")).isEqualTo("docker.io/me/app:1");
        assertThat(ImageRefs.normalize("localhost/busybox:1")).isEqualTo("localhost/busybox:1");
        assertThat(ImageRefs.normalize("registry.k8s.io/pause")).isEqualTo("registry.k8s.io/pause:latest");
        assertThat(ImageRefs.normalize("localhost:5000/a/b@sha256:00")).isEqualTo("localhost:5000/a/b@sha256:00");
        Image i = Image.newBuilder().setId("sha256:1").addAllRepoTags(List.of("docker.io/library/busybox:latest")).build();
        assertThat(ImageRefs.matches(i, "busybox")).isTrue();
        assertThat(ImageRefs.matches(i, "sha256:1")).isTrue();
        assertThat(ImageRefs.matches(i, "busybox:1")).isFalse();
    }

    @Test
    void timingsKeepMediansPerRpc() {
        RpcTimings t = new RpcTimings();
        for (long ms : new long[] {5, 1, 3}) {
            t.record("Version", ms * 1_000_000);
        }
        t.record("ListContainers", 2_000_000);
        t.record("ListContainers", 4_000_000);
        assertThat(t.stats()).extracting(RpcTimings.Stats::line)
                .containsExactly("ListContainers n=2 p50=3.0ms max=4.0ms", "Version n=3 p50=3.0ms max=5.0ms");
    }
}
