package dev.nodekit.csi.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.fs.AtomicFiles;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.csi.spi.Attachment;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.Image;
import dev.nodekit.csi.spi.ImageSpec;

/**
 * Measures the local backend's costs on this host and prints them ({@code MEASURE} lines): create
 * and delete of a 1 GiB sparse image (one at a time and 8 at once), the journal's durable write,
 * attach and detach through losetup. Checks only that the work was done; speed targets belong to
 * the bench frame ({@code nodekit bench csi}).
 */
@Requires({Requirement.ROOT, Requirement.LOOP_DEVICES})
class LocalBackendLatencyIT {
    private static final long GIB = 1L << 30;
    private static final Credentials NONE = Credentials.none();

    @TempDir
    Path dir;

    @ParameterizedTest(name = "synced writes: {0}")
    @ValueSource(booleans = {true, false})
    void createDeleteJournalAndAttach(boolean sync) throws Exception {
        System.out.println("MEASURE syncWrites=" + sync);
        try (LocalBackend b = LocalBackendFactory.open(LocalBackendConfig.of(dir.resolve("data"), "m")
                .withSyncWrites(sync))) {
            for (int i = 0; i < 5; i++) { // warm up the JIT and the page cache
                b.deleteImage(b.createImage(spec("warm" + i), NONE).id(), NONE);
            }
            List<Long> create = new ArrayList<>();
            List<Long> delete = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                long t0 = System.nanoTime();
                Image img = b.createImage(spec("seq" + i), NONE);
                long t1 = System.nanoTime();
                b.deleteImage(img.id(), NONE);
                long t2 = System.nanoTime();
                create.add(t1 - t0);
                delete.add(t2 - t1);
            }
            print("create_1GiB_c1", create);
            print("delete_1GiB_c1", delete);

            List<Long> concurrent = Collections.synchronizedList(new ArrayList<>());
            ExecutorService pool = Executors.newFixedThreadPool(8);
            long start = System.nanoTime();
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 10; i++) {
                        long t0 = System.nanoTime();
                        Image img = b.createImage(spec("par" + thread + "-" + i), NONE);
                        concurrent.add(System.nanoTime() - t0);
                        b.deleteImage(img.id(), NONE);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(5, TimeUnit.MINUTES);
            }
            pool.shutdown();
            double seconds = (System.nanoTime() - start) / 1e9;
            print("create_1GiB_c8", concurrent);
            System.out.printf("MEASURE create+delete_1GiB_c8_per_s=%.0f%n", 80 / seconds);
            assertThat(concurrent).hasSize(80);

            Image img = b.createImage(spec("att"), NONE);
            List<Long> attach = new ArrayList<>();
            List<Long> detach = new ArrayList<>();
            for (int i = 0; i < 15; i++) {
                long t0 = System.nanoTime();
                Attachment a = b.attach(img.id(), false, NONE);
                long t1 = System.nanoTime();
                b.detach(img.id());
                long t2 = System.nanoTime();
                assertThat(a.device().toString()).startsWith("/dev/loop");
                attach.add(t1 - t0);
                detach.add(t2 - t1);
            }
            print("attach", attach);
            print("detach", detach);
            b.deleteImage(img.id(), NONE);
        }

        // The journal's unit of durability: one record written with AtomicFiles (temp file, fsync, rename,
        // directory fsync); and an fsync alone, for scale.
        Path journal = Files.createDirectories(dir.resolve("journal"));
        byte[] record = new byte[420];
        List<Long> atomic = new ArrayList<>();
        List<Long> fsync = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            long t0 = System.nanoTime();
            AtomicFiles.write(journal.resolve("r" + i + ".json"), record);
            atomic.add(System.nanoTime() - t0);
            try (RandomAccessFile f = new RandomAccessFile(journal.resolve("f").toFile(), "rw")) {
                f.write(record);
                long t1 = System.nanoTime();
                f.getFD().sync();
                fsync.add(System.nanoTime() - t1);
            }
        }
        print("journal_atomic_write", atomic);
        print("fsync_small_write", fsync);
    }

    private static ImageSpec spec(String name) {
        return new ImageSpec(name, Optional.empty(), GIB, Optional.empty(), Map.of(), Map.of());
    }

    private static void print(String what, List<Long> nanos) {
        List<Long> sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        double p50 = sorted.get(sorted.size() / 2) / 1e6;
        double p99 = sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.99) - 1)) / 1e6;
        System.out.printf("MEASURE %s n=%d p50_ms=%.2f p99_ms=%.2f%n", what, nanos.size(), p50, p99);
    }
}
