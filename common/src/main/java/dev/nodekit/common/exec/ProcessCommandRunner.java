package dev.nodekit.common.exec;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real {@link CommandRunner}: one {@link ProcessBuilder} per command, stdout and stderr drained
 * concurrently by pooled daemon threads (so a command filling one pipe cannot deadlock us), each
 * capped at the command's {@code maxOutputBytes}, and on timeout the process and all its
 * descendants killed with SIGKILL.
 *
 * <p>A bare argv[0] is resolved with {@link Executables#which(String)}, so a CNI plugin started
 * with an empty {@code PATH} still finds {@code /usr/sbin/ip}. Each command is logged once at
 * DEBUG with its argv, exit code and duration; environment values and stdin are never logged.
 */
public final class ProcessCommandRunner implements CommandRunner {
    private static final Logger log = LoggerFactory.getLogger(ProcessCommandRunner.class);

    /** How long we wait for the output pipes to reach end of stream after the process exited. */
    public static final Duration DEFAULT_PIPE_GRACE = Duration.ofSeconds(1);
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);

    private static final ExecutorService IO = Executors.newCachedThreadPool(new DaemonThreads());

    private final Function<String, Optional<Path>> resolver;
    private final Duration pipeGrace;

    /** A runner resolving bare names with {@link Executables#which(String)}. */
    public ProcessCommandRunner() {
        this(Executables::which, DEFAULT_PIPE_GRACE);
    }

    /**
     * A runner with its own executable lookup and pipe grace.
     *
     * @param resolver maps argv[0] to the executable to start; empty means "not found"
     * @param pipeGrace how long to keep reading output after the process exited, for the case of a
     *        background child that inherited the pipes and keeps them open (then the output read so
     *        far is returned and the reader thread ends when the child closes the pipe)
     */
    public ProcessCommandRunner(Function<String, Optional<Path>> resolver, Duration pipeGrace) {
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.pipeGrace = Objects.requireNonNull(pipeGrace, "pipeGrace");
    }

    @Override
    public CommandResult run(Command command) throws CommandException {
        List<String> argv = command.argv();
        String exe = argv.get(0);
        Path resolved = resolver.apply(exe).orElseThrow(() -> new CommandException(argv,
                "command '" + command.displayArgv() + "': executable '" + exe + "' not found"
                        + (exe.contains("/") ? "" : " in " + Executables.searchPath()), null));
        List<String> actual = new ArrayList<>(argv);
        actual.set(0, resolved.toString());

        ProcessBuilder pb = new ProcessBuilder(actual);
        pb.environment().putAll(command.environment());
        command.workingDirectory().ifPresent(d -> pb.directory(d.toFile()));

        long start = System.nanoTime();
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new CommandException(argv, "command '" + command.displayArgv() + "' could not be started: "
                    + e.getMessage(), e);
        }
        OutputCapture out = new OutputCapture(command.maxOutputBytes());
        OutputCapture err = new OutputCapture(command.maxOutputBytes());
        Future<?> outDrain = IO.submit(() -> out.drain(process.getInputStream()));
        Future<?> errDrain = IO.submit(() -> err.drain(process.getErrorStream()));
        feedStdin(process, command.stdin());

        boolean exited;
        try {
            exited = process.waitFor(command.timeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            killTree(process);
            Thread.currentThread().interrupt();
            throw new CommandException(argv, "interrupted while running '" + command.displayArgv()
                    + "'; it was killed", e);
        }
        Duration duration = Duration.ofNanos(System.nanoTime() - start);
        if (!exited) {
            killTree(process);
            awaitDrains(outDrain, errDrain, pipeGrace);
            log.atWarn().addKeyValue("argv", command::displayArgv)
                    .addKeyValue("timeout_ms", command.timeout().toMillis())
                    .log("command timed out; killed it and its descendants");
            throw new CommandTimeoutException(argv, command.timeout(), out.text(), err.text());
        }
        boolean pipesClosed = awaitDrains(outDrain, errDrain, pipeGrace);
        int code = process.exitValue();
        if (!pipesClosed) {
            log.atDebug().addKeyValue("argv", command::displayArgv)
                    .log("output pipes still open after exit (a background child kept them); returning output read so far");
        }
        log.atDebug().addKeyValue("argv", command::displayArgv).addKeyValue("exit_code", code)
                .addKeyValue("duration_ms", duration.toMillis()).log("command finished");
        return new CommandResult(argv, code, out.text(), err.text(), duration, out.truncated() || err.truncated());
    }

    private static void feedStdin(Process process, byte[] stdin) {
        OutputStream os = process.getOutputStream();
        if (stdin.length == 0) {
            closeQuietly(os);
            return;
        }
        // Written from another thread: a command that prints before it reads must not block us.
        IO.submit(() -> {
            try (os) {
                os.write(stdin);
            } catch (IOException e) {
                // The command exited or closed stdin without reading everything; its exit code says the rest.
            }
        });
    }

    private static void closeQuietly(OutputStream os) {
        try {
            os.close();
        } catch (IOException e) {
            // Nothing to do: the process may already be gone.
        }
    }

    /**
     * SIGKILLs {@code process} and every descendant it had when we looked. The snapshot is taken
     * first because once the parent dies its children are re-parented and no longer its
     * descendants. A process that forks between the snapshot and the kill can escape; commands
     * needing a hard guarantee belong in their own cgroup or pid namespace.
     */
    static void killTree(Process process) {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroyForcibly();
        for (ProcessHandle h : descendants) {
            h.descendants().forEach(ProcessHandle::destroyForcibly);
            h.destroyForcibly();
        }
        try {
            if (!process.waitFor(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                log.atWarn().addKeyValue("pid", process.pid())
                        .log("process did not die within 5s of SIGKILL (uninterruptible sleep?)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean awaitDrains(Future<?> a, Future<?> b, Duration grace) {
        long deadline = System.nanoTime() + grace.toNanos();
        try {
            a.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            b.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    /** Daemon threads named nodekit-exec-io-N, so a stuck pipe never keeps the JVM alive. */
    private static final class DaemonThreads implements java.util.concurrent.ThreadFactory {
        private final AtomicInteger n = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "nodekit-exec-io-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }
}
