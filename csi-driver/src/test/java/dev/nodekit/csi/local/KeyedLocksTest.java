package dev.nodekit.csi.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.nodekit.csi.spi.StorageException;

@SuppressWarnings("try") // resources held, not used
class KeyedLocksTest {
    @Test
    void sameKeyExcludesOtherKeysDoNot() throws Exception {
        KeyedLocks locks = new KeyedLocks(Duration.ofMillis(50));
        ExecutorService other = Executors.newSingleThreadExecutor();
        try (KeyedLocks.Held a = locks.lock("a", "object a")) {
            Future<?> busy = other.submit(() -> locks.lock("a", "object a"));
            assertThatThrownBy(() -> busy.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(StorageException.Pending.class)
                    .hasMessageContaining("object a is in progress");
            Future<KeyedLocks.Held> free = other.submit(() -> locks.lock("b", "object b"));
            free.get(10, TimeUnit.SECONDS).close();
            assertThat(locks.size()).isEqualTo(1);
        } finally {
            other.shutdownNow();
        }
        assertThat(locks.size()).as("unused locks are dropped").isZero();
    }

    @Test
    void aWaiterGetsTheLockWhenItIsReleasedInTime() throws Exception {
        KeyedLocks locks = new KeyedLocks(Duration.ofSeconds(10));
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            KeyedLocks.Held held = locks.lock("k", "k");
            Future<KeyedLocks.Held> waiter = other.submit(() -> locks.lock("k", "k"));
            Thread.sleep(50);
            assertThat(waiter.isDone()).isFalse();
            held.close();
            held.close(); // idempotent
            waiter.get(10, TimeUnit.SECONDS).close();
        } finally {
            other.shutdownNow();
        }
        assertThat(locks.size()).isZero();
    }
}
