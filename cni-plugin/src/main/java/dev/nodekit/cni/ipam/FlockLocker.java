package dev.nodekit.cni.ipam;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import dev.nodekit.common.exec.Executables;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;

/**
 * host-local's lock, taken with {@code flock(2)} semantics as the Go plugin does
 * ({@code go-filemutex}), so a Go host-local and nodekit's exclude each other on one directory.
 *
 * <p>Java can only take {@code fcntl} record locks ({@code FileChannel.lock}), which Linux keeps
 * separate from {@code flock} locks, so the lock is held by a child process:
 * {@code flock -w <timeout> -E 75 <lock file> cat}. We write one byte to its stdin and read it back
 * from its stdout: {@code cat} only starts, and echoes, once {@code flock} holds the lock. Closing
 * stdin ends {@code cat}, and with it the lock. If the JVM dies (kill -9), the kernel closes the pipe,
 * {@code cat} exits and the lock is released: no stale lock survives its holder. The wait is bounded
 * by {@code flock -w}; exit code 75 means it ran out, reported as {@link CniError#TRY_AGAIN_LATER}.
 * The cost is one fork/exec per lock (about the cost of one {@code ip} call).
 */
public final class FlockLocker implements FileLocker {
    private static final int CONFLICT_EXIT = 75;

    private final String flock;

    /** A locker using {@code flock} found on the search path (util-linux). */
    public FlockLocker() {
        Optional<Path> p = Executables.which("flock");
        this.flock = p.isPresent() ? p.get().toString() : "flock";
    }

    /** A locker using the {@code flock} executable at {@code flock}. */
    public FlockLocker(Path flock) {
        this.flock = flock.toString();
    }

    @Override
    public Held lock(Path lockFile, Duration timeout) throws CniException {
        String secs = Long.toString(timeout.toMillis() / 1000) + "." + pad3(timeout.toMillis() % 1000);
        ProcessBuilder pb = new ProcessBuilder(flock, "-w", secs, "-E", Integer.toString(CONFLICT_EXIT),
                lockFile.toString(), "cat");
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot run flock to lock " + lockFile + ": " + e.getMessage());
        }
        boolean held = false;
        try {
            OutputStream in = p.getOutputStream();
            InputStream out = p.getInputStream();
            in.write('L');
            in.flush();
            int b = out.read();
            if (b == 'L') {
                held = true;
                return new ChildLock(p);
            }
            int code = awaitExit(p, timeout);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (code == CONFLICT_EXIT) {
                throw new CniException(CniError.TRY_AGAIN_LATER, "IPAM lock " + lockFile + " stayed busy for "
                        + timeout.toMillis() + " ms");
            }
            throw new CniException(CniError.INTERNAL, "cannot lock " + lockFile + " (flock exit " + code + ")", err);
        } catch (IOException e) {
            throw new CniException(CniError.INTERNAL, "cannot lock " + lockFile + ": " + e.getMessage());
        } finally {
            if (!held) {
                p.destroyForcibly();
            }
        }
    }

    private static String pad3(long ms) {
        return ms < 10 ? "00" + ms : ms < 100 ? "0" + ms : Long.toString(ms);
    }

    private static int awaitExit(Process p, Duration timeout) {
        try {
            if (p.waitFor(timeout.toMillis() + 5000, TimeUnit.MILLISECONDS)) {
                return p.exitValue();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return -1;
    }

    /** The lock held by a live {@code flock ... cat} child. */
    private static final class ChildLock implements Held {
        private final Process process;
        private boolean closed;

        ChildLock(Process process) {
            this.process = process;
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                // EOF on its stdin ends cat, then flock: the lock is released within a moment. Not
                // waiting for that keeps the release off the caller's latency; the next holder's
                // flock simply gets the lock once the child is gone.
                process.getOutputStream().close();
            } catch (IOException e) {
                process.destroyForcibly();
            }
        }
    }
}
