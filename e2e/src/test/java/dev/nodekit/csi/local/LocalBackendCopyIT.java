package dev.nodekit.csi.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.csi.spi.ContentSource;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.Image;
import dev.nodekit.csi.spi.ImageSpec;
import dev.nodekit.csi.spi.Snapshot;
import dev.nodekit.csi.spi.SnapshotSpec;

/**
 * Snapshots and clones on real filesystems: FICLONE on an XFS made with {@code reflink=1} (extents
 * shared, proven with {@code filefrag}), the sparse copy on ext4 (holes kept, proven by the blocks
 * allocated). Each filesystem is a loop file mounted in a temporary directory. Prints the times
 * measured (no speed assertions: targets live in the bench frame).
 */
@Requires({Requirement.ROOT, Requirement.LOOP_DEVICES, Requirement.XFS})
class LocalBackendCopyIT {
    private static final long MIB = 1 << 20;
    private static final long GIB = 1L << 30;
    private static final Credentials NONE = Credentials.none();

    @TempDir
    Path dir;
    final CommandRunner runner = new ProcessCommandRunner();

    @Test
    void snapshotsAndClonesShareExtentsOnXfsWithReflink() throws Exception {
        try (LoopFilesystem fs = LoopFilesystem.create(runner, dir, "xfs", 640 * MIB);
                LocalBackend b = LocalBackendFactory.open(LocalBackendConfig.of(fs.mountpoint().resolve("data"), "n"))) {
            Image img = b.createImage(spec("src", GIB, Optional.empty()), NONE);
            Path file = imageFile(b, img);
            String digest = writeSpread(file, 100 * MIB);

            long t0 = System.nanoTime();
            Snapshot s = b.createSnapshot(new SnapshotSpec("snap", img.id(), Map.of()), NONE);
            long snapshotMicros = (System.nanoTime() - t0) / 1000;
            Path snap = b.dataDir().resolve("pools/default/snapshots/" + s.id().uuid() + ".snap");
            assertThat(copyMethod(b, s.id().encode())).isEqualTo("reflink");
            List<String> extents = dataExtents(snap);
            assertThat(extents).isNotEmpty().allMatch(l -> l.contains("shared"));
            assertThat(dataExtents(file)).allMatch(l -> l.contains("shared"));
            assertThat(digestSpread(snap)).isEqualTo(digest);

            // A restore shares the snapshot's extents too, and writing to it copies on write.
            t0 = System.nanoTime();
            Image restored = b.createImage(spec("restored", 2 * GIB,
                    Optional.of(new ContentSource.FromSnapshot(s.id()))), NONE);
            long restoreMicros = (System.nanoTime() - t0) / 1000;
            assertThat(copyMethod(b, restored.id().encode())).isEqualTo("reflink");
            Path restoredFile = imageFile(b, restored);
            assertThat(Files.size(restoredFile)).isEqualTo(2 * GIB);
            assertThat(digestSpread(restoredFile)).isEqualTo(digest);
            writeSpread(restoredFile, 10 * MIB, 99);
            assertThat(digestSpread(snap)).as("the snapshot is unchanged").isEqualTo(digest);
            System.out.printf("MEASURE xfs-reflink snapshot_1GiB_100MiB_us=%d restore_us=%d%n", snapshotMicros,
                    restoreMicros);
        }
    }

    @Test
    void theSparseCopyOnExt4KeepsHoles() throws Exception {
        try (LoopFilesystem fs = LoopFilesystem.create(runner, dir, "ext4", 640 * MIB);
                LocalBackend b = LocalBackendFactory.open(LocalBackendConfig.of(fs.mountpoint().resolve("data"), "n"))) {
            Image img = b.createImage(spec("src", GIB, Optional.empty()), NONE);
            Path file = imageFile(b, img);
            String digest = writeSpread(file, 100 * MIB);

            long t0 = System.nanoTime();
            Snapshot s = b.createSnapshot(new SnapshotSpec("snap", img.id(), Map.of()), NONE);
            long snapshotMicros = (System.nanoTime() - t0) / 1000;
            Path snap = b.dataDir().resolve("pools/default/snapshots/" + s.id().uuid() + ".snap");
            assertThat(copyMethod(b, s.id().encode())).isEqualTo("sparse-copy");
            assertThat(Files.size(snap)).isEqualTo(GIB);
            assertThat(allocated(snap)).as("only the data is copied").isBetween(100 * MIB, 104 * MIB);
            assertThat(dataExtents(snap)).noneMatch(l -> l.contains("shared"));
            assertThat(digestSpread(snap)).isEqualTo(digest);

            // For comparison: the same copy with cp --sparse=always through a process.
            Path cp = fs.mountpoint().resolve("cp-copy");
            t0 = System.nanoTime();
            LoopFilesystem.run(runner, List.of("cp", "--sparse=always", "--reflink=never", snap.toString(),
                    cp.toString()));
            LoopFilesystem.run(runner, List.of("sync", cp.toString()));
            long cpMicros = (System.nanoTime() - t0) / 1000;
            assertThat(digestSpread(cp)).isEqualTo(digest);
            Files.delete(cp);
            System.out.printf("MEASURE ext4-sparse-copy snapshot_1GiB_100MiB_us=%d cp_sparse_always_us=%d%n",
                    snapshotMicros, cpMicros);
        }
    }

    private static ImageSpec spec(String name, long size, Optional<ContentSource> source) {
        return new ImageSpec(name, Optional.empty(), size, source, Map.of(), Map.of());
    }

    private static Path imageFile(LocalBackend b, Image i) {
        return b.dataDir().resolve("pools/default/images/" + i.id().uuid() + ".img");
    }

    private static String copyMethod(LocalBackend b, String id) throws IOException {
        return LocalDataDirCheck.inspect(b.dataDir()).objects().stream().filter(o -> o.id().equals(id)).findFirst()
                .orElseThrow().copyMethod();
    }

    /** Writes {@code total} random bytes as 10 chunks spread over the first GiB; returns their digest. */
    private static String writeSpread(Path file, long total) throws Exception {
        return writeSpread(file, total, 7);
    }

    private static String writeSpread(Path file, long total, long seed) throws Exception {
        Random random = new Random(seed);
        byte[] chunk = new byte[(int) (total / 10)];
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            for (int i = 0; i < 10; i++) {
                random.nextBytes(chunk);
                f.seek(i * 100 * MIB);
                f.write(chunk);
            }
            f.getFD().sync();
        }
        return digestSpread(file);
    }

    /** The digest of the 10 spread 10 MiB chunks. */
    private static String digestSpread(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] chunk = new byte[(int) (10 * MIB)];
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            for (int i = 0; i < 10; i++) {
                f.seek(i * 100 * MIB);
                f.readFully(chunk);
                md.update(chunk);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** {@code filefrag -v} lines that describe extents (the numbered ones). */
    private List<String> dataExtents(Path file) throws Exception {
        return LoopFilesystem.run(runner, List.of("filefrag", "-v", file.toString())).lines()
                .filter(l -> l.strip().matches("\\d+:.*")).toList();
    }

    private long allocated(Path file) throws Exception {
        String[] f = LoopFilesystem.run(runner, List.of("stat", "--format=%b %B", file.toString())).strip().split(" ");
        return Long.parseLong(f[0]) * Long.parseLong(f[1]);
    }
}
