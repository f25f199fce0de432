package dev.nodekit.csi.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.common.testing.Requires;

/**
 * Other processes attach and detach loop devices while the driver scans them (a node has more
 * loop users than us): reading a device's sysfs files while someone detaches it answers ENODEV,
 * which must read as "not attached", never fail the driver's attach.
 */
@Requires({Requirement.ROOT, Requirement.LOOP_DEVICES})
class LoopDevicesChurnIT {
    @TempDir
    Path dir;

    @Test
    void scanningWhileOthersAttachAndDetachNeverFails() throws Exception {
        LoopDevices loops = new LoopDevices(new ProcessCommandRunner(), Path.of("/sys/block"), Duration.ofSeconds(30));
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Path f = dir.resolve("churn-" + i + ".img");
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(1 << 20);
            }
            files.add(f);
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger cycles = new AtomicInteger();
        ExecutorService churners = Executors.newFixedThreadPool(files.size());
        List<Future<?>> running = new ArrayList<>();
        try {
            for (Path f : files) {
                running.add(churners.submit(() -> {
                    while (!stop.get()) {
                        Path device = loops.attach(f, false);
                        loops.detach(device);
                        cycles.incrementAndGet();
                    }
                    return null;
                }));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            int scans = 0;
            while (System.nanoTime() < deadline) {
                loops.scan(); // must not throw while devices come and go
                loops.devicesBackedBy(files.get(0));
                scans++;
            }
            stop.set(true);
            for (Future<?> r : running) {
                r.get();
            }
            assertThat(cycles.get()).as("attach/detach cycles by the other 'processes'").isGreaterThan(10);
            assertThat(scans).isGreaterThan(10);
        } finally {
            stop.set(true);
            churners.shutdown();
            churners.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
            for (Path f : files) {
                for (Path d : loops.devicesBackedBy(f)) {
                    try {
                        loops.detach(d);
                    } catch (dev.nodekit.common.exec.CommandException e) {
                        // already detached: the kernel finishes a detach asynchronously
                    }
                }
            }
        }
    }
}
