package dev.nodekit.csi;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.nodekit.common.metrics.Metrics;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * Bounds the heavy work of the driver (mkfs, fsck and resize, data copies for clones and
 * snapshots, attaching loop devices) to a fixed number of concurrent operations, in arrival order,
 * so that a burst of provisioning (external-provisioner runs 100 workers) cannot run 100 mkfs at
 * once on a 2-core node. Cheap calls never come here.
 *
 * <p>A caller waits at most until its gRPC deadline (or {@code maxWait} without one) and then gets
 * ABORTED, which every sidecar retries; never RESOURCE_EXHAUSTED, which would make
 * external-provisioner move a late-binding volume to another node. Metrics:
 * {@code nodekit_csi_heavy_ops_in_progress}, {@code nodekit_csi_heavy_ops_queued} (gauges by
 * {@code kind}), {@code nodekit_csi_heavy_ops_wait_seconds} (histogram by kind) and
 * {@code nodekit_csi_heavy_ops_rejected_total}.
 */
final class WorkLimiter {
    private final int permits;
    private final Semaphore semaphore;
    private final Duration maxWait;
    private final Instruments metrics;
    private final AtomicInteger queued = new AtomicInteger();

    WorkLimiter(int permits, Duration maxWait, Metrics metrics) {
        if (permits < 1) {
            throw new IllegalArgumentException("heavy operation limit must be at least 1, got " + permits);
        }
        this.permits = permits;
        this.semaphore = new Semaphore(permits, true);
        this.maxWait = Objects.requireNonNull(maxWait, "maxWait");
        this.metrics = metrics.instruments(Instruments.class, Instruments::new);
    }

    /**
     * Waits for a slot for work of {@code kind} ({@code mkfs}, {@code copy}, {@code attach}...).
     *
     * @throws io.grpc.StatusRuntimeException ABORTED when no slot frees up before the deadline,
     *         CANCELLED when the thread is interrupted
     */
    Permit acquire(String kind) {
        long waitNanos = maxWait.toNanos();
        Deadline deadline = Context.current().getDeadline();
        if (deadline != null) {
            // Leave a little of the caller's time for the work itself to start and answer.
            waitNanos = Math.min(waitNanos, Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS) - 50_000_000L));
        }
        long start = System.nanoTime();
        metrics.queued.labelValues(kind).inc();
        queued.incrementAndGet();
        boolean ok;
        try {
            ok = semaphore.tryAcquire(waitNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Requests.status(Status.CANCELLED, "interrupted while waiting for a slot for " + kind);
        } finally {
            queued.decrementAndGet();
            metrics.queued.labelValues(kind).dec();
        }
        metrics.wait.labelValues(kind).observe((System.nanoTime() - start) / 1e9);
        if (!ok) {
            metrics.rejected.labelValues(kind).inc();
            throw Requests.status(Status.ABORTED, "the node is busy: " + permits + " heavy operations are running and "
                    + queued.get() + " more are waiting; " + kind + " did not get a slot in time, retry later");
        }
        metrics.inProgress.labelValues(kind).inc();
        return new Permit(kind);
    }

    /** Slots in use now. */
    int inProgress() {
        return permits - semaphore.availablePermits();
    }

    /** Callers waiting now. */
    int waiting() {
        return queued.get();
    }

    /** A slot; closing frees it. */
    final class Permit implements AutoCloseable {
        private final String kind;
        private boolean closed;

        private Permit(String kind) {
            this.kind = kind;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                metrics.inProgress.labelValues(kind).dec();
                semaphore.release();
            }
        }
    }

    /** The limiter's instruments, registered once per {@link Metrics}. */
    static final class Instruments {
        final Gauge inProgress;
        final Gauge queued;
        final Histogram wait;
        final Counter rejected;

        Instruments(PrometheusRegistry registry) {
            inProgress = Gauge.builder().name("nodekit_csi_heavy_ops_in_progress")
                    .help("Heavy CSI operations (mkfs, copies, attach) running now").labelNames("kind")
                    .register(registry);
            queued = Gauge.builder().name("nodekit_csi_heavy_ops_queued")
                    .help("Heavy CSI operations waiting for a slot").labelNames("kind").register(registry);
            wait = Histogram.builder().name("nodekit_csi_heavy_ops_wait_seconds")
                    .help("Time heavy CSI operations waited for a slot").labelNames("kind").classicOnly()
                    .classicUpperBounds(0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120).register(registry);
            rejected = Counter.builder().name("nodekit_csi_heavy_ops_rejected_total")
                    .help("Heavy CSI operations that got no slot before their deadline (answered ABORTED)")
                    .labelNames("kind").register(registry);
        }
    }
}
