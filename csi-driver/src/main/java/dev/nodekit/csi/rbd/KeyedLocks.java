package dev.nodekit.csi.rbd;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import dev.nodekit.csi.spi.StorageException;

/**
 * One lock per key (request name or id), dropped when unused. A caller waits up to a bound, then
 * gets {@link StorageException.Pending}: the service layer already answers ABORTED at once for a
 * busy id; this protects the journal from two threads of one process (the contract's races).
 */
final class KeyedLocks {
    private final Map<String, Entry> locks = new ConcurrentHashMap<>();
    private final Duration maxWait;

    private static final class Entry {
        final ReentrantLock lock = new ReentrantLock();
        int users;
    }

    /** A held lock; closing releases it. */
    interface Held extends AutoCloseable {
        @Override
        void close();
    }

    KeyedLocks(Duration maxWait) {
        this.maxWait = maxWait;
    }

    Held acquire(String key) throws StorageException.Pending {
        Entry e = locks.compute(key, (k, v) -> {
            Entry x = v == null ? new Entry() : v;
            x.users++;
            return x;
        });
        boolean got = false;
        try {
            got = e.lock.tryLock(maxWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        if (!got) {
            drop(key, e);
            throw new StorageException.Pending("another operation on " + key + " is in progress; retry");
        }
        return () -> {
            e.lock.unlock();
            drop(key, e);
        };
    }

    private void drop(String key, Entry e) {
        locks.computeIfPresent(key, (k, v) -> {
            if (v != e) {
                return v;
            }
            v.users--;
            return v.users == 0 ? null : v;
        });
    }
}
