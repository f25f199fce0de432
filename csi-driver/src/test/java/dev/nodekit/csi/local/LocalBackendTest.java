package dev.nodekit.csi.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.csi.spi.Attachment;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.Image;
import dev.nodekit.csi.spi.ImageSpec;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.PageRequest;
import dev.nodekit.csi.spi.Snapshot;
import dev.nodekit.csi.spi.SnapshotSpec;
import dev.nodekit.csi.spi.StorageException;

/** Local-backend rules beyond the contract: pools, limits, undo on failure, concurrency, attach logic on a fake kernel. */
class LocalBackendTest {
    private static final long SIZE = 4 << 20;
    private static final Credentials NONE = Credentials.none();

    @TempDir
    Path dir;
    FakeLoops loops;
    HookedFiles files;
    LocalBackend backend;

    /** DataFiles whose operations a test can stop or break. */
    static final class HookedFiles extends DataFiles {
        final AtomicReference<CyclicBarrier> barrier = new AtomicReference<>();
        final AtomicReference<CountDownLatch> gate = new AtomicReference<>();
        final CountDownLatch entered = new CountDownLatch(1);
        final AtomicReference<IOException> failure = new AtomicReference<>();

        HookedFiles() {
            super(true, true);
        }

        @Override
        Method createSparse(Path file, long size) throws IOException {
            Method m = super.createSparse(file, size);
            hook();
            return m;
        }

        @Override
        Method copy(Path source, Path target, long size) throws IOException {
            Method m = super.copy(source, target, size);
            hook();
            return m;
        }

        private void hook() throws IOException {
            try {
                CyclicBarrier b = barrier.get();
                if (b != null) {
                    b.await(20, TimeUnit.SECONDS);
                }
                CountDownLatch g = gate.get();
                if (g != null) {
                    entered.countDown();
                    g.await(20, TimeUnit.SECONDS);
                }
            } catch (Exception e) {
                throw new IOException("hook: " + e, e);
            }
            IOException f = failure.get();
            if (f != null) {
                throw f;
            }
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        loops = new FakeLoops(dir.resolve("sys-block"));
        files = new HookedFiles();
        backend = open(LocalBackendConfig.of(dir.resolve("data"), "node-a"));
    }

    @AfterEach
    void tearDown() {
        backend.close();
    }

    private LocalBackend open(LocalBackendConfig config) throws IOException {
        return LocalBackend.open(config, loops.runner, Clock.systemUTC(), loops.sysBlock, files);
    }

    private LocalBackend reopen(LocalBackendConfig config) throws IOException {
        backend.close();
        backend = open(config);
        return backend;
    }

    private static ImageSpec spec(String name, long size, Map<String, String> params) {
        return new ImageSpec(name, Optional.empty(), size, Optional.empty(), params, Map.of());
    }

    // ------------------------------------------------------------ concurrency

    @Test
    void createsOfDifferentNamesOverlapInsideTheBackend() throws Exception {
        // Each create waits inside the backend (after its data file exists, before its commit) until all 8 are
        // there: this only completes if no lock is shared between different names.
        files.barrier.set(new CyclicBarrier(8));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Image>> futures = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String name = "par-" + i;
                futures.add(pool.submit(() -> backend.createImage(spec(name, SIZE, Map.of()), NONE)));
            }
            for (Future<Image> f : futures) {
                assertThat(f.get(60, TimeUnit.SECONDS).sizeBytes()).isEqualTo(SIZE);
            }
        } finally {
            pool.shutdownNow();
        }
        files.barrier.set(null);
        assertThat(backend.listImages(PageRequest.all(), NONE).items()).hasSize(8);
    }

    @Test
    void aSecondCallOnABusyNameAnswersPendingAfterTheLockWait() throws Exception {
        backend = reopen(LocalBackendConfig.of(dir.resolve("data"), "node-a").withLockWait(Duration.ofMillis(100)));
        CountDownLatch release = new CountDownLatch(1);
        files.gate.set(release);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Image> first = pool.submit(() -> backend.createImage(spec("busy", SIZE, Map.of()), NONE));
            assertThat(files.entered.await(20, TimeUnit.SECONDS)).isTrue();
            files.gate.set(null);
            assertThatThrownBy(() -> backend.createImage(spec("busy", SIZE, Map.of()), NONE))
                    .isInstanceOf(StorageException.Pending.class).hasMessageContaining("busy");
            // Another name does not wait.
            assertThat(backend.createImage(spec("free", SIZE, Map.of()), NONE).name()).isEqualTo("free");
            release.countDown();
            Image made = first.get(20, TimeUnit.SECONDS);
            assertThat(backend.createImage(spec("busy", SIZE, Map.of()), NONE)).isEqualTo(made);
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    // ------------------------------------------------------------ failures undo

    @Test
    void aFailedCreateUndoesItsReservationAndFile() throws Exception {
        files.failure.set(new IOException("write failed: No space left on device"));
        assertThatThrownBy(() -> backend.createImage(spec("full", SIZE, Map.of()), NONE))
                .isInstanceOf(StorageException.CapacityExceeded.class).hasMessageContaining("full");
        files.failure.set(new IOException("disk on fire"));
        assertThatThrownBy(() -> backend.createImage(spec("fire", SIZE, Map.of()), NONE))
                .isInstanceOf(StorageException.Internal.class).hasMessageContaining("disk on fire");
        files.failure.set(null);
        assertThat(backend.findImageByName("full", NONE)).isEmpty();
        assertThat(backend.journal().all(RecordKind.IMAGE)).isEmpty();
        assertThat(backend.journal().provisionedBytes()).isZero();
        try (var s = Files.list(dir.resolve("data/pools/default/images"))) {
            assertThat(s.toList()).isEmpty();
        }
        assertThat(backend.createImage(spec("full", SIZE, Map.of()), NONE).name()).isEqualTo("full");
    }

    @Test
    void aFailedSnapshotUndoesToo() throws Exception {
        Image a = backend.createImage(spec("a", SIZE, Map.of()), NONE);
        files.failure.set(new IOException("copy failed"));
        assertThatThrownBy(() -> backend.createSnapshot(new SnapshotSpec("s", a.id(), Map.of()), NONE))
                .isInstanceOf(StorageException.Internal.class);
        files.failure.set(null);
        assertThat(backend.listSnapshots(Optional.empty(), Optional.empty(), PageRequest.all(), NONE).items()).isEmpty();
        assertThat(LocalDataDirCheck.inspect(backend.dataDir()).problems()).isEmpty();
    }

    // ------------------------------------------------------------ pools, limits, parameters

    @Test
    void poolsAreChosenByParameterAndValidated() throws Exception {
        backend = reopen(LocalBackendConfig.of(dir.resolve("data"), "node-a")
                .withPools("default", Set.of("default", "fast")));
        Image fast = backend.createImage(spec("f", SIZE, Map.of("pool", "fast")), NONE);
        assertThat(fast.id().pool()).isEqualTo("fast");
        assertThat(dir.resolve("data/pools/fast/images/" + fast.id().uuid() + ".img")).exists();
        assertThat(backend.createImage(spec("d", SIZE, Map.of()), NONE).id().pool()).isEqualTo("default");
        assertThatThrownBy(() -> backend.createImage(spec("x", SIZE, Map.of("pool", "slow")), NONE))
                .isInstanceOf(StorageException.InvalidArgument.class).hasMessageContaining("not configured");
        for (String bad : List.of("../etc", ".hidden", "a/b", "", "x".repeat(25), "a b")) {
            assertThatThrownBy(() -> backend.createImage(spec("x", SIZE, Map.of("pool", bad)), NONE))
                    .as(bad).isInstanceOf(StorageException.InvalidArgument.class).hasMessageContaining("invalid");
        }
        ImageSpec disagree = new ImageSpec("x", Optional.of("default"), SIZE, Optional.empty(), Map.of("pool", "fast"),
                Map.of());
        assertThatThrownBy(() -> backend.createImage(disagree, NONE)).isInstanceOf(StorageException.InvalidArgument.class);
        assertThatThrownBy(() -> backend.capacity(Map.of("pool", "nope"), NONE))
                .isInstanceOf(StorageException.InvalidArgument.class);
        // A snapshot lives in its source's pool.
        Snapshot s = backend.createSnapshot(new SnapshotSpec("s", fast.id(), Map.of()), NONE);
        assertThat(s.id().pool()).isEqualTo("fast");
        // A pool dropped from the config stays readable.
        backend = reopen(LocalBackendConfig.of(dir.resolve("data"), "node-a"));
        assertThat(backend.findImage(fast.id(), NONE)).isPresent();
        assertThatThrownBy(() -> backend.createImage(spec("f2", SIZE, Map.of("pool", "fast")), NONE))
                .isInstanceOf(StorageException.InvalidArgument.class);
    }

    @Test
    void theCapacityLimitHoldsUnderConcurrency() throws Exception {
        backend = reopen(LocalBackendConfig.of(dir.resolve("data"), "node-a").withCapacityLimit(4 * SIZE));
        assertThat(backend.capacity(Map.of(), NONE).availableBytes()).isEqualTo(4 * SIZE);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Object>> futures = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                String name = "c" + i;
                futures.add(pool.submit(() -> {
                    try {
                        return backend.createImage(spec(name, SIZE, Map.of()), NONE);
                    } catch (StorageException e) {
                        return e;
                    }
                }));
            }
            int ok = 0;
            for (Future<Object> f : futures) {
                Object o = f.get(60, TimeUnit.SECONDS);
                if (o instanceof Image) {
                    ok++;
                } else {
                    assertThat(o).isInstanceOf(StorageException.CapacityExceeded.class);
                }
            }
            assertThat(ok).isEqualTo(4);
        } finally {
            pool.shutdownNow();
        }
        assertThat(backend.capacity(Map.of(), NONE).availableBytes()).isZero();
        Image one = backend.listImages(PageRequest.all(), NONE).items().get(0);
        assertThatThrownBy(() -> backend.resizeImage(one.id(), 2 * SIZE, NONE))
                .isInstanceOf(StorageException.CapacityExceeded.class);
        backend.deleteImage(one.id(), NONE);
        assertThat(backend.capacity(Map.of(), NONE).availableBytes()).isEqualTo(SIZE);
        // The accounting is rebuilt from the journal after a restart.
        backend = reopen(LocalBackendConfig.of(dir.resolve("data"), "node-a").withCapacityLimit(4 * SIZE));
        assertThat(backend.capacity(Map.of(), NONE).availableBytes()).isEqualTo(SIZE);
    }

    @Test
    void theLargestImageIsEnforced() throws Exception {
        backend = reopen(LocalBackendConfig.of(dir.resolve("data"), "node-a").withMaxImageBytes(2 * SIZE));
        assertThat(backend.capacity(Map.of(), NONE).maximumVolumeSize()).isEqualTo(2 * SIZE);
        assertThatThrownBy(() -> backend.createImage(spec("big", 3 * SIZE, Map.of()), NONE))
                .isInstanceOf(StorageException.OutOfRange.class);
        Image a = backend.createImage(spec("a", SIZE, Map.of()), NONE);
        assertThatThrownBy(() -> backend.resizeImage(a.id(), 3 * SIZE, NONE))
                .isInstanceOf(StorageException.OutOfRange.class);
    }

    @Test
    void snapshotParametersAreRejectedAndTokensAreTyped() throws Exception {
        Image a = backend.createImage(spec("a", SIZE, Map.of()), NONE);
        backend.createImage(spec("b", SIZE, Map.of()), NONE);
        assertThatThrownBy(() -> backend.createSnapshot(new SnapshotSpec("s", a.id(), Map.of("x", "y")), NONE))
                .isInstanceOf(StorageException.InvalidArgument.class);
        backend.createSnapshot(new SnapshotSpec("s1", a.id(), Map.of()), NONE);
        backend.createSnapshot(new SnapshotSpec("s2", a.id(), Map.of()), NONE);
        String imageToken = backend.listImages(new PageRequest("", 1), NONE).nextToken().orElseThrow();
        String snapshotToken = backend.listSnapshots(Optional.empty(), Optional.empty(), new PageRequest("", 1), NONE)
                .nextToken().orElseThrow();
        assertThatThrownBy(() -> backend.listSnapshots(Optional.empty(), Optional.empty(),
                new PageRequest(imageToken, 1), NONE)).isInstanceOf(StorageException.InvalidToken.class);
        assertThatThrownBy(() -> backend.listImages(new PageRequest(snapshotToken, 1), NONE))
                .isInstanceOf(StorageException.InvalidToken.class);
        // A token survives the deletion of the entry it names.
        Image first = backend.listImages(new PageRequest("", 1), NONE).items().get(0);
        backend.deleteImage(first.id(), NONE);
        assertThat(backend.listImages(new PageRequest(imageToken, 1), NONE).items()).hasSize(1);
    }

    // ------------------------------------------------------------ files

    @Test
    void imagesAreSparseAndSnapshotsReadOnly() throws Exception {
        Image a = backend.createImage(spec("a", 64 << 20, Map.of()), NONE);
        Path img = dir.resolve("data/pools/default/images/" + a.id().uuid() + ".img");
        assertThat(Files.size(img)).isEqualTo(64 << 20);
        assertThat(DataFilesTest.allocatedBytes(img)).isLessThan(1 << 20);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(img))).isEqualTo("rw-------");
        Snapshot s = backend.createSnapshot(new SnapshotSpec("s", a.id(), Map.of()), NONE);
        Path snap = dir.resolve("data/pools/default/snapshots/" + s.id().uuid() + ".snap");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(snap))).isEqualTo("r--------");
        assertThat(DataFilesTest.allocatedBytes(snap)).isLessThan(1 << 20);
        backend.deleteSnapshot(s.id(), NONE);
        assertThat(snap).doesNotExist();
    }

    @Test
    void aClosedBackendAnswersUnavailable() throws Exception {
        backend.close();
        assertThat(backend.health().healthy()).isFalse();
        assertThatThrownBy(() -> backend.createImage(spec("a", SIZE, Map.of()), NONE))
                .isInstanceOf(StorageException.Unavailable.class);
        backend.close();
    }

    // ------------------------------------------------------------ attach on a fake kernel

    @Test
    void attachRecordsTheDeviceAndDetachChecksItFirst() throws Exception {
        Image a = backend.createImage(spec("a", SIZE, Map.of()), NONE);
        Path file = backend.dataDir().resolve("pools/default/images/" + a.id().uuid() + ".img");
        Attachment att = backend.attach(a.id(), true, NONE);
        assertThat(att.readOnly()).isTrue();
        assertThat(att.state()).containsEntry("backingFile", file.toString());
        assertThat(loops.runner.argvs()).containsExactly(List.of("losetup", "--find", "--show", "--read-only",
                file.toString()));
        assertThat(backend.attach(a.id(), true, NONE)).isEqualTo(att);
        assertThat(loops.count("losetup")).isEqualTo(1);
        assertThatThrownBy(() -> backend.deleteImage(a.id(), NONE))
                .isInstanceOf(StorageException.FailedPrecondition.class).hasMessageContaining(att.device().toString());
        backend.resizeImage(a.id(), 2 * SIZE, NONE);
        backend.refreshAttachment(a.id());
        assertThat(loops.runner.argvs()).contains(List.of("losetup", "-c", att.device().toString()));

        backend.detach(a.id());
        assertThat(loops.runner.argvs()).contains(List.of("losetup", "-d", att.device().toString()));
        assertThat(backend.findAttachment(a.id())).isEmpty();
        backend.detach(a.id());
        assertThat(loops.count("losetup", "-d")).isEqualTo(1);
        assertThatThrownBy(() -> backend.refreshAttachment(a.id())).isInstanceOf(StorageException.NotFound.class);
        backend.deleteImage(a.id(), NONE);
    }

    @Test
    void aReusedDeviceNumberIsNeverDetached() throws Exception {
        Image a = backend.createImage(spec("a", SIZE, Map.of()), NONE);
        Attachment att = backend.attach(a.id(), false, NONE);
        // The device was lost and its number now backs someone else's file.
        loops.detach(att.device().toString());
        Path stranger = Files.writeString(dir.resolve("stranger.img"), "x");
        Files.createDirectories(loops.sysBlock.resolve(att.device().getFileName().toString()).resolve("loop"));
        Files.writeString(loops.sysBlock.resolve(att.device().getFileName() + "/loop/backing_file"),
                stranger.toString());
        assertThat(backend.findAttachment(a.id())).isEmpty();
        backend.detach(a.id());
        assertThat(loops.count("losetup", "-d")).isZero();
        // attach makes a new device instead of trusting the old number.
        Attachment again = backend.attach(a.id(), false, NONE);
        assertThat(again.device()).isNotEqualTo(att.device());
        backend.detach(a.id());
    }

    @Test
    void aManuallyAttachedImageCannotBeDeleted() throws Exception {
        Image a = backend.createImage(spec("a", SIZE, Map.of()), NONE);
        loops.attach(backend.dataDir().resolve("pools/default/images/" + a.id().uuid() + ".img"), false);
        assertThatThrownBy(() -> backend.deleteImage(a.id(), NONE))
                .isInstanceOf(StorageException.FailedPrecondition.class);
        // attach adopts the existing device rather than attaching a second one
        Attachment att = backend.attach(a.id(), false, NONE);
        assertThat(loops.count("losetup", "--find")).isZero();
        backend.detach(a.id());
        assertThat(loops.count("losetup", "-d")).isEqualTo(1);
        backend.deleteImage(a.id(), NONE);
        assertThat(att.image()).isEqualTo(a.id());
    }

    @Test
    void attachOfAnUnknownImageIsNotFound() {
        ObjectId unknown = ObjectId.newVolume("local", "node-a", "default");
        assertThatThrownBy(() -> backend.attach(unknown, false, NONE)).isInstanceOf(StorageException.NotFound.class);
        assertThat(loops.runner.argvs()).isEmpty();
    }
}
