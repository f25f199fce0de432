package dev.nodekit.csi.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.nodekit.common.fs.FormatVersionException;
import dev.nodekit.csi.Failpoints;
import dev.nodekit.csi.Failpoints.Point;
import dev.nodekit.csi.local.JournalRecord.State;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.ImageSpec;
import dev.nodekit.csi.spi.ObjectId;

/**
 * Startup recovery from the state each failpoint leaves, built by hand on disk (the crash tests in
 * e2e produce the same states by really stopping a JVM at each point).
 */
@SuppressWarnings("try") // resources held, not used
class RecoveryTest {
    private static final long SIZE = 8 << 20;
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);

    @TempDir
    Path dir;
    Path data;
    Layout layout;
    FakeLoops loops;
    DataFiles files = new DataFiles(true, true);

    @BeforeEach
    void setUp() throws Exception {
        data = Files.createDirectories(dir.resolve("data")).toRealPath();
        layout = new Layout(data);
        for (RecordKind k : RecordKind.values()) {
            Files.createDirectories(layout.dir(k, "default"));
        }
        Files.createDirectories(layout.attachments());
        loops = new FakeLoops(dir.resolve("sys-block"));
    }

    /** The disk state right after a point, and what recovery must make of it. */
    private interface Scenario {
        void check(RecoveryTest t) throws Exception;
    }

    private static final Map<Point, Scenario> SCENARIOS = new EnumMap<>(Point.class);

    static {
        SCENARIOS.put(Point.LOCAL_CREATE_RESERVED, t -> t.undone(RecordKind.IMAGE, false));
        SCENARIOS.put(Point.LOCAL_CREATE_FILE_WRITTEN, t -> t.undone(RecordKind.IMAGE, true));
        SCENARIOS.put(Point.LOCAL_CREATE_COMMITTED, t -> t.committed(RecordKind.IMAGE));
        SCENARIOS.put(Point.LOCAL_UNDO_FILE_REMOVED, t -> t.undone(RecordKind.IMAGE, false));
        SCENARIOS.put(Point.LOCAL_UNDO_DONE, RecoveryTest::nothingLeft);
        SCENARIOS.put(Point.LOCAL_DELETE_INTENT, t -> t.deleteFinished(RecordKind.IMAGE, true));
        SCENARIOS.put(Point.LOCAL_DELETE_FILE_REMOVED, t -> t.deleteFinished(RecordKind.IMAGE, false));
        SCENARIOS.put(Point.LOCAL_DELETE_DONE, RecoveryTest::nothingLeft);
        SCENARIOS.put(Point.LOCAL_RESIZE_FILE_GROWN, t -> t.resized(true));
        SCENARIOS.put(Point.LOCAL_RESIZE_COMMITTED, t -> t.resized(false));
        SCENARIOS.put(Point.LOCAL_SNAPSHOT_RESERVED, t -> t.undone(RecordKind.SNAPSHOT, false));
        SCENARIOS.put(Point.LOCAL_SNAPSHOT_FILE_WRITTEN, t -> t.undone(RecordKind.SNAPSHOT, true));
        SCENARIOS.put(Point.LOCAL_SNAPSHOT_COMMITTED, t -> t.committed(RecordKind.SNAPSHOT));
        SCENARIOS.put(Point.LOCAL_SNAPSHOT_DELETE_INTENT, t -> t.deleteFinished(RecordKind.SNAPSHOT, true));
        SCENARIOS.put(Point.LOCAL_SNAPSHOT_DELETE_FILE_REMOVED, t -> t.deleteFinished(RecordKind.SNAPSHOT, false));
        SCENARIOS.put(Point.LOCAL_SNAPSHOT_DELETE_DONE, RecoveryTest::nothingLeft);
        SCENARIOS.put(Point.LOCAL_ATTACH_LOOP_ATTACHED, t -> t.attachAdopted(false));
        SCENARIOS.put(Point.LOCAL_ATTACH_RECORDED, t -> t.attachAdopted(true));
        SCENARIOS.put(Point.LOCAL_DETACH_INTENT, t -> t.detachFinished(true));
        SCENARIOS.put(Point.LOCAL_DETACH_LOOP_DETACHED, t -> t.detachFinished(false));
        SCENARIOS.put(Point.LOCAL_DETACH_DONE, RecoveryTest::nothingAttached);
    }

    static Stream<Point> localPoints() {
        return Failpoints.withPrefix("local.").stream();
    }

    @Test
    void everyLocalFailpointHasARecoveryScenario() {
        assertThat(SCENARIOS.keySet()).containsExactlyInAnyOrderElementsOf(Failpoints.withPrefix("local."));
    }

    @ParameterizedTest
    @MethodSource("localPoints")
    void recoversFromTheStateLeftAt(Point point) throws Exception {
        SCENARIOS.get(point).check(this);
    }

    // ------------------------------------------------------------ scenarios

    private void undone(RecordKind kind, boolean withData) throws Exception {
        JournalRecord r = write(kind, State.RESERVED, "n1", withData);
        try (LocalBackend b = open()) {
            assertThat(b.recovery().undone()).isEqualTo(1);
            assertThat(b.journal().byName(kind, "n1")).isEmpty();
            assertThat(Files.exists(layout.record(kind, "default", r.uuid()))).isFalse();
            assertThat(Files.exists(layout.data(kind, "default", r.uuid()))).isFalse();
            if (kind == RecordKind.IMAGE) {
                // The name is free again: a retried create makes a new image.
                assertThat(b.createImage(spec("n1"), Credentials.none()).id().encode()).isNotEqualTo(r.id());
            }
        }
        assertConsistent();
    }

    private void committed(RecordKind kind) throws Exception {
        JournalRecord r = write(kind, State.READY, "n1", true);
        try (LocalBackend b = open()) {
            assertThat(b.recovery().loaded()).isEqualTo(kind == RecordKind.SNAPSHOT ? 2 : 1);
            if (kind == RecordKind.IMAGE) {
                assertThat(b.findImageByName("n1", Credentials.none()).orElseThrow().id().encode()).isEqualTo(r.id());
                assertThat(b.createImage(spec("n1"), Credentials.none()).id().encode()).isEqualTo(r.id());
            } else {
                assertThat(b.findSnapshot(r.objectId(), Credentials.none())).isPresent();
            }
        }
        assertConsistent();
    }

    private void deleteFinished(RecordKind kind, boolean withData) throws Exception {
        JournalRecord r = write(kind, State.DELETING, "n1", withData);
        try (LocalBackend b = open()) {
            assertThat(b.recovery().deletesFinished()).isEqualTo(1);
            assertThat(b.journal().get(kind, r.uuid())).isEmpty();
            assertThat(Files.exists(layout.data(kind, "default", r.uuid()))).isFalse();
            if (kind == RecordKind.IMAGE) {
                b.deleteImage(r.objectId(), Credentials.none()); // the retried delete succeeds
            } else {
                b.deleteSnapshot(r.objectId(), Credentials.none());
            }
        }
        assertConsistent();
    }

    private void resized(boolean fileOnly) throws Exception {
        JournalRecord r = write(RecordKind.IMAGE, State.READY, "n1", true);
        files.grow(layout.data(RecordKind.IMAGE, "default", r.uuid()), 2 * SIZE);
        if (!fileOnly) {
            JournalRecord.FORMAT.write(layout.record(RecordKind.IMAGE, "default", r.uuid()), r.withSize(2 * SIZE));
        }
        try (LocalBackend b = open()) {
            assertThat(b.recovery().sizesRepaired()).isEqualTo(fileOnly ? 1 : 0);
            assertThat(b.findImage(r.objectId(), Credentials.none()).orElseThrow().sizeBytes()).isEqualTo(2 * SIZE);
            assertThat(b.resizeImage(r.objectId(), 2 * SIZE, Credentials.none()).sizeBytes()).isEqualTo(2 * SIZE);
        }
        assertConsistent();
    }

    private void attachAdopted(boolean recorded) throws Exception {
        JournalRecord r = write(RecordKind.IMAGE, State.READY, "n1", true);
        Path file = layout.data(RecordKind.IMAGE, "default", r.uuid());
        String device = loops.attach(file, false);
        if (recorded) {
            AttachmentRecord.FORMAT.write(layout.attachment(r.uuid()),
                    new AttachmentRecord(r.id(), device, file.toString(), false, CLOCK.instant().toString(), false));
        }
        try (LocalBackend b = open()) {
            assertThat(b.findAttachment(r.objectId()).orElseThrow().device()).isEqualTo(Path.of(device));
            assertThat(b.attach(r.objectId(), false, Credentials.none()).device()).isEqualTo(Path.of(device));
            assertThat(loops.count("losetup")).as("no device attached twice").isZero();
        }
        assertConsistent();
    }

    private void detachFinished(boolean deviceStillThere) throws Exception {
        JournalRecord r = write(RecordKind.IMAGE, State.READY, "n1", true);
        Path file = layout.data(RecordKind.IMAGE, "default", r.uuid());
        String device = loops.attach(file, false);
        if (!deviceStillThere) {
            loops.detach(device);
        }
        AttachmentRecord.FORMAT.write(layout.attachment(r.uuid()),
                new AttachmentRecord(r.id(), device, file.toString(), false, CLOCK.instant().toString(), true));
        try (LocalBackend b = open()) {
            assertThat(loops.count("losetup", "-d")).isEqualTo(deviceStillThere ? 1 : 0);
            assertThat(loops.count("losetup", "--find")).as("a detach in progress is not re-attached").isZero();
            assertThat(b.findAttachment(r.objectId())).isEmpty();
            assertThat(b.attachments()).isEmpty();
            b.detach(r.objectId());
        }
        assertConsistent();
    }

    private void nothingLeft() throws Exception {
        try (LocalBackend b = open()) {
            assertThat(b.recovery().undone() + b.recovery().deletesFinished() + b.recovery().loaded()).isZero();
        }
        assertConsistent();
    }

    private void nothingAttached() throws Exception {
        JournalRecord r = write(RecordKind.IMAGE, State.READY, "n1", true);
        try (LocalBackend b = open()) {
            assertThat(b.findAttachment(r.objectId())).isEmpty();
            assertThat(loops.count("losetup")).isZero();
        }
        assertConsistent();
    }

    // ------------------------------------------------------------ other recovery rules

    @Test
    void removesTemporaryFilesAndQuarantinesOrphans() throws Exception {
        Path images = layout.dir(RecordKind.IMAGE, "default");
        Files.writeString(images.resolve(".x.json.123.tmp"), "{");
        Files.writeString(layout.attachments().resolve(".y.json.5.tmp"), "{");
        UUID orphan = UUID.randomUUID();
        Files.writeString(images.resolve(orphan + ".img"), "data nobody recorded");
        Files.writeString(images.resolve("README"), "left alone");
        try (LocalBackend b = open()) {
            assertThat(b.recovery().tmpRemoved()).isEqualTo(1);
            assertThat(b.recovery().quarantined()).hasSize(1);
            Path q = b.recovery().quarantined().get(0);
            assertThat(q.getParent()).isEqualTo(layout.quarantine());
            assertThat(Files.readString(q)).isEqualTo("data nobody recorded");
        }
        assertThat(Files.exists(images.resolve(orphan + ".img"))).isFalse();
        assertThat(Files.exists(images.resolve("README"))).isTrue();
        assertThat(Files.list(layout.attachments()).count()).isZero();
    }

    @Test
    void keepsAndReportsACommittedObjectWhoseDataIsGone() throws Exception {
        JournalRecord r = write(RecordKind.IMAGE, State.READY, "n1", false);
        try (LocalBackend b = open()) {
            assertThat(b.recovery().lost()).containsExactly(r.id());
            assertThat(b.findImage(r.objectId(), Credentials.none())).isPresent();
            assertThat(b.imageCondition(r.objectId(), Credentials.none())).hasValueSatisfying(
                    c -> assertThat(c).contains("is missing"));
        }
    }

    @Test
    void refusesAMisplacedRecord() throws Exception {
        JournalRecord r = record(RecordKind.IMAGE, State.READY, "n1");
        JournalRecord.FORMAT.write(layout.dir(RecordKind.IMAGE, "default").resolve(UUID.randomUUID() + ".json"), r);
        assertThatThrownBy(this::open).isInstanceOf(IOException.class).hasMessageContaining("not where its id says");
    }

    @Test
    void refusesAJournalWrittenByANewerNodekit() throws Exception {
        JournalRecord r = write(RecordKind.IMAGE, State.READY, "n1", true);
        Path file = layout.record(RecordKind.IMAGE, "default", r.uuid());
        Files.writeString(file, Files.readString(file).replace("\"version\" : 2", "\"version\" : 3"));
        assertThatThrownBy(this::open).isInstanceOf(FormatVersionException.class)
                .hasMessageContaining("newer than this nodekit understands").hasMessageContaining("upgrade nodekit");
    }

    @Test
    void migratesAVersion1Record() throws Exception {
        JournalRecord r = write(RecordKind.IMAGE, State.READY, "n1", true);
        Path file = layout.record(RecordKind.IMAGE, "default", r.uuid());
        var mapper = JournalRecord.FORMAT.mapper();
        var tree = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(file.toFile());
        tree.put("version", 1);
        tree.remove(List.of("requestedBytes", "copyMethod"));
        Files.writeString(file, mapper.writeValueAsString(tree));
        try (LocalBackend b = open()) {
            assertThat(b.createImage(spec("n1"), Credentials.none()).id().encode()).isEqualTo(r.id());
            b.resizeImage(r.objectId(), 2 * SIZE, Credentials.none());
        }
        assertThat(Files.readString(file)).contains("\"version\" : 2").contains("\"requestedBytes\" : " + SIZE)
                .contains("\"sizeBytes\" : " + 2 * SIZE);
    }

    @Test
    void refusesADataDirOfAnotherNode() throws Exception {
        open().close();
        LocalBackendConfig other = LocalBackendConfig.of(data, "node-b");
        assertThatThrownBy(() -> LocalBackend.open(other, loops.runner, CLOCK, loops.sysBlock))
                .isInstanceOf(IOException.class).hasMessageContaining("belongs to node 'node-a'");
    }

    @Test
    void oneProcessOwnsADataDir() throws Exception {
        try (LocalBackend b = open()) {
            assertThatThrownBy(this::open).isInstanceOf(IOException.class).hasMessageContaining("in use");
        }
        open().close();
    }

    @Test
    void reattachesADeviceTheKernelLostOrLeavesItForTheNextAttach() throws Exception {
        JournalRecord r = write(RecordKind.IMAGE, State.READY, "n1", true);
        Path file = layout.data(RecordKind.IMAGE, "default", r.uuid());
        String device = loops.attach(file, true);
        AttachmentRecord.FORMAT.write(layout.attachment(r.uuid()),
                new AttachmentRecord(r.id(), device, file.toString(), true, CLOCK.instant().toString(), false));
        loops.reboot();
        try (LocalBackend b = open()) {
            assertThat(loops.runner.argvs()).containsExactly(List.of("losetup", "--find", "--show", "--read-only",
                    file.toString()));
            var a = b.findAttachment(r.objectId()).orElseThrow();
            assertThat(a.device()).isNotEqualTo(Path.of(device));
            assertThat(a.readOnly()).isTrue();
        }
        loops.reboot();
        loops.runner.clearInvocations();
        LocalBackendConfig lazy = LocalBackendConfig.of(data, "node-a").withReattachOnStart(false);
        try (LocalBackend b = LocalBackend.open(lazy, loops.runner, CLOCK, loops.sysBlock)) {
            assertThat(loops.runner.argvs()).isEmpty();
            assertThat(b.findAttachment(r.objectId())).isEmpty();
            assertThat(b.attach(r.objectId(), true, Credentials.none()).readOnly()).isTrue();
            assertThat(loops.count("losetup", "--find")).isEqualTo(1);
        }
    }

    @Test
    void forgetsTheAttachmentOfAnImageThatIsGone() throws Exception {
        ObjectId gone = ObjectId.newVolume("local", "node-a", "default");
        Path file = layout.data(RecordKind.IMAGE, "default", gone.uuid());
        AttachmentRecord.FORMAT.write(layout.attachment(gone.uuid()),
                new AttachmentRecord(gone.encode(), "/dev/loop9", file.toString(), false, CLOCK.instant().toString(),
                        false));
        try (LocalBackend b = open()) {
            assertThat(b.attachments()).isEmpty();
        }
        assertThat(Files.exists(layout.attachment(gone.uuid()))).isFalse();
    }

    // ------------------------------------------------------------ helpers

    private LocalBackend open() throws IOException {
        return LocalBackend.open(LocalBackendConfig.of(data, "node-a"), loops.runner, CLOCK, loops.sysBlock);
    }

    private static ImageSpec spec(String name) {
        return new ImageSpec(name, Optional.empty(), SIZE, Optional.empty(), Map.of(), Map.of());
    }

    private final ObjectId sourceImage = ObjectId.newVolume("local", "node-a", "default");

    private JournalRecord record(RecordKind kind, State state, String name) {
        ObjectId id = kind == RecordKind.IMAGE ? ObjectId.newVolume("local", "node-a", "default")
                : ObjectId.newSnapshot("local", "node-a", "default");
        return new JournalRecord(kind, id.encode(), name, state, SIZE, SIZE,
                kind == RecordKind.SNAPSHOT ? sourceImage.encode() : null, Map.of(), Map.of(),
                CLOCK.instant().toString(), state == State.RESERVED ? null : "empty");
    }

    /** Writes a record (and its data file) as the live code would have left them. */
    private JournalRecord write(RecordKind kind, State state, String name, boolean withData) throws IOException {
        if (kind == RecordKind.SNAPSHOT) {
            // Its source image, committed (snapshots outlive their source, but a live one is the common case).
            JournalRecord src = new JournalRecord(RecordKind.IMAGE, sourceImage.encode(), "source", State.READY, SIZE,
                    SIZE, null, Map.of(), Map.of(), CLOCK.instant().toString(), "empty");
            JournalRecord.FORMAT.write(layout.record(RecordKind.IMAGE, "default", src.uuid()), src);
            files.createSparse(layout.data(RecordKind.IMAGE, "default", src.uuid()), SIZE);
        }
        JournalRecord r = record(kind, state, name);
        JournalRecord.FORMAT.write(layout.record(kind, "default", r.uuid()), r);
        if (withData) {
            Path f = layout.data(kind, "default", r.uuid());
            files.createSparse(f, SIZE);
            try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap("payload".getBytes(StandardCharsets.US_ASCII)), 4096);
            }
        }
        return r;
    }

    private void assertConsistent() throws IOException {
        assertThat(LocalDataDirCheck.inspect(data).problems()).isEmpty();
    }
}
