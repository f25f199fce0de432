package dev.nodekit.csi.rbd.ceph;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Keeps a native handle alive while calls use it: calls share a read lock, closing takes the
 * write lock, so the handle is freed only after every running call has returned (each is bounded
 * by the librados timeouts) and no call can start on a freed handle, which would crash the JVM.
 */
final class HandleGuard {
    /** A call that uses the guarded handle. */
    @FunctionalInterface
    interface Call<T> {
        T call() throws CephException;
    }

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final String description;
    /** Written under the write lock; read without it by {@link #isClosed()}, which must not queue behind a close. */
    private volatile boolean closed;

    HandleGuard(String description) {
        this.description = description;
    }

    /** Runs {@code call} while the handle is open; IllegalStateException once it is closed. */
    <T> T run(Call<T> call) throws CephException {
        lock.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException(description + " is closed");
            }
            return call.call();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Marks the handle closed and runs {@code release} once; false when it was closed already. */
    boolean close(Runnable release) {
        lock.writeLock().lock();
        try {
            if (closed) {
                return false;
            }
            closed = true;
            release.run();
            return true;
        } finally {
            lock.writeLock().unlock();
        }
    }

    boolean isClosed() {
        return closed;
    }
}
