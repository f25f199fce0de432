package dev.nodekit.csi.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.RequirementExtension;

/**
 * The contract every {@link StorageBackend} must pass: idempotency by name, conflicts, lookups,
 * deletes of what is absent, resize rules, snapshots with filters and pagination, restores and
 * clones, capacity, concurrency, foreign ids, persistence across a reopen and, for backends that
 * can attach on this host, the data itself read back through the block device.
 *
 * <p>Subclass it once per backend: {@code class LocalBackendContractTest extends
 * StorageBackendContract}. Published in the csi-driver test-jar. Object names are unique per test
 * (a random suffix), so a backend on shared storage (a Ceph pool) can run it; everything a test
 * creates is detached and deleted afterwards.
 *
 * <p>The data tests need root and loop devices (or the backend's own attach path): they first
 * check {@link #canAttach()} (false: skipped as "this backend cannot attach here"), then the
 * {@link Requirement#ROOT} and {@link Requirement#LOOP_DEVICES} requirements like
 * {@code @Requires} does (skipped, or failed in strict mode, when missing). The order matters: a
 * backend that declares it cannot attach must not fail a strict run on a host without root.
 */
public abstract class StorageBackendContract {
    /** One mebibyte. */
    protected static final long MIB = 1L << 20;
    private static final int BLOCK = 4096;

    /** The backend under test, opened by {@link #newBackend()} before each test. */
    protected StorageBackend backend;
    private final Set<ObjectId> createdImages = Collections.synchronizedSet(new LinkedHashSet<>());
    private final Set<ObjectId> createdSnapshots = Collections.synchronizedSet(new LinkedHashSet<>());
    private String prefix;

    /** A backend on fresh (or shared, see the class notes) storage; called before each test. */
    protected abstract StorageBackend newBackend() throws Exception;

    /** Closes {@code old} and opens a backend on the same storage: persistence is proven by reopening. */
    protected abstract StorageBackend reopen(StorageBackend old) throws Exception;

    /** True when this backend can attach images on this host (the data tests run only then). */
    protected abstract boolean canAttach();

    /** The credentials passed on every call. */
    protected Credentials credentials() {
        return Credentials.none();
    }

    /** The parameters of the images the contract creates (e.g. a pool). */
    protected Map<String, String> parameters() {
        return Map.of();
    }

    /** The size of the images the contract creates; a multiple of 1 MiB. */
    protected long imageSize() {
        return 16 * MIB;
    }

    @BeforeEach
    void openBackend(TestInfo info) throws Exception {
        prefix = "contract-" + info.getTestMethod().map(m -> m.getName()).orElse("t") + "-"
                + UUID.randomUUID().toString().substring(0, 8) + "-";
        backend = newBackend();
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (backend == null) {
            return;
        }
        List<Exception> problems = new ArrayList<>();
        for (ObjectId id : List.copyOf(createdImages)) {
            try {
                backend.detach(id);
            } catch (Exception e) {
                problems.add(e);
            }
        }
        for (ObjectId id : List.copyOf(createdSnapshots)) {
            try {
                backend.deleteSnapshot(id, credentials());
            } catch (Exception e) {
                problems.add(e);
            }
        }
        for (ObjectId id : List.copyOf(createdImages)) {
            try {
                backend.deleteImage(id, credentials());
            } catch (Exception e) {
                problems.add(e);
            }
        }
        backend.close();
        if (!problems.isEmpty()) {
            AssertionError e = new AssertionError("cleaning up after the test failed: " + problems);
            problems.forEach(e::addSuppressed);
            throw e;
        }
    }

    // ------------------------------------------------------------------ images

    @Test
    void createIsIdempotentByName() throws Exception {
        ImageSpec spec = spec("a", imageSize());
        Image first = create(spec);
        Image again = create(spec);
        assertThat(again.id()).isEqualTo(first.id());
        assertThat(again).isEqualTo(first);
        assertThat(first.name()).isEqualTo(spec.name());
        assertThat(first.sizeBytes()).isEqualTo(imageSize());
        assertThat(first.source()).isEmpty();
        assertThat(first.metadata()).isEqualTo(spec.metadata());
        assertThat(first.id().kind()).isEqualTo(ObjectId.Kind.VOLUME);
        assertThat(first.id().backend()).isEqualTo(backend.kind());
        assertThat(backend.findImage(first.id(), credentials())).contains(first);
        assertThat(backend.findImageByName(spec.name(), credentials())).contains(first);
        assertThat(allImages()).contains(first);
        assertThat(backend.imageCondition(first.id(), credentials())).as("a new image is healthy").isEmpty();
    }

    @Test
    void incompatibleRecreateConflicts() throws Exception {
        ImageSpec spec = spec("a", imageSize());
        create(spec);
        assertThatThrownBy(() -> create(withSize(spec, imageSize() * 2)))
                .isInstanceOf(StorageException.Conflict.class).hasMessageContaining(spec.name());
        ImageSpec otherMetadata = new ImageSpec(spec.name(), spec.pool(), spec.sizeBytes(), spec.source(),
                spec.parameters(), Map.of("contract", "other"));
        assertThatThrownBy(() -> create(otherMetadata)).isInstanceOf(StorageException.Conflict.class);
        Image source = create(spec("src", imageSize()));
        ImageSpec withSource = new ImageSpec(spec.name(), spec.pool(), spec.sizeBytes(),
                Optional.of(new ContentSource.FromImage(source.id())), spec.parameters(), spec.metadata());
        assertThatThrownBy(() -> create(withSource)).isInstanceOf(StorageException.Conflict.class);
    }

    @Test
    void unknownObjectsAreAbsent() throws Exception {
        Image image = create(spec("a", imageSize()));
        ObjectId unknown = new ObjectId(ObjectId.Kind.VOLUME, image.id().backend(), image.id().cluster(),
                image.id().pool(), UUID.randomUUID());
        assertThat(backend.findImage(unknown, credentials())).isEmpty();
        assertThat(backend.findImageByName(prefix + "never-created", credentials())).isEmpty();
        ObjectId unknownSnapshot = new ObjectId(ObjectId.Kind.SNAPSHOT, image.id().backend(), image.id().cluster(),
                image.id().pool(), UUID.randomUUID());
        assertThat(backend.findSnapshot(unknownSnapshot, credentials())).isEmpty();
        assertThatThrownBy(() -> backend.resizeImage(unknown, imageSize() * 2, credentials()))
                .isInstanceOf(StorageException.NotFound.class);
        assertThatThrownBy(() -> backend.imageCondition(unknown, credentials()))
                .isInstanceOf(StorageException.NotFound.class);
        assertThatThrownBy(() -> backend.createSnapshot(new SnapshotSpec(prefix + "s", unknown, Map.of()),
                credentials())).isInstanceOf(StorageException.NotFound.class);
    }

    @Test
    void deleteSucceedsWhenAbsent() throws Exception {
        Image image = create(spec("a", imageSize()));
        backend.deleteImage(image.id(), credentials());
        assertThat(backend.findImage(image.id(), credentials())).isEmpty();
        assertThat(backend.findImageByName(image.name(), credentials())).isEmpty();
        assertThat(allImages()).doesNotContain(image);
        backend.deleteImage(image.id(), credentials());
        backend.deleteImage(new ObjectId(ObjectId.Kind.VOLUME, image.id().backend(), image.id().cluster(),
                image.id().pool(), UUID.randomUUID()), credentials());
        Image recreated = create(spec("a", imageSize()));
        assertThat(recreated.id()).isNotEqualTo(image.id());
    }

    @Test
    void resizeGrowsAndRefusesShrink() throws Exception {
        Image image = create(spec("a", imageSize()));
        Image grown = backend.resizeImage(image.id(), imageSize() * 2, credentials());
        assertThat(grown.sizeBytes()).isEqualTo(imageSize() * 2);
        assertThat(backend.findImage(image.id(), credentials()).orElseThrow().sizeBytes()).isEqualTo(imageSize() * 2);
        assertThat(backend.resizeImage(image.id(), imageSize() * 2, credentials()).sizeBytes())
                .isEqualTo(imageSize() * 2);
        assertThatThrownBy(() -> backend.resizeImage(image.id(), imageSize(), credentials()))
                .isInstanceOf(StorageException.OutOfRange.class);
        // Idempotency compares the creation request, not the current size.
        assertThat(create(spec("a", imageSize())).id()).isEqualTo(image.id());
    }

    @Test
    void unknownParametersAreRejected() throws Exception {
        assertThat(backend.parameterKeys()).isNotNull().doesNotContain("nodekit-contract-unknown");
        Map<String, String> params = new java.util.HashMap<>(parameters());
        params.put("nodekit-contract-unknown", "x");
        ImageSpec spec = new ImageSpec(prefix + "p", Optional.empty(), imageSize(), Optional.empty(), params, Map.of());
        assertThatThrownBy(() -> create(spec)).isInstanceOf(StorageException.InvalidArgument.class)
                .hasMessageContaining("nodekit-contract-unknown");
    }

    @Test
    void listImagesPagesThroughEverything() throws Exception {
        Set<ObjectId> mine = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            mine.add(create(spec("l" + i, imageSize())).id());
        }
        List<ObjectId> seen = new ArrayList<>();
        String token = "";
        int pages = 0;
        do {
            Page<Image> page = backend.listImages(new PageRequest(token, 2), credentials());
            assertThat(page.items().size()).isLessThanOrEqualTo(2);
            page.items().forEach(i -> seen.add(i.id()));
            token = page.nextToken().orElse("");
            assertThat(++pages).as("pages").isLessThan(1000);
        } while (!token.isEmpty());
        assertThat(seen).doesNotHaveDuplicates().containsAll(mine);
        assertThatThrownBy(() -> backend.listImages(new PageRequest("not-a-token-we-handed-out", 2), credentials()))
                .isInstanceOf(StorageException.InvalidToken.class);
    }

    @Test
    void capacityIsSane() throws Exception {
        Capacity c = backend.capacity(parameters(), credentials());
        assertThat(c.availableBytes()).isPositive();
        assertThat(c.totalBytes()).isGreaterThanOrEqualTo(c.availableBytes());
        assertThat(c.maximumVolumeSize() == 0 || c.maximumVolumeSize() >= imageSize()).isTrue();
        assertThat(backend.health().healthy()).as(backend.health().message()).isTrue();
    }

    // ------------------------------------------------------------------ snapshots

    @Test
    void snapshotsAreIdempotentAndConflictOnAnotherSource() throws Exception {
        Image a = create(spec("a", imageSize()));
        Image b = create(spec("b", imageSize()));
        Snapshot s = snapshot("s", a.id());
        assertThat(snapshot("s", a.id())).isEqualTo(s);
        assertThat(s.source()).isEqualTo(a.id());
        assertThat(s.sizeBytes()).isEqualTo(a.sizeBytes());
        assertThat(s.readyToUse()).isTrue();
        assertThat(s.id().kind()).isEqualTo(ObjectId.Kind.SNAPSHOT);
        assertThat(backend.findSnapshot(s.id(), credentials())).contains(s);
        assertThatThrownBy(() -> snapshot("s", b.id())).isInstanceOf(StorageException.Conflict.class);
        backend.deleteSnapshot(s.id(), credentials());
        assertThat(backend.findSnapshot(s.id(), credentials())).isEmpty();
        backend.deleteSnapshot(s.id(), credentials());
    }

    @Test
    void listSnapshotsFiltersAndPages() throws Exception {
        Image a = create(spec("a", imageSize()));
        Image b = create(spec("b", imageSize()));
        List<Snapshot> ofA = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ofA.add(snapshot("a" + i, a.id()));
        }
        List<Snapshot> ofB = List.of(snapshot("b0", b.id()), snapshot("b1", b.id()));
        assertThat(backend.listSnapshots(Optional.of(a.id()), Optional.empty(), PageRequest.all(), credentials())
                .items()).containsExactlyInAnyOrderElementsOf(ofA);
        assertThat(backend.listSnapshots(Optional.empty(), Optional.of(ofB.get(1).id()), PageRequest.all(),
                credentials()).items()).containsExactly(ofB.get(1));
        assertThat(backend.listSnapshots(Optional.of(a.id()), Optional.of(ofB.get(1).id()), PageRequest.all(),
                credentials()).items()).isEmpty();
        ObjectId unknownImage = new ObjectId(ObjectId.Kind.VOLUME, a.id().backend(), a.id().cluster(), a.id().pool(),
                UUID.randomUUID());
        ObjectId unknownSnapshot = new ObjectId(ObjectId.Kind.SNAPSHOT, a.id().backend(), a.id().cluster(),
                a.id().pool(), UUID.randomUUID());
        assertThat(backend.listSnapshots(Optional.of(unknownImage), Optional.empty(), PageRequest.all(),
                credentials()).items()).isEmpty();
        assertThat(backend.listSnapshots(Optional.empty(), Optional.of(unknownSnapshot), PageRequest.all(),
                credentials()).items()).isEmpty();
        assertThat(backend.listSnapshots(Optional.of(foreignBackend(a.id())), Optional.empty(), PageRequest.all(),
                credentials()).items()).isEmpty();

        List<Snapshot> seen = new ArrayList<>();
        String token = "";
        int pages = 0;
        do {
            Page<Snapshot> page = backend.listSnapshots(Optional.empty(), Optional.empty(), new PageRequest(token, 2),
                    credentials());
            assertThat(page.items().size()).isLessThanOrEqualTo(2);
            seen.addAll(page.items());
            token = page.nextToken().orElse("");
            assertThat(++pages).as("pages").isLessThan(1000);
        } while (!token.isEmpty());
        assertThat(seen).doesNotHaveDuplicates().containsAll(ofA).containsAll(ofB);
        Page<Snapshot> firstOfA = backend.listSnapshots(Optional.of(a.id()), Optional.empty(), new PageRequest("", 2),
                credentials());
        assertThat(firstOfA.items()).hasSize(2);
        assertThat(firstOfA.nextToken()).isPresent();
        assertThat(backend.listSnapshots(Optional.of(a.id()), Optional.empty(),
                new PageRequest(firstOfA.nextToken().get(), 2), credentials()).items()).hasSize(1);
        assertThatThrownBy(() -> backend.listSnapshots(Optional.empty(), Optional.empty(),
                new PageRequest("not-a-token-we-handed-out", 1), credentials()))
                .isInstanceOf(StorageException.InvalidToken.class);
    }

    @Test
    void snapshotSurvivesDeletionOfItsSource() throws Exception {
        Image a = create(spec("a", imageSize()));
        Snapshot s = snapshot("s", a.id());
        backend.deleteImage(a.id(), credentials());
        assertThat(backend.findSnapshot(s.id(), credentials())).contains(s);
        Image restored = create(new ImageSpec(prefix + "r", Optional.empty(), imageSize(),
                Optional.of(new ContentSource.FromSnapshot(s.id())), parameters(), Map.of()));
        assertThat(restored.source()).contains(new ContentSource.FromSnapshot(s.id()));
        assertThat(backend.listSnapshots(Optional.of(a.id()), Optional.empty(), PageRequest.all(), credentials())
                .items()).containsExactly(s);
    }

    @Test
    void restoreAndCloneFollowTheSizeRules() throws Exception {
        Image a = create(spec("a", imageSize()));
        Snapshot s = snapshot("s", a.id());
        ContentSource fromSnapshot = new ContentSource.FromSnapshot(s.id());
        ContentSource fromImage = new ContentSource.FromImage(a.id());
        Image same = create(withSource("r1", imageSize(), fromSnapshot));
        assertThat(same.sizeBytes()).isEqualTo(imageSize());
        assertThat(same.source()).contains(fromSnapshot);
        Image larger = create(withSource("r2", imageSize() * 2, fromSnapshot));
        assertThat(larger.sizeBytes()).isEqualTo(imageSize() * 2);
        assertThatThrownBy(() -> create(withSource("r3", imageSize() / 2, fromSnapshot)))
                .isInstanceOf(StorageException.OutOfRange.class);
        assertThat(backend.findImageByName(prefix + "r3", credentials())).isEmpty();
        Image clone = create(withSource("c1", imageSize(), fromImage));
        assertThat(clone.source()).contains(fromImage);
        Image largerClone = create(withSource("c2", imageSize() * 3, fromImage));
        assertThat(largerClone.sizeBytes()).isEqualTo(imageSize() * 3);
        ObjectId missingSnapshot = new ObjectId(ObjectId.Kind.SNAPSHOT, s.id().backend(), s.id().cluster(),
                s.id().pool(), UUID.randomUUID());
        assertThatThrownBy(() -> create(withSource("m1", imageSize(), new ContentSource.FromSnapshot(missingSnapshot))))
                .isInstanceOf(StorageException.NotFound.class);
        ObjectId missingImage = new ObjectId(ObjectId.Kind.VOLUME, a.id().backend(), a.id().cluster(), a.id().pool(),
                UUID.randomUUID());
        assertThatThrownBy(() -> create(withSource("m2", imageSize(), new ContentSource.FromImage(missingImage))))
                .isInstanceOf(StorageException.NotFound.class);
        assertThat(backend.findImageByName(prefix + "m1", credentials())).isEmpty();
        // Re-creating a restore is idempotent too.
        assertThat(create(withSource("r1", imageSize(), fromSnapshot)).id()).isEqualTo(same.id());
    }

    // ------------------------------------------------------------------ concurrency

    @Test
    void concurrentCreatesOfDistinctNamesAllSucceed() throws Exception {
        List<Image> images = race(8, i -> create(spec("d" + i, imageSize())));
        assertThat(images).hasSize(8);
        assertThat(images.stream().map(Image::id).distinct()).hasSize(8);
        for (Image i : images) {
            assertThat(backend.findImage(i.id(), credentials())).contains(i);
        }
    }

    @Test
    void concurrentCreatesOfOneNameMakeOneImage() throws Exception {
        ImageSpec spec = spec("same", imageSize());
        List<Object> outcomes = raceOutcomes(8, i -> create(spec));
        Set<ObjectId> ids = new HashSet<>();
        for (Object o : outcomes) {
            if (o instanceof Image img) {
                ids.add(img.id());
            } else if (!(o instanceof StorageException.Pending)) {
                fail("a concurrent create of the same name may answer the image or Pending, got " + o);
            }
        }
        assertThat(ids).as("every successful create answers the same image").hasSize(1);
        assertThat(allImages().stream().filter(i -> i.name().equals(spec.name()))).hasSize(1);
        assertThat(create(spec).id()).isEqualTo(ids.iterator().next());
    }

    @Test
    void concurrentSnapshotsAndDeletesKeepTheStateConsistent() throws Exception {
        Image a = create(spec("a", imageSize()));
        List<Object> outcomes = raceOutcomes(8, i -> i % 2 == 0 ? snapshot("s" + i, a.id())
                : create(withSource("c" + i, imageSize(), new ContentSource.FromImage(a.id()))));
        for (Object o : outcomes) {
            assertThat(o).isInstanceOfAny(Snapshot.class, Image.class);
        }
        assertThat(backend.listSnapshots(Optional.of(a.id()), Optional.empty(), PageRequest.all(), credentials())
                .items()).hasSize(4);
        List<Object> deletes = raceOutcomes(8, i -> {
            Object o = outcomes.get(i);
            if (o instanceof Snapshot s) {
                backend.deleteSnapshot(s.id(), credentials());
            } else {
                backend.deleteImage(((Image) o).id(), credentials());
            }
            return "deleted";
        });
        assertThat(deletes).containsOnly("deleted");
        assertThat(backend.listSnapshots(Optional.of(a.id()), Optional.empty(), PageRequest.all(), credentials())
                .items()).isEmpty();
    }

    // ------------------------------------------------------------------ foreign ids, persistence

    @Test
    void idsOfAnotherBackendOrClusterAreNotFound() throws Exception {
        Image a = create(spec("a", imageSize()));
        Snapshot s = snapshot("s", a.id());
        for (ObjectId foreign : List.of(foreignBackend(a.id()), foreignCluster(a.id()))) {
            assertThat(backend.findImage(foreign, credentials())).isEmpty();
            assertThatThrownBy(() -> backend.resizeImage(foreign, imageSize() * 2, credentials()))
                    .isInstanceOf(StorageException.NotFound.class);
            assertThatThrownBy(() -> backend.createSnapshot(new SnapshotSpec(prefix + "fs", foreign, Map.of()),
                    credentials())).isInstanceOf(StorageException.NotFound.class);
            assertThatThrownBy(() -> create(withSource("fc", imageSize(), new ContentSource.FromImage(foreign))))
                    .isInstanceOf(StorageException.NotFound.class);
            assertThatThrownBy(() -> backend.attach(foreign, false, credentials()))
                    .isInstanceOf(StorageException.NotFound.class);
            assertThat(backend.findAttachment(foreign)).isEmpty();
            backend.deleteImage(foreign, credentials());
            backend.detach(foreign);
        }
        for (ObjectId foreign : List.of(foreignBackend(s.id()), foreignCluster(s.id()))) {
            assertThat(backend.findSnapshot(foreign, credentials())).isEmpty();
            assertThatThrownBy(() -> create(withSource("fr", imageSize(), new ContentSource.FromSnapshot(foreign))))
                    .isInstanceOf(StorageException.NotFound.class);
            backend.deleteSnapshot(foreign, credentials());
        }
        assertThat(backend.findImage(a.id(), credentials())).isPresent();
        assertThat(backend.findSnapshot(s.id(), credentials())).isPresent();
    }

    @Test
    void stateSurvivesReopen() throws Exception {
        Image a = create(spec("a", imageSize()));
        Image grown = backend.resizeImage(a.id(), imageSize() * 2, credentials());
        Snapshot s = snapshot("s", a.id());
        Image restored = create(withSource("r", imageSize() * 2, new ContentSource.FromSnapshot(s.id())));
        Image deleted = create(spec("gone", imageSize()));
        backend.deleteImage(deleted.id(), credentials());
        backend = reopen(backend);
        assertThat(backend.findImage(a.id(), credentials())).contains(grown);
        assertThat(backend.findImageByName(a.name(), credentials())).contains(grown);
        assertThat(backend.findSnapshot(s.id(), credentials())).contains(s);
        assertThat(backend.findImage(restored.id(), credentials())).contains(restored);
        assertThat(backend.findImage(deleted.id(), credentials())).isEmpty();
        assertThat(create(spec("a", imageSize())).id()).isEqualTo(a.id());
        assertThat(snapshot("s", a.id())).isEqualTo(s);
    }

    // ------------------------------------------------------------------ data through attach

    @Test
    void dataSurvivesSnapshotRestoreAndClone() throws Exception {
        requireAttach();
        Image a = create(spec("a", imageSize()));
        Attachment att = backend.attach(a.id(), false, credentials());
        writePattern(att.device(), "A");
        Snapshot s = snapshot("s", a.id());
        writePattern(att.device(), "B");
        backend.detach(a.id());

        Image restored = create(withSource("r", imageSize() * 2, new ContentSource.FromSnapshot(s.id())));
        Attachment r = backend.attach(restored.id(), true, credentials());
        assertThat(readPattern(r.device())).isEqualTo("A");
        assertThat(deviceSize(r.device())).isEqualTo(imageSize() * 2);
        backend.detach(restored.id());

        Image clone = create(withSource("c", imageSize(), new ContentSource.FromImage(a.id())));
        Attachment c = backend.attach(clone.id(), false, credentials());
        assertThat(readPattern(c.device())).isEqualTo("B");
        backend.detach(clone.id());
    }

    @Test
    void detachIsIdempotentAndReattachSeesTheData() throws Exception {
        requireAttach();
        Image a = create(spec("a", imageSize()));
        Attachment first = backend.attach(a.id(), false, credentials());
        assertThat(first.image()).isEqualTo(a.id());
        assertThat(first.readOnly()).isFalse();
        assertThat(backend.attach(a.id(), false, credentials()).device()).isEqualTo(first.device());
        assertThat(backend.findAttachment(a.id())).contains(first);
        assertThat(backend.attachments()).contains(first);
        writePattern(first.device(), "X");
        backend.detach(a.id());
        backend.detach(a.id());
        assertThat(backend.findAttachment(a.id())).isEmpty();
        assertThat(backend.attachments()).doesNotContain(first);
        Attachment again = backend.attach(a.id(), false, credentials());
        assertThat(readPattern(again.device())).isEqualTo("X");
        backend.detach(a.id());
    }

    @Test
    void attachedImageCannotBeDeletedAndGrowsOnline() throws Exception {
        requireAttach();
        Image a = create(spec("a", imageSize()));
        Attachment att = backend.attach(a.id(), false, credentials());
        assertThatThrownBy(() -> backend.deleteImage(a.id(), credentials()))
                .isInstanceOf(StorageException.FailedPrecondition.class);
        backend.resizeImage(a.id(), imageSize() * 2, credentials());
        Attachment refreshed = backend.refreshAttachment(a.id());
        assertThat(refreshed.device()).isEqualTo(att.device());
        assertThat(deviceSize(refreshed.device())).isEqualTo(imageSize() * 2);
        backend.detach(a.id());
        backend.deleteImage(a.id(), credentials());
        assertThat(backend.findImage(a.id(), credentials())).isEmpty();
    }

    @Test
    void attachmentSurvivesReopen() throws Exception {
        requireAttach();
        Image a = create(spec("a", imageSize()));
        Attachment att = backend.attach(a.id(), false, credentials());
        writePattern(att.device(), "R");
        backend = reopen(backend);
        assertThat(backend.findAttachment(a.id())).contains(att);
        assertThat(backend.attachments()).contains(att);
        assertThat(readPattern(att.device())).isEqualTo("R");
        backend.detach(a.id());
        assertThat(backend.findAttachment(a.id())).isEmpty();
    }

    // ------------------------------------------------------------------ helpers

    /** The request name {@code suffix} made unique to this test. */
    protected String name(String suffix) {
        return prefix + suffix;
    }

    /** An image spec with this test's unique name and the subclass's parameters. */
    protected ImageSpec spec(String suffix, long size) {
        return new ImageSpec(name(suffix), Optional.empty(), size, Optional.empty(), parameters(),
                Map.of("contract", "yes"));
    }

    private ImageSpec withSource(String suffix, long size, ContentSource source) {
        return new ImageSpec(name(suffix), Optional.empty(), size, Optional.of(source), parameters(),
                Map.of("contract", "yes"));
    }

    private static ImageSpec withSize(ImageSpec s, long size) {
        return new ImageSpec(s.name(), s.pool(), size, s.source(), s.parameters(), s.metadata());
    }

    /** Creates an image and remembers it for clean-up. */
    protected Image create(ImageSpec spec) throws StorageException {
        Image i = backend.createImage(spec, credentials());
        createdImages.add(i.id());
        return i;
    }

    /** Creates a snapshot named {@code suffix} (made unique) and remembers it for clean-up. */
    protected Snapshot snapshot(String suffix, ObjectId source) throws StorageException {
        Snapshot s = backend.createSnapshot(new SnapshotSpec(name(suffix), source, Map.of()), credentials());
        createdSnapshots.add(s.id());
        return s;
    }

    private List<Image> allImages() throws StorageException {
        return backend.listImages(PageRequest.all(), credentials()).items();
    }

    private static ObjectId foreignBackend(ObjectId id) {
        String other = id.backend().equals("zzother") ? "yyother" : "zzother";
        return new ObjectId(id.kind(), other, id.cluster(), id.pool(), id.uuid());
    }

    private static ObjectId foreignCluster(ObjectId id) {
        String other = id.cluster().equals("contract-other") ? "contract-else" : "contract-other";
        return new ObjectId(id.kind(), id.backend(), other, id.pool(), id.uuid());
    }

    /** Work for thread {@code i} of a race. */
    @FunctionalInterface
    protected interface Racer<T> {
        T run(int i) throws Exception;
    }

    /** Runs {@code n} racers released at once; all must succeed. */
    protected <T> List<T> race(int n, Racer<T> racer) throws Exception {
        List<T> out = new ArrayList<>();
        for (Object o : raceOutcomes(n, racer)) {
            if (o instanceof Throwable t) {
                throw new AssertionError("racer failed: " + t, t);
            }
            @SuppressWarnings("unchecked")
            T value = (T) o;
            out.add(value);
        }
        return out;
    }

    /** Runs {@code n} racers released at once; each outcome is its value or the exception it threw. */
    protected <T> List<Object> raceOutcomes(int n, Racer<T> racer) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch ready = new CountDownLatch(n);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Object>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                Callable<Object> task = () -> {
                    ready.countDown();
                    go.await();
                    try {
                        return racer.run(k);
                    } catch (Exception e) {
                        return e;
                    }
                };
                futures.add(pool.submit(task));
            }
            assertThat(ready.await(30, TimeUnit.SECONDS)).isTrue();
            go.countDown();
            List<Object> out = new ArrayList<>();
            for (Future<Object> f : futures) {
                out.add(f.get(5, TimeUnit.MINUTES));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private void requireAttach() {
        Assumptions.assumeTrue(canAttach(), "this backend cannot attach images on this host");
        RequirementExtension.check(List.of(Requirement.ROOT, Requirement.LOOP_DEVICES), "attach data test");
    }

    /** Writes a recognisable block at the start, the middle and the last block of the device, then syncs. */
    private void writePattern(Path device, String tag) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(device.toFile(), "rw")) {
            for (long offset : offsets()) {
                f.seek(offset);
                f.write(block(tag, offset));
            }
            f.getFD().sync();
        }
    }

    /** The tag whose blocks are at every offset; fails when the blocks disagree. */
    private String readPattern(Path device) throws IOException {
        Set<String> tags = new LinkedHashSet<>();
        try (RandomAccessFile f = new RandomAccessFile(device.toFile(), "r")) {
            for (long offset : offsets()) {
                byte[] got = new byte[BLOCK];
                f.seek(offset);
                f.readFully(got);
                String tag = new String(got, 0, 1, StandardCharsets.US_ASCII);
                assertThat(got).as("block at " + offset).isEqualTo(block(tag, offset));
                tags.add(tag);
            }
        }
        assertThat(tags).hasSize(1);
        return tags.iterator().next();
    }

    private long[] offsets() {
        return new long[] {0, imageSize() / 2 + BLOCK, imageSize() - BLOCK};
    }

    private static byte[] block(String tag, long offset) {
        byte[] b = new byte[BLOCK];
        byte[] text = (tag + "@" + offset + ";").getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < BLOCK; i++) {
            b[i] = text[i % text.length];
        }
        return b;
    }

    /** The size of a block device from sysfs (Java reports 0 for the length of a device file). */
    private static long deviceSize(Path device) throws IOException {
        String name = device.toRealPath().getFileName().toString();
        String sectors = Files.readString(Path.of("/sys/class/block", name, "size")).strip();
        return Long.parseLong(sectors) * 512;
    }
}
