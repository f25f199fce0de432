package dev.nodekit.csi.rbd.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class HandleGuardTest {

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void closeWaitsForRunningCallsAndRunsReleaseOnce() throws Exception {
        HandleGuard g = new HandleGuard("handle h");
        CountDownLatch inCall = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        AtomicBoolean callDone = new AtomicBoolean();
        AtomicBoolean releasedWhileCallRunning = new AtomicBoolean();
        Thread caller = new Thread(() -> {
            try {
                g.run(() -> {
                    inCall.countDown();
                    awaitQuietly(finish);
                    callDone.set(true);
                    return null;
                });
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        caller.start();
        assertThat(inCall.await(5, TimeUnit.SECONDS)).isTrue();
        AtomicInteger releases = new AtomicInteger();
        Thread closer = new Thread(() -> g.close(() -> {
            releasedWhileCallRunning.set(!callDone.get());
            releases.incrementAndGet();
        }));
        closer.start();
        closer.join(200);
        assertThat(closer.isAlive()).as("close waits for the running call").isTrue();
        finish.countDown();
        closer.join(5000);
        caller.join(5000);
        assertThat(releasedWhileCallRunning).isFalse();
        assertThat(releases).hasValue(1);
        assertThat(g.close(releases::incrementAndGet)).isFalse();
        assertThat(releases).hasValue(1);
        assertThat(g.isClosed()).isTrue();
        assertThatThrownBy(() -> g.run(() -> 1)).isInstanceOf(IllegalStateException.class)
                .hasMessage("handle h is closed");
    }
}
