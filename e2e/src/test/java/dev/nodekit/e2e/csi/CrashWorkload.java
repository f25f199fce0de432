package dev.nodekit.e2e.csi;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.spec.csi.v1.CapacityRange;
import dev.nodekit.spec.csi.v1.ControllerExpandVolumeRequest;
import dev.nodekit.spec.csi.v1.ControllerGrpc;
import dev.nodekit.spec.csi.v1.CreateSnapshotRequest;
import dev.nodekit.spec.csi.v1.CreateVolumeRequest;
import dev.nodekit.spec.csi.v1.DeleteSnapshotRequest;
import dev.nodekit.spec.csi.v1.DeleteVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeGrpc;
import dev.nodekit.spec.csi.v1.NodeStageVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnstageVolumeRequest;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import dev.nodekit.spec.csi.v1.VolumeCapability.AccessMode.Mode;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A concurrent CSI client that survives its driver dying: threads run "episodes" on their own
 * names (create a block volume, snapshot it, expand it, stage and unstage it, and in every second
 * episode delete the snapshot and the volume), recording what each request answered. When the
 * driver dies, each thread remembers the step it had in flight; {@link #resume} retries that step
 * against the restarted driver with the same arguments until it has a final answer and then
 * finishes the episode, as a CO's sidecars would. The expected state is what the OK answers imply.
 */
final class CrashWorkload {
    static final VolumeCapability BLOCK = VolumeCapability.newBuilder()
            .setBlock(VolumeCapability.BlockVolume.getDefaultInstance())
            .setAccessMode(VolumeCapability.AccessMode.newBuilder().setMode(Mode.SINGLE_NODE_WRITER)).build();
    static final int STEPS = 7;

    private final Path stagingRoot;
    private final String prefix;
    private final int threads;
    /** Volume ids whose create answered OK and whose delete did not (yet). */
    final Set<String> volumes = Collections.synchronizedSet(new LinkedHashSet<>());
    final Set<String> snapshots = Collections.synchronizedSet(new LinkedHashSet<>());
    private final List<Episode> interrupted = Collections.synchronizedList(new ArrayList<>());
    private int round;

    CrashWorkload(Path stagingRoot, String prefix, int threads) {
        this.stagingRoot = stagingRoot;
        this.prefix = prefix;
        this.threads = threads;
    }

    /** One thread's current episode: its names, the ids it got, the next step. */
    final class Episode {
        final String name;
        final boolean keep;
        String volumeId;
        String snapshotId;
        int step;

        Episode(String name, boolean keep) {
            this.name = name;
            this.keep = keep;
        }

        /** Runs steps until done; throws the UNAVAILABLE that ends it when the driver dies. */
        void run(ControllerGrpc.ControllerBlockingStub c, NodeGrpc.NodeBlockingStub n, boolean retry) throws Exception {
            while (step < STEPS) {
                runStep(c, n, retry);
                step++;
            }
        }

        private void runStep(ControllerGrpc.ControllerBlockingStub c, NodeGrpc.NodeBlockingStub n, boolean retry)
                throws Exception {
            Path staging = stagingRoot.resolve(name);
            switch (step) {
                case 0 -> {
                    volumeId = call(retry, () -> c.withDeadlineAfter(60, TimeUnit.SECONDS).createVolume(
                            CreateVolumeRequest.newBuilder().setName(name).addVolumeCapabilities(BLOCK)
                                    .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(1 << 20)).build())
                            .getVolume().getVolumeId());
                    volumes.add(volumeId);
                }
                case 1 -> {
                    snapshotId = call(retry, () -> c.withDeadlineAfter(60, TimeUnit.SECONDS).createSnapshot(
                            CreateSnapshotRequest.newBuilder().setName(name + "-snap").setSourceVolumeId(volumeId)
                                    .build()).getSnapshot().getSnapshotId());
                    snapshots.add(snapshotId);
                }
                case 2 -> call(retry, () -> c.withDeadlineAfter(60, TimeUnit.SECONDS).controllerExpandVolume(
                        ControllerExpandVolumeRequest.newBuilder().setVolumeId(volumeId)
                                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(2 << 20)).build()));
                case 3 -> {
                    Files.createDirectories(staging);
                    call(retry, () -> n.withDeadlineAfter(60, TimeUnit.SECONDS).nodeStageVolume(
                            NodeStageVolumeRequest.newBuilder().setVolumeId(volumeId)
                                    .setStagingTargetPath(staging.toString()).setVolumeCapability(BLOCK).build()));
                }
                case 4 -> call(retry, () -> n.withDeadlineAfter(60, TimeUnit.SECONDS).nodeUnstageVolume(
                        NodeUnstageVolumeRequest.newBuilder().setVolumeId(volumeId)
                                .setStagingTargetPath(staging.toString()).build()));
                case 5 -> {
                    if (!keep) {
                        call(retry, () -> c.withDeadlineAfter(60, TimeUnit.SECONDS).deleteSnapshot(
                                DeleteSnapshotRequest.newBuilder().setSnapshotId(snapshotId).build()));
                        snapshots.remove(snapshotId);
                    }
                }
                case 6 -> {
                    if (!keep) {
                        call(retry, () -> c.withDeadlineAfter(60, TimeUnit.SECONDS).deleteVolume(
                                DeleteVolumeRequest.newBuilder().setVolumeId(volumeId).build()));
                        volumes.remove(volumeId);
                    }
                }
                default -> throw new IllegalStateException("step " + step);
            }
        }

        @Override
        public String toString() {
            return name + "@" + step;
        }
    }

    /** A request; any failure is a {@link StatusRuntimeException}. */
    private interface Rpc<T> {
        T call();
    }

    /**
     * Calls once, or (retry) until the answer is final: UNAVAILABLE, ABORTED and DEADLINE_EXCEEDED
     * are what a sidecar retries with the same request. Any other error fails the test.
     */
    private static <T> T call(boolean retry, Rpc<T> rpc) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            try {
                return rpc.call();
            } catch (StatusRuntimeException e) {
                Status.Code code = e.getStatus().getCode();
                boolean retryable = code == Status.Code.UNAVAILABLE || code == Status.Code.ABORTED
                        || code == Status.Code.DEADLINE_EXCEEDED;
                if (!retryable) {
                    throw new AssertionError("final error (not expected in this workload): " + e.getStatus(), e);
                }
                if (!retry && code == Status.Code.UNAVAILABLE) {
                    throw e;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("no final answer after 120 s: " + e.getStatus(), e);
                }
                Thread.sleep(code == Status.Code.UNAVAILABLE ? 100 : 20);
            }
        }
    }

    /**
     * Runs episodes on every thread until {@code stop} says so or the driver dies (a thread then
     * keeps its in-flight episode for {@link #resume}). Returns the number of episodes completed.
     */
    int run(String endpoint, BooleanSupplier stop, int maxEpisodesPerThread) throws Exception {
        int r = round++;
        ManagedChannel ch = UdsChannels.forTarget(endpoint);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicBoolean dead = new AtomicBoolean();
        try {
            List<Future<Integer>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                fs.add(pool.submit(() -> {
                    ControllerGrpc.ControllerBlockingStub c = ControllerGrpc.newBlockingStub(ch);
                    NodeGrpc.NodeBlockingStub n = NodeGrpc.newBlockingStub(ch);
                    int done = 0;
                    for (int k = 0; k < maxEpisodesPerThread && !stop.getAsBoolean() && !dead.get(); k++) {
                        Episode e = new Episode(prefix + "-r" + r + "-t" + thread + "-e" + k, k % 2 == 0);
                        try {
                            e.run(c, n, false);
                            done++;
                        } catch (StatusRuntimeException x) {
                            dead.set(true);
                            interrupted.add(e);
                            return done;
                        }
                    }
                    return done;
                }));
            }
            int total = 0;
            for (Future<Integer> f : fs) {
                total += f.get(10, TimeUnit.MINUTES);
            }
            return total;
        } finally {
            pool.shutdownNow();
            ch.shutdownNow();
        }
    }

    /** Episodes cut short by a dead driver. */
    List<Episode> interrupted() {
        return List.copyOf(interrupted);
    }

    /** Retries each interrupted step to a final answer on the restarted driver and finishes its episode. */
    void resume(String endpoint) throws Exception {
        ManagedChannel ch = UdsChannels.forTarget(endpoint);
        try {
            ControllerGrpc.ControllerBlockingStub c = ControllerGrpc.newBlockingStub(ch);
            NodeGrpc.NodeBlockingStub n = NodeGrpc.newBlockingStub(ch);
            List<Episode> todo = List.copyOf(interrupted);
            interrupted.clear();
            ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, todo.size()));
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (Episode e : todo) {
                    fs.add(pool.submit(() -> {
                        e.run(c, n, true);
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get(5, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
            }
        } finally {
            ch.shutdownNow();
        }
    }
}
