package dev.nodekit.csi;

import static dev.nodekit.csi.Statuses.expect;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.csi.spi.ImageSpec;
import dev.nodekit.csi.spi.StorageException;
import dev.nodekit.spec.csi.v1.CapacityRange;
import dev.nodekit.spec.csi.v1.CreateSnapshotRequest;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.CreateVolumeResponse;
import dev.nodekit.spec.csi.v1.DeleteVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeStageVolumeRequest;
import io.grpc.Status.Code;

@SuppressWarnings("try") // lock resources are held, not used
class OperationLocksTest {
    @TempDir
    Path tmp;

    @Test
    void aBusyKeyFailsFastAndIsFreedOnClose() {
        OperationLocks locks = new OperationLocks();
        try (OperationLocks.Held a = locks.tryAcquire("volume", "id:a")) {
            long start = System.nanoTime();
            assertThat(expect(Code.ABORTED, () -> locks.tryAcquire("volume", "id:a"))).contains("'a'")
                    .contains("already in progress");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(100);
            try (OperationLocks.Held b = locks.tryAcquire("volume", "id:b")) {
                assertThat(locks.held()).isEqualTo(2);
            }
        }
        assertThat(locks.held()).isZero();
        locks.tryAcquire("volume", "id:a").close();
    }

    @Test
    void severalKeysAreTakenAllOrNone() {
        OperationLocks locks = new OperationLocks();
        try (OperationLocks.Held b = locks.tryAcquire("volume", "id:b")) {
            expect(Code.ABORTED, () -> locks.tryAcquire("volume", "id:a", "id:b", "id:c"));
            assertThat(locks.held()).as("a was given back").isEqualTo(1);
        }
    }

    /** Names that cannot be confused with ids: "name:x" and "id:x" are different keys. */
    @Test
    void namesAndIdsAreSeparateKeySpaces() {
        OperationLocks locks = new OperationLocks();
        try (OperationLocks.Held n = locks.tryAcquire("name", OperationLocks.nameKey("x"));
                OperationLocks.Held i = locks.tryAcquire("id", OperationLocks.idKey("x"))) {
            assertThat(locks.held()).isEqualTo(2);
        }
    }

    /**
     * Eight CreateVolume calls on different names are all inside the backend at the same moment:
     * each waits at a barrier of eight inside createImage, which only opens when all eight are
     * there. A global lock (or waiting on each other) would time the barrier out.
     */
    @Test
    void eightCreatesOnDifferentNamesOverlapInTime() throws Exception {
        CyclicBarrier inside = new CyclicBarrier(8);
        AtomicInteger maxConcurrent = new AtomicInteger();
        AtomicInteger now = new AtomicInteger();
        try (TestDriver d = new TestDriver(tmp)) {
            d.backend.onCreate(spec -> {
                maxConcurrent.accumulateAndGet(now.incrementAndGet(), Math::max);
                try {
                    inside.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                    throw new StorageException.Internal("creates did not overlap: " + e, e);
                } finally {
                    now.decrementAndGet();
                }
            });
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<CreateVolumeResponse>> calls = new ArrayList<>();
                long start = System.nanoTime();
                for (int i = 0; i < 8; i++) {
                    String name = "pvc-" + i;
                    calls.add(pool.submit(() -> d.controller().createVolume(CreateVolumeRequest.newBuilder()
                            .setName(name).addVolumeCapabilities(TestDriver.mount())
                            .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(1 << 20)).build())));
                }
                for (Future<CreateVolumeResponse> f : calls) {
                    assertThat(f.get(20, TimeUnit.SECONDS).getVolume().getVolumeId()).isNotEmpty();
                }
                assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(10);
            } finally {
                pool.shutdownNow();
            }
            assertThat(maxConcurrent.get()).isEqualTo(8);
            assertThat(d.backend.images()).hasSize(8);
        }
    }

    /** While a create holds a name, a second create of it and a delete of the id being staged answer ABORTED at once. */
    @Test
    void aSecondOperationOnTheSameNameOrIdIsAbortedImmediately() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (TestDriver d = new TestDriver(tmp)) {
            d.backend.onCreate(spec -> {
                if (((ImageSpec) spec).name().equals("slow")) {
                    entered.countDown();
                    try {
                        release.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<CreateVolumeResponse> slow = pool.submit(() -> d.controller().createVolume(
                        CreateVolumeRequest.newBuilder().setName("slow").addVolumeCapabilities(TestDriver.mount())
                                .build()));
                assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
                long start = System.nanoTime();
                String msg = expect(Code.ABORTED, () -> d.controller().createVolume(CreateVolumeRequest.newBuilder()
                        .setName("slow").addVolumeCapabilities(TestDriver.mount()).build()));
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1000);
                assertThat(msg).contains("slow");
                // Another name is not held up by the slow one.
                d.controller().createVolume(CreateVolumeRequest.newBuilder().setName("fast")
                        .addVolumeCapabilities(TestDriver.mount()).build());
                release.countDown();
                String id = slow.get(20, TimeUnit.SECONDS).getVolume().getVolumeId();

                // Same id: hold the controller's lock for it, then delete, expand and snapshot nothing else.
                try (OperationLocks.Held held = d.controllerService.locks().tryAcquire("volume",
                        OperationLocks.idKey(id))) {
                    long t = System.nanoTime();
                    expect(Code.ABORTED, () -> d.controller().deleteVolume(DeleteVolumeRequest.newBuilder()
                            .setVolumeId(id).build()));
                    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t)).isLessThan(1000);
                    d.controller().createSnapshot(CreateSnapshotRequest.newBuilder().setName("snap")
                            .setSourceVolumeId(id).build());
                }
                try (OperationLocks.Held held = d.nodeService.locks().tryAcquire("volume", OperationLocks.idKey(id))) {
                    expect(Code.ABORTED, () -> d.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder()
                            .setVolumeId(id).setStagingTargetPath(tmp.resolve("stage").toString())
                            .setVolumeCapability(TestDriver.mount()).build()));
                }
                d.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build());
            } finally {
                release.countDown();
                pool.shutdownNow();
            }
        }
    }
}
