package dev.nodekit.csi.local;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import dev.nodekit.csi.spi.StorageException;

/**
 * One lock per key (a request name or an object id), created on first use and dropped when nobody
 * holds or waits for it, so different keys never wait on each other. Waiting is bounded: past the
 * deadline the caller gets {@link StorageException.Pending} (ABORTED, the CO retries), the CSI
 * answer for "an operation on this object is already in progress". Not reentrant.
 */
final class KeyedLocks {
    private final ConcurrentHashMap<String, Entry> locks = new ConcurrentHashMap<>();
    private final Duration wait;

    KeyedLocks(Duration wait) {
        this.wait = wait;
    }

    /** A held lock; {@link #close()} releases it. */
    interface Held extends AutoCloseable {
        @Override
        void close();
    }

    /** Locks {@code key}, waiting at most the configured time; {@code what} names the object in the message. */
    Held lock(String key, String what) throws StorageException {
        Entry e = locks.compute(key, (k, old) -> {
            Entry x = old == null ? new Entry() : old;
            x.users++;
            return x;
        });
        boolean locked = false;
        try {
            locked = e.permit.tryAcquire(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } finally {
            if (!locked) {
                release(key, e);
            }
        }
        if (!locked) {
            throw new StorageException.Pending("another operation on " + what + " is in progress; retry later");
        }
        return new Held() {
            private boolean closed;

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    e.permit.release();
                    release(key, e);
                }
            }
        };
    }

    /** How many keys are currently held or waited for (for tests). */
    int size() {
        return locks.size();
    }

    private void release(String key, Entry e) {
        locks.computeIfPresent(key, (k, x) -> --x.users == 0 ? null : x);
    }

    private static final class Entry {
        // A fair permit, not a ReentrantLock: not reentrant (a nested lock of the same key would be a bug and
        // ends as Pending instead of passing silently), and releasable from any thread.
        final Semaphore permit = new Semaphore(1, true);
        int users; // guarded by the map's compute
    }
}
