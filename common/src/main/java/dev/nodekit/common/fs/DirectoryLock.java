package dev.nodekit.common.fs;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * An exclusive lock on a directory's state, held through an OS file lock on {@code <dir>/lock}, so
 * it excludes other processes (several CNI plugin executions at once, a restarted driver next to
 * the old one) as well as other threads of this JVM. Waiting is bounded: {@link #acquire} gives up
 * with a {@link LockTimeoutException} at the deadline instead of blocking forever on a holder that
 * hangs.
 *
 * <pre>{@code
 * try (DirectoryLock lock = DirectoryLock.acquire(stateDir, Duration.ofSeconds(10))) {
 *     ... read, change, AtomicFiles.write ...
 * }
 * }</pre>
 *
 * <p>The resource is held, not used, so {@code javac -Xlint:try} warns about the block; annotate
 * the method {@code @SuppressWarnings("try")}.
 *
 * <p>Not reentrant: a thread acquiring a lock it holds waits until its deadline. The lock file is
 * never deleted (deleting lock files lets two processes lock two different inodes). After
 * acquiring, the holder's pid is written into the lock file; a timeout message quotes it.
 */
public final class DirectoryLock implements AutoCloseable {
    /** The lock file's name inside the directory. */
    public static final String LOCK_FILE_NAME = "lock";

    private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final Map<Object, Gate> GATES = new HashMap<>();

    private final Path lockFile;
    private final Gate gate;
    private final FileChannel channel;
    private boolean closed;

    private DirectoryLock(Path lockFile, Gate gate, FileChannel channel) {
        this.lockFile = lockFile;
        this.gate = gate;
        this.channel = channel;
    }

    /**
     * Locks {@code dir} (created if missing) through {@code dir/lock}, waiting at most {@code timeout}
     * ({@link Duration#ZERO} tries once).
     *
     * @throws LockTimeoutException when the lock stayed busy until the deadline
     * @throws InterruptedIOException when the thread was interrupted while waiting (the flag is set again)
     */
    public static DirectoryLock acquire(Path dir, Duration timeout) throws IOException {
        Files.createDirectories(dir);
        return acquireFile(dir.resolve(LOCK_FILE_NAME), timeout);
    }

    /** Like {@link #acquire} with an explicit lock file (created if missing, mode 0600; its directory must exist). */
    public static DirectoryLock acquireFile(Path lockFile, Duration timeout) throws IOException {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative, got " + timeout);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        createIfMissing(lockFile);
        Path canonical = lockFile.toRealPath();
        Object key = Files.readAttributes(canonical, BasicFileAttributes.class).fileKey();
        Gate gate = Gate.enter(key != null ? key : canonical);
        boolean ok = false;
        try {
            // In-JVM first: the JVM would throw OverlappingFileLockException for a second lock on the
            // file, and on Linux closing ANY descriptor of the file drops the process's locks on it.
            if (!gate.permit.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new LockTimeoutException(canonical, timeout, " (held by another thread of this process)");
            }
            try {
                FileChannel ch = FileChannel.open(canonical, StandardOpenOption.READ, StandardOpenOption.WRITE);
                try {
                    pollFileLock(ch, deadline, canonical, timeout);
                    recordHolder(ch);
                    ok = true;
                    return new DirectoryLock(canonical, gate, ch);
                } finally {
                    if (!ok) {
                        ch.close();
                    }
                }
            } finally {
                if (!ok) {
                    gate.permit.release();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException ie = new InterruptedIOException("interrupted waiting for lock " + canonical);
            ie.initCause(e);
            throw ie;
        } finally {
            if (!ok) {
                Gate.leave(gate);
            }
        }
    }

    private static void pollFileLock(FileChannel ch, long deadline, Path file, Duration timeout)
            throws IOException, InterruptedException {
        long backoff = TimeUnit.MILLISECONDS.toNanos(1);
        while (true) {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // locked in this JVM by code that bypasses DirectoryLock: treat as busy
            }
            if (lock != null) {
                return;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new LockTimeoutException(file, timeout, holder(ch));
            }
            long jitter = ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
            TimeUnit.NANOSECONDS.sleep(Math.min(left, backoff / 2 + jitter));
            backoff = Math.min(backoff * 2, MAX_BACKOFF_NANOS);
        }
    }

    private static void createIfMissing(Path lockFile) throws IOException {
        try {
            // O_EXCL: when the file exists no descriptor is opened (and closed), so no lock is dropped.
            Files.createFile(lockFile, PosixFilePermissions.asFileAttribute(AtomicFiles.OWNER_ONLY));
        } catch (FileAlreadyExistsException e) {
            // Normal case.
        }
    }

    private static void recordHolder(FileChannel ch) throws IOException {
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(("pid=" + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
    }

    /** Read through our own channel: opening another descriptor and closing it would drop locks. */
    private static String holder(FileChannel ch) {
        try {
            ByteBuffer buf = ByteBuffer.allocate(64);
            ch.read(buf, 0);
            String s = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).strip();
            return s.startsWith("pid=") ? " (last taken by " + s.replace('=', ' ') + ")" : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** The canonical path of the lock file. */
    public Path lockFile() {
        return lockFile;
    }

    /** Releases the lock; idempotent. May be called from another thread than the one that acquired it. */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            channel.close();
        } finally {
            gate.permit.release();
            Gate.leave(gate);
        }
    }

    @Override
    public String toString() {
        return "DirectoryLock[" + lockFile + "]";
    }

    /** The in-JVM part of a lock: one fair permit per lock file, dropped when nobody uses it. */
    private static final class Gate {
        final Object key;
        final Semaphore permit = new Semaphore(1, true);
        int users;

        Gate(Object key) {
            this.key = key;
        }

        static Gate enter(Object key) {
            synchronized (GATES) {
                Gate g = GATES.computeIfAbsent(key, Gate::new);
                g.users++;
                return g;
            }
        }

        static void leave(Gate g) {
            synchronized (GATES) {
                if (--g.users == 0) {
                    GATES.remove(g.key);
                }
            }
        }
    }
}
