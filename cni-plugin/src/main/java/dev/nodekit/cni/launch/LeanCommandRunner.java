package dev.nodekit.cni.launch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.CommandTimeoutException;
import dev.nodekit.common.exec.Executables;

/**
 * The {@link CommandRunner} of the CNI executables: the contract of common's
 * {@code ProcessCommandRunner} (argv resolved on the sbin-inclusive search path, both pipes drained
 * concurrently and capped, a timeout that SIGKILLs the process and its descendants) with a start-up
 * cost that fits a process living for one CNI call: two plain reader threads per command instead of
 * a pool, no lambdas or method references (each is an invokedynamic bootstrap in a fresh JVM), and
 * stdin written before reading when it fits in a pipe buffer. On the ADD path of a fresh JDK 17 the
 * pooled runner's executor, VarHandles and lambda bootstraps cost about 7 ms of class loading and
 * linking, paid on every pod. Long-running processes should keep using {@code ProcessCommandRunner}.
 */
public final class LeanCommandRunner implements CommandRunner {
    /** Smaller than the Linux pipe buffer, so writing it cannot block on a child that does not read. */
    private static final int INLINE_STDIN = 16 * 1024;
    private static final long PIPE_GRACE_MS = 1000;

    @Override
    public CommandResult run(Command command) throws CommandException {
        List<String> argv = command.argv();
        String exe = argv.get(0);
        Optional<java.nio.file.Path> resolved = Executables.which(exe);
        if (resolved.isEmpty()) {
            throw new CommandException(argv, "command '" + command.displayArgv() + "': executable '" + exe
                    + "' not found", null);
        }
        List<String> actual = new ArrayList<>(argv);
        actual.set(0, resolved.get().toString());
        ProcessBuilder pb = new ProcessBuilder(actual);
        if (!command.environment().isEmpty()) {
            pb.environment().putAll(command.environment());
        }
        if (command.workingDirectory().isPresent()) {
            pb.directory(command.workingDirectory().get().toFile());
        }
        long start = System.nanoTime();
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new CommandException(argv, "command '" + command.displayArgv() + "' could not be started: "
                    + e.getMessage(), e);
        }
        Drain out = new Drain(p.getInputStream(), command.maxOutputBytes());
        Drain err = new Drain(p.getErrorStream(), command.maxOutputBytes());
        out.start();
        err.start();
        byte[] stdin = command.stdin();
        if (stdin.length <= INLINE_STDIN) {
            feed(p.getOutputStream(), stdin);
        } else {
            Thread t = new Thread(new Feeder(p.getOutputStream(), stdin), "nodekit-stdin");
            t.setDaemon(true);
            t.start();
        }
        boolean exited;
        try {
            exited = p.waitFor(command.timeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            killTree(p);
            Thread.currentThread().interrupt();
            throw new CommandException(argv, "interrupted while running '" + command.displayArgv() + "'; it was killed",
                    e);
        }
        if (!exited) {
            killTree(p);
            out.await(PIPE_GRACE_MS);
            err.await(PIPE_GRACE_MS);
            throw new CommandTimeoutException(argv, command.timeout(), out.text(), err.text());
        }
        out.await(PIPE_GRACE_MS);
        err.await(PIPE_GRACE_MS);
        return new CommandResult(argv, p.exitValue(), out.text(), err.text(),
                Duration.ofNanos(System.nanoTime() - start), out.truncated || err.truncated);
    }

    private static void feed(OutputStream os, byte[] data) {
        try (os) {
            if (data.length > 0) {
                os.write(data);
            }
        } catch (IOException e) {
            // The command exited or closed stdin early; its exit code tells the rest.
        }
    }

    private static void killTree(Process p) {
        List<ProcessHandle> descendants = new ArrayList<>();
        java.util.Iterator<ProcessHandle> it = p.descendants().iterator();
        while (it.hasNext()) {
            descendants.add(it.next());
        }
        p.destroyForcibly();
        for (ProcessHandle h : descendants) {
            h.destroyForcibly();
        }
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Writes a large stdin from its own thread. */
    private static final class Feeder implements Runnable {
        private final OutputStream os;
        private final byte[] data;

        Feeder(OutputStream os, byte[] data) {
            this.os = os;
            this.data = data;
        }

        @Override
        public void run() {
            feed(os, data);
        }
    }

    /** Reads one pipe to its end on a daemon thread, keeping the first {@code limit} bytes. */
    private static final class Drain extends Thread {
        private final InputStream in;
        private final int limit;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream(256);
        private volatile boolean truncated;

        Drain(InputStream in, int limit) {
            super("nodekit-pipe");
            setDaemon(true);
            this.in = in;
            this.limit = limit;
        }

        @Override
        public void run() {
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) != -1) {
                    synchronized (kept) {
                        int room = limit - kept.size();
                        if (room > 0) {
                            kept.write(buf, 0, Math.min(room, n));
                        }
                        if (n > room) {
                            truncated = true;
                        }
                    }
                }
            } catch (IOException e) {
                // The pipe was closed under us: keep what was read.
            }
        }

        void await(long ms) {
            try {
                join(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        String text() {
            synchronized (kept) {
                return new String(kept.toByteArray(), StandardCharsets.UTF_8);
            }
        }
    }
}
