package dev.nodekit.bench.cni;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code nodekit cni daemon} as a child process of this JVM (same JVM binary, same class path), for
 * the benchmark and the integration tests that must kill it with -9. Started on a socket of its own,
 * logging to a file; stopped by its PID only.
 */
public final class CniDaemonProcess implements AutoCloseable {
    private final Process process;
    private final Path socket;
    private final Path log;

    private CniDaemonProcess(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    /**
     * Starts a daemon on {@code socket} with {@code extraArgs} and waits until it accepts connections.
     *
     * @throws IOException when it exits or does not accept within {@code timeout}
     */
    public static CniDaemonProcess start(Path socket, Path log, Duration timeout, String... extraArgs) throws IOException {
        // Through the launcher, as the systemd unit and the DaemonSet run it: its JVM profile for
        // `cni` (C1 only, small heap) is part of what is measured.
        List<String> argv = new ArrayList<>(List.of(dev.nodekit.e2e.CsiDriverProcess.launcher().toString(), "cni",
                "daemon", "--socket", socket.toString()));
        argv.addAll(List.of(extraArgs));
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().put("NODEKIT_LOG_LEVEL", "info");
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process p = pb.start();
        CniDaemonProcess d = new CniDaemonProcess(p, socket, log);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("CNI daemon exited with " + p.exitValue() + ": " + d.logTail());
            }
            if (d.answers()) {
                return d;
            }
            sleep(50);
        }
        d.kill();
        throw new IOException("CNI daemon did not accept on " + socket + " within " + timeout + ": " + d.logTail());
    }

    /** Whether something accepts connections on the socket. */
    public boolean answers() {
        if (!Files.exists(socket)) {
            return false;
        }
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return c.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    public long pid() {
        return process.pid();
    }

    public Path socket() {
        return socket;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL by PID and wait for it: the socket file stays behind, as after a crash. */
    public void kill() {
        process.destroyForcibly();
        waitQuietly(Duration.ofSeconds(30));
    }

    /** SIGTERM by PID (the daemon drains its calls and removes its socket) and wait up to {@code timeout}, then kill. */
    public void stop(Duration timeout) {
        process.destroy();
        if (!waitQuietly(timeout)) {
            kill();
        }
    }

    private boolean waitQuietly(Duration d) {
        try {
            return process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The last lines of the daemon's log. */
    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** The whole log. */
    public List<String> logLines() throws IOException {
        return Files.readAllLines(log);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            stop(Duration.ofSeconds(40));
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
