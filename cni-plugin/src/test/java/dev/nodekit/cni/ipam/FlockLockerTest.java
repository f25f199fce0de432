package dev.nodekit.cni.ipam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;

class FlockLockerTest {
    @TempDir
    Path dir;

    @Test
    void excludesOtherHoldersUntilClosed() throws Exception {
        FlockLocker locker = new FlockLocker();
        Path lock = dir.resolve("lock");
        AtomicLong acquiredAt = new AtomicLong();
        CountDownLatch started = new CountDownLatch(1);
        long releasedAt;
        try (FileLocker.Held first = locker.lock(lock, Duration.ofSeconds(5))) {
            Thread t = new Thread(() -> {
                started.countDown();
                try (FileLocker.Held second = locker.lock(lock, Duration.ofSeconds(20))) {
                    acquiredAt.set(System.nanoTime());
                } catch (CniException e) {
                    throw new AssertionError(e);
                }
            });
            t.start();
            started.await();
            Thread.sleep(500);
            assertThat(acquiredAt.get()).isZero();
            releasedAt = System.nanoTime();
            first.close();
            t.join(20_000);
        }
        assertThat(acquiredAt.get()).isGreaterThan(releasedAt);
        assertThat(lock).exists();
    }

    @Test
    void givesUpAtTheDeadlineWithTryAgainLater() throws Exception {
        Path lock = dir.resolve("lock");
        Process holder = new ProcessBuilder("flock", "-o", lock.toString(), "sleep", "20").start();
        try {
            Thread.sleep(300);
            long start = System.nanoTime();
            assertThatThrownBy(() -> new FlockLocker().lock(lock, Duration.ofMillis(400)))
                    .isInstanceOfSatisfying(CniException.class, e -> {
                        assertThat(e.code()).isEqualTo(CniError.TRY_AGAIN_LATER);
                        assertThat(e.getMessage()).contains("stayed busy");
                    });
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        } finally {
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
        try (FileLocker.Held h = new FlockLocker().lock(lock, Duration.ofSeconds(5))) {
            assertThat(h).isNotNull();
        }
    }

    @Test
    void anUnusableLockPathIsAClearError() {
        assertThatThrownBy(() -> new FlockLocker().lock(dir.resolve("missing/dir/lock"), Duration.ofSeconds(1)))
                .isInstanceOfSatisfying(CniException.class, e -> assertThat(e.code()).isEqualTo(CniError.INTERNAL))
                .hasMessageContaining("cannot lock");
    }
}
