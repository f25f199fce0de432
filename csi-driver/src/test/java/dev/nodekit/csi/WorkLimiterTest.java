package dev.nodekit.csi;

import static dev.nodekit.csi.Statuses.expect;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.nodekit.common.metrics.Metrics;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status.Code;

@SuppressWarnings("try") // permits are held, not used
class WorkLimiterTest {
    final Metrics metrics = Metrics.create();
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    @Test
    void boundsConcurrencyQueuesInOrderAndExportsQueueDepth() throws Exception {
        WorkLimiter limiter = new WorkLimiter(2, Duration.ofSeconds(30), metrics);
        WorkLimiter.Permit a = limiter.acquire("mkfs");
        WorkLimiter.Permit b = limiter.acquire("copy");
        assertThat(limiter.inProgress()).isEqualTo(2);
        CompletableFuture<WorkLimiter.Permit> third = CompletableFuture.supplyAsync(() -> limiter.acquire("mkfs"));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (limiter.waiting() != 1 && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(limiter.waiting()).isEqualTo(1);
        assertThat(metrics.scrapeText()).contains("nodekit_csi_heavy_ops_queued{kind=\"mkfs\"} 1.0")
                .contains("nodekit_csi_heavy_ops_in_progress{kind=\"copy\"} 1.0")
                .contains("nodekit_csi_heavy_ops_in_progress{kind=\"mkfs\"} 1.0");
        assertThat(third).isNotDone();
        a.close();
        a.close(); // closing twice frees one slot, not two
        WorkLimiter.Permit c = third.get(5, TimeUnit.SECONDS);
        assertThat(limiter.inProgress()).isEqualTo(2);
        assertThat(limiter.waiting()).isZero();
        assertThat(metrics.scrapeText()).contains("nodekit_csi_heavy_ops_queued{kind=\"mkfs\"} 0.0");
        b.close();
        c.close();
        assertThat(limiter.inProgress()).isZero();
    }

    @Test
    void aCallerWhoseDeadlineComesFirstIsAbortedNotQueuedForever() throws Exception {
        WorkLimiter limiter = new WorkLimiter(1, Duration.ofMinutes(5), metrics);
        try (WorkLimiter.Permit held = limiter.acquire("attach")) {
            Context.CancellableContext ctx = Context.current()
                    .withDeadline(Deadline.after(300, TimeUnit.MILLISECONDS), scheduler);
            long start = System.nanoTime();
            String msg = ctx.call(() -> expect(Code.ABORTED, () -> limiter.acquire("attach")));
            ctx.cancel(null);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(ms).isBetween(100L, 3000L);
            assertThat(msg).contains("busy").contains("retry");
        }
        assertThat(metrics.scrapeText()).contains("nodekit_csi_heavy_ops_rejected_total{kind=\"attach\"} 1.0");
        limiter.acquire("attach").close();
    }

    @Test
    void withoutADeadlineTheConfiguredMaximumWaitApplies() {
        WorkLimiter limiter = new WorkLimiter(1, Duration.ofMillis(200), metrics);
        try (WorkLimiter.Permit held = limiter.acquire("copy")) {
            expect(Code.ABORTED, () -> limiter.acquire("copy"));
        }
    }

    @Test
    void refusesAZeroLimit() {
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> new WorkLimiter(0, Duration.ofSeconds(1), metrics));
    }
}
