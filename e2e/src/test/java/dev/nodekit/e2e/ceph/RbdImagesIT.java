package dev.nodekit.e2e.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.csi.rbd.ceph.CephAlreadyExistsException;
import dev.nodekit.csi.rbd.ceph.CephBusyException;
import dev.nodekit.csi.rbd.ceph.CephCredentials;
import dev.nodekit.csi.rbd.ceph.CephException;
import dev.nodekit.csi.rbd.ceph.CephNotFoundException;
import dev.nodekit.csi.rbd.ceph.ImageInfo;
import dev.nodekit.csi.rbd.ceph.ImageOptions;
import dev.nodekit.csi.rbd.ceph.ImageRef;
import dev.nodekit.csi.rbd.ceph.LinkedImage;
import dev.nodekit.csi.rbd.ceph.RadosCluster;
import dev.nodekit.csi.rbd.ceph.RadosConfig;
import dev.nodekit.csi.rbd.ceph.RadosPool;
import dev.nodekit.csi.rbd.ceph.RbdFeature;
import dev.nodekit.csi.rbd.ceph.RbdImages;
import dev.nodekit.csi.rbd.ceph.SnapshotInfo;
import dev.nodekit.csi.rbd.ceph.SnapshotNamespace;
import dev.nodekit.csi.rbd.ceph.TrashEntry;

/** librbd through JNA against the shared fixture, as the restricted CSI user. */
@Requires({Requirement.ROOT, Requirement.CEPH})
class RbdImagesIT {
    private static final long MIB = 1L << 20;

    private static CephCluster ceph;
    private static RadosCluster cluster;
    private static RadosPool pool;
    private static RbdImages images;

    @BeforeAll
    static void connect() throws Exception {
        ceph = CephCluster.shared();
        cluster = RadosCluster.connect(RadosConfig.of(ceph.monitors(), new CephCredentials(ceph.clientId(),
                ceph.clientKey())));
        pool = cluster.openPool(ceph.pool());
        images = pool.images();
    }

    @AfterAll
    static void close() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String name(String what) {
        return "it-" + what + "-" + System.nanoTime();
    }

    @Test
    void createStatResizeRemove() throws Exception {
        String img = name("basic");
        images.create(img, 64 * MIB, ImageOptions.defaults().withFeatures(EnumSet.of(RbdFeature.LAYERING)).withOrder(22));

        ImageInfo info = images.stat(img);
        assertThat(info.name()).isEqualTo(img);
        assertThat(info.sizeBytes()).isEqualTo(64 * MIB);
        assertThat(info.objectBytes()).isEqualTo(4 * MIB);
        assertThat(info.objectCount()).isEqualTo(16);
        assertThat(info.order()).isEqualTo(22);
        assertThat(info.features()).containsExactly(RbdFeature.LAYERING);
        assertThat(info.parent()).isEmpty();
        assertThat(info.id()).isNotBlank().isEqualTo(images.id(img));
        assertThat(images.list()).contains(new ImageRef(info.id(), img));
        // The CLI sees the same image.
        assertThat(ceph.adminOk("rbd", "info", ceph.pool() + "/" + img)).contains("size 64 MiB", "layering");

        assertThatThrownBy(() -> images.create(img, MIB, ImageOptions.defaults()))
                .isInstanceOf(CephAlreadyExistsException.class).hasMessageContaining("image=" + img);

        images.resize(img, 128 * MIB, false);
        assertThat(images.size(img)).isEqualTo(128 * MIB);
        assertThatThrownBy(() -> images.resize(img, 32 * MIB, false))
                .isInstanceOfSatisfying(CephException.class, e -> {
                    assertThat(e.errnoName()).isEqualTo("EINVAL");
                    assertThat(e.getMessage()).contains("allowShrink");
                });
        images.resize(img, 32 * MIB, true);
        assertThat(images.size(img)).isEqualTo(32 * MIB);

        images.remove(img);
        assertThatThrownBy(() -> images.stat(img)).isInstanceOf(CephNotFoundException.class);
        assertThatThrownBy(() -> images.remove(img)).isInstanceOf(CephNotFoundException.class);
    }

    @Test
    void defaultFeaturesComeFromLibrbd() throws Exception {
        String img = name("defaults");
        images.create(img, 16 * MIB, ImageOptions.defaults());
        assertThat(images.stat(img).features()).contains(RbdFeature.LAYERING, RbdFeature.EXCLUSIVE_LOCK,
                RbdFeature.OBJECT_MAP, RbdFeature.FAST_DIFF, RbdFeature.DEEP_FLATTEN);
        images.remove(img);
    }

    @Test
    void snapshotsCloneV2AndFlatten() throws Exception {
        String parent = name("parent");
        String child = name("child");
        images.create(parent, 32 * MIB, ImageOptions.defaults().withFeatures(EnumSet.of(RbdFeature.LAYERING,
                RbdFeature.EXCLUSIVE_LOCK, RbdFeature.OBJECT_MAP, RbdFeature.FAST_DIFF, RbdFeature.DEEP_FLATTEN)));
        long snapId = images.createSnapshot(parent, "s1");
        assertThat(snapId).isPositive();
        assertThat(images.listSnapshots(parent)).singleElement().satisfies(s -> {
            assertThat(s.id()).isEqualTo(snapId);
            assertThat(s.name()).isEqualTo("s1");
            assertThat(s.sizeBytes()).isEqualTo(32 * MIB);
            assertThat(s.namespace()).isEqualTo(SnapshotNamespace.USER);
            assertThat(s.originalName()).isEmpty();
        });
        assertThatThrownBy(() -> images.createSnapshot(parent, "s1")).isInstanceOf(CephAlreadyExistsException.class);

        // Clone v2: no protect.
        images.clone(parent, "s1", child, ImageOptions.defaults());
        ImageInfo c = images.stat(child);
        assertThat(c.parent()).hasValueSatisfying(p -> {
            assertThat(p.image().imageName()).isEqualTo(parent);
            assertThat(p.image().poolName()).isEqualTo(ceph.pool());
            assertThat(p.image().poolId()).isEqualTo(pool.id());
            assertThat(p.snapshot().name()).isEqualTo("s1");
            assertThat(p.snapshot().id()).isEqualTo(snapId);
        });
        assertThat(c.sizeBytes()).isEqualTo(32 * MIB);
        List<LinkedImage> children = images.children(parent, "s1");
        assertThat(children).singleElement().satisfies(l -> {
            assertThat(l.imageName()).isEqualTo(child);
            assertThat(l.imageId()).isEqualTo(c.id());
            assertThat(l.trashed()).isFalse();
        });

        // Removing a snapshot that has clone-v2 children moves it to the trash namespace.
        images.removeSnapshot(parent, "s1");
        List<SnapshotInfo> snaps = images.listSnapshots(parent);
        assertThat(snaps).singleElement().satisfies(s -> {
            assertThat(s.namespace()).isEqualTo(SnapshotNamespace.TRASH);
            assertThat(s.originalName()).hasValue("s1");
            assertThat(s.id()).isEqualTo(snapId);
        });
        assertThat(images.stat(child).parent()).hasValueSatisfying(
                p -> assertThat(p.snapshot().namespace()).isEqualTo(SnapshotNamespace.TRASH));

        images.flatten(child);
        assertThat(images.stat(child).parent()).isEmpty();
        // With its last child gone, librbd removes the trashed snapshot.
        assertThat(images.listSnapshots(parent)).isEmpty();

        images.remove(child);
        images.remove(parent);
    }

    @Test
    void removeSnapshotByIdAndImageWithSnapshotsIsNotEmpty() throws Exception {
        String img = name("snaps");
        images.create(img, 8 * MIB, ImageOptions.defaults());
        long a = images.createSnapshot(img, "a");
        images.createSnapshot(img, "b");
        assertThatThrownBy(() -> images.remove(img)).isInstanceOfSatisfying(CephException.class, e -> {
            assertThat(e.errnoName()).isEqualTo("ENOTEMPTY");
            assertThat(e.getMessage()).contains("snapshots");
        });
        images.removeSnapshotById(img, a);
        assertThat(images.listSnapshots(img)).extracting(SnapshotInfo::name).containsExactly("b");
        images.removeSnapshot(img, "b");
        assertThatThrownBy(() -> images.removeSnapshot(img, "b")).isInstanceOf(CephNotFoundException.class);
        images.remove(img);
    }

    @Test
    void trashMoveListAndRemove() throws Exception {
        String img = name("trash");
        images.create(img, 8 * MIB, ImageOptions.defaults());
        String id = images.id(img);
        images.createSnapshot(img, "keep");
        images.moveToTrash(img, Duration.ofHours(1));

        assertThat(images.list()).extracting(ImageRef::name).doesNotContain(img);
        assertThatThrownBy(() -> images.stat(img)).isInstanceOf(CephNotFoundException.class);
        TrashEntry entry = images.listTrash().stream().filter(t -> t.id().equals(id)).findFirst().orElseThrow();
        assertThat(entry.name()).isEqualTo(img);
        assertThat(entry.source()).isEqualTo(TrashEntry.Source.USER);
        assertThat(entry.deferredUntil()).isAfter(entry.deletedAt().plus(Duration.ofMinutes(59)));
        assertThat(ceph.adminOk("rbd", "trash", "ls", "-p", ceph.pool())).contains(id);

        // Deferred: a non-forced removal is refused until the deferment ends.
        assertThatThrownBy(() -> images.removeFromTrash(id, false)).isExactlyInstanceOf(CephException.class)
                .hasMessageContaining("deferment");
        // An image with snapshots cannot be purged; remove them as admin, then force-purge.
        ceph.adminOk("rbd", "trash", "restore", "-p", ceph.pool(), id);
        images.removeSnapshot(img, "keep");
        images.moveToTrash(img, Duration.ZERO);
        images.removeFromTrash(id, true);
        assertThat(images.listTrash()).extracting(TrashEntry::id).doesNotContain(id);
    }

    @Test
    void metadataRoundTrip() throws Exception {
        String img = name("meta");
        images.create(img, 8 * MIB, ImageOptions.defaults());
        assertThat(images.getMetadata(img, "csi.volname")).isEmpty();
        images.setMetadata(img, "csi.volname", "pvc-123");
        String big = "x".repeat(1000);
        images.setMetadata(img, "big", big);
        assertThat(images.getMetadata(img, "csi.volname")).hasValue("pvc-123");
        assertThat(images.getMetadata(img, "big")).hasValue(big);
        assertThat(ceph.adminOk("rbd", "image-meta", "get", ceph.pool() + "/" + img, "csi.volname").strip())
                .isEqualTo("pvc-123");
        images.removeMetadata(img, "csi.volname");
        assertThat(images.getMetadata(img, "csi.volname")).isEmpty();
        assertThatThrownBy(() -> images.removeMetadata(img, "csi.volname")).isInstanceOf(CephNotFoundException.class);
        images.remove(img);
    }

    @Test
    void watchersShowAnImageInUseAndBlockItsRemoval() throws Exception {
        String img = name("watched");
        images.create(img, 8 * MIB, ImageOptions.defaults());
        assertThat(images.watchers(img)).isEmpty();

        // 'rados watch' holds a watch on the image header until it reads a line from stdin.
        Process watch = new ProcessBuilder("rados", "-c", ceph.confPath().toString(), "-p", ceph.pool(), "watch",
                "rbd_header." + images.id(img)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(new File("/dev/null"))).start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (images.watchers(img).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(images.watchers(img)).singleElement()
                    .satisfies(w -> assertThat(w.address()).contains("127.0.0.1"));
            assertThatThrownBy(() -> images.remove(img)).isInstanceOfSatisfying(CephBusyException.class,
                    e -> assertThat(e.getMessage()).contains("watchers"));
        } finally {
            try (OutputStream in = watch.getOutputStream()) {
                in.write("\n".getBytes(StandardCharsets.UTF_8));
            }
            if (!watch.waitFor(20, TimeUnit.SECONDS)) {
                watch.destroyForcibly().waitFor();
            }
        }
        assertThat(images.watchers(img)).isEmpty();
        images.remove(img);
    }

    @Test
    void namesAreValidatedBeforeAnyNativeCall() {
        assertThatThrownBy(() -> images.create("a/b", MIB, ImageOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> images.createSnapshot("img", "s@1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> images.create("x", 0, ImageOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
