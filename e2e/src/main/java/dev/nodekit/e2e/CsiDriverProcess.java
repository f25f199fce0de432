package dev.nodekit.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.spec.csi.v1.IdentityGrpc;
import dev.nodekit.spec.csi.v1.ProbeRequest;
import io.grpc.ManagedChannel;

/**
 * {@code nodekit csi} as a child process, started through the launcher {@code bin/nodekit} (so it
 * runs with the launcher's JVM flags, as in production) on a unix socket in a work directory.
 * For the benchmark and the integration tests: wait until Probe answers ready, read the RSS,
 * SIGTERM it or {@code kill -9} it, and start it again on the same data dir.
 *
 * <p>The launcher {@code exec}s the JVM, so the child's pid is the driver's.
 */
public final class CsiDriverProcess implements AutoCloseable {
    private final Path socket;
    private final Path log;
    private final Process process;
    private final long logBytesAtStart;

    /** What to start. */
    public record Spec(Path workDir, Path dataDir, String nodeId, List<String> extraArgs, Map<String, String> env) {
        public Spec {
            Objects.requireNonNull(workDir, "workDir");
            Objects.requireNonNull(dataDir, "dataDir");
            Objects.requireNonNull(nodeId, "nodeId");
            extraArgs = List.copyOf(extraArgs);
            env = Map.copyOf(env);
        }

        /** A driver in {@code workDir}: socket {@code csi.sock}, data dir {@code data}, node {@code nodeId}. */
        public static Spec in(Path workDir, String nodeId) {
            return new Spec(workDir, workDir.resolve("data"), nodeId, List.of(), Map.of());
        }

        public Spec withArgs(String... args) {
            List<String> a = new ArrayList<>(extraArgs);
            a.addAll(List.of(args));
            return new Spec(workDir, dataDir, nodeId, a, env);
        }

        public Spec withEnv(Map<String, String> more) {
            Map<String, String> e = new java.util.HashMap<>(env);
            e.putAll(more);
            return new Spec(workDir, dataDir, nodeId, extraArgs, e);
        }

        public Path socket() {
            return workDir.resolve("csi.sock");
        }
    }

    private CsiDriverProcess(Path socket, Path log, Process process, long logBytesAtStart) {
        this.socket = socket;
        this.log = log;
        this.process = process;
        this.logBytesAtStart = logBytesAtStart;
    }

    /**
     * Starts the driver and waits up to {@code timeout} until Probe answers ready.
     *
     * @throws IOException when the launcher cannot be found or started, or the driver exits or
     *         stays unready (the message quotes the end of its log)
     */
    public static CsiDriverProcess start(Spec spec, Duration timeout) throws IOException {
        Files.createDirectories(spec.workDir());
        Path log = spec.workDir().resolve("driver.log");
        List<String> cmd = new ArrayList<>(List.of(launcher().toString(), "csi", "--endpoint",
                "unix://" + spec.socket(), "--node-id", spec.nodeId(), "--data-dir", spec.dataDir().toString()));
        if (!spec.extraArgs().contains("--backend")) {
            cmd.addAll(List.of("--backend", "local"));
        }
        cmd.addAll(spec.extraArgs());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(spec.env());
        // The driver's log is a file of its own: INFO unless the spec says otherwise, whatever the
        // level of the process starting it (Maven runs tests at WARN).
        pb.environment().put("NODEKIT_LOG_LEVEL", spec.env().getOrDefault("NODEKIT_LOG_LEVEL", "INFO"));
        long bytesBefore = Files.exists(log) ? Files.size(log) : 0;
        CsiDriverProcess p = new CsiDriverProcess(spec.socket(), log, pb.start(), bytesBefore);
        try {
            p.awaitReady(timeout);
        } catch (IOException | RuntimeException e) {
            p.kill();
            throw e;
        }
        return p;
    }

    /**
     * Starts a driver that is expected to die during startup (a failpoint armed in recovery);
     * returns its exit status, or empty when it became ready instead (it is then stopped).
     */
    public static Optional<Integer> startExpectingDeath(Spec spec, Duration timeout) throws IOException {
        try (CsiDriverProcess p = start(spec, timeout)) {
            p.stop(Duration.ofSeconds(20));
            return Optional.empty();
        } catch (IOException e) {
            if (e instanceof DiedException d) {
                return Optional.of(d.status);
            }
            throw e;
        }
    }

    /** The launcher, {@code $NODEKIT_HOME/bin/nodekit} or the first {@code bin/nodekit} above the working directory. */
    public static Path launcher() throws IOException {
        String home = System.getenv("NODEKIT_HOME");
        if (home != null && Files.isExecutable(Path.of(home, "bin", "nodekit"))) {
            return Path.of(home, "bin", "nodekit");
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path l = d.resolve("bin/nodekit");
            if (Files.isExecutable(l)) {
                return l;
            }
        }
        throw new IOException("bin/nodekit not found (set NODEKIT_HOME or run from the project tree)");
    }

    private void awaitReady(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new DiedException(process.exitValue(), "driver exited with " + process.exitValue()
                        + " before it was ready: " + errorsSinceStart() + "\nlog:\n" + logTail(40));
            }
            if (Files.exists(socket) && probe()) {
                return;
            }
            sleep(50);
        }
        throw new IOException("driver not ready after " + timeout + "; log:\n" + logTail(40));
    }

    private boolean probe() {
        ManagedChannel ch = UdsChannels.forTarget("unix://" + socket);
        try {
            return IdentityGrpc.newBlockingStub(ch).withDeadlineAfter(2, TimeUnit.SECONDS)
                    .probe(ProbeRequest.getDefaultInstance()).getReady().getValue();
        } catch (RuntimeException e) {
            return false;
        } finally {
            ch.shutdownNow();
        }
    }

    /** The driver died before it was ready; carries its exit status. */
    public static final class DiedException extends IOException {
        private static final long serialVersionUID = 1L;
        private final int status;

        DiedException(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    public long pid() {
        return process.pid();
    }

    /** {@code unix:///...} of the driver's socket. */
    public String endpoint() {
        return "unix://" + socket;
    }

    public Path logFile() {
        return log;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Resident set size now, from {@code /proc/<pid>/status} (VmRSS), in KiB. */
    public long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
            }
        }
        throw new IOException("no VmRSS in /proc/" + pid() + "/status");
    }

    /** Waits for the process to exit by itself (a failpoint); its status, or empty on timeout. */
    public Optional<Integer> awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? Optional.of(process.exitValue())
                : Optional.empty();
    }

    /** {@code kill -9}: no shutdown hook runs, the socket file stays, as after a crash. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM and wait; {@code kill -9} after {@code grace}. Returns the exit status. */
    public int stop(Duration grace) {
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                kill();
            }
            return process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
            return -1;
        }
    }

    /** The last {@code lines} lines of the driver's log. */
    /**
     * The lines this start wrote at WARN or ERROR, and the launcher's own one-line errors, so that
     * a failure message leads with the cause even when the tail is cut (the log file is shared by
     * every start on the same work directory).
     */
    private String errorsSinceStart() {
        try {
            byte[] all = Files.readAllBytes(log);
            int from = (int) Math.min(logBytesAtStart, all.length);
            List<String> errors = new ArrayList<>();
            for (String line : new String(all, from, all.length - from, StandardCharsets.UTF_8).lines().toList()) {
                if (line.contains("level=ERROR") || line.contains("level=WARN") || !line.startsWith("ts=")) {
                    errors.add(line);
                }
            }
            return errors.isEmpty() ? "(no error line in its log)" : String.join("\n", errors.subList(
                    Math.max(0, errors.size() - 15), errors.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            stop(Duration.ofSeconds(15));
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
