package dev.nodekit.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.nodekit.common.grpc.UdsChannels;
import dev.nodekit.spec.cri.v1.RuntimeServiceGrpc;
import dev.nodekit.spec.cri.v1.VersionRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;

/**
 * {@code nodekit cri-shim} as a child process, started like the systemd unit starts it (through
 * {@code $NODEKIT_HOME/bin/nodekit}, so with the launcher's JVM flags), for benchmarks and tests that
 * kill it. Its CPU time and memory are read from /proc.
 */
public final class ShimProcess {
    /** USER_HZ: the unit of utime/stime in /proc/PID/stat on Linux. */
    static final int CLOCK_TICKS_PER_SECOND = 100;

    private final Process process;
    private final Path socket;
    private final long spawnedNanos;

    private ShimProcess(Process process, Path socket, long spawnedNanos) {
        this.process = process;
        this.socket = socket;
        this.spawnedNanos = spawnedNanos;
    }

    /**
     * Spawns a shim on {@code socket} in front of {@code upstream}, output to {@code log}. Extra
     * arguments ({@code --config FILE}) are appended.
     */
    public static ShimProcess start(Path socket, String upstream, Path log, String... extra) throws IOException {
        return start(socket, upstream, log, java.util.Map.of(), extra);
    }

    /** As {@link #start(Path, String, Path, String...)} with extra environment ({@code JDK_JAVA_OPTIONS}). */
    public static ShimProcess start(Path socket, String upstream, Path log, java.util.Map<String, String> env,
            String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(launcher());
        cmd.addAll(List.of("cri-shim", "--listen", "unix://" + socket, "--upstream", upstream));
        cmd.addAll(List.of(extra));
        return spawn(cmd, socket, log, env);
    }

    /** Spawns {@code nodekit cri-shim ARGS} (ARGS must include --listen unix://{@code socket}). */
    public static ShimProcess startWithArgs(Path socket, Path log, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(launcher());
        cmd.add("cri-shim");
        cmd.addAll(args);
        return spawn(cmd, socket, log, java.util.Map.of());
    }

    private static ShimProcess spawn(List<String> cmd, Path socket, Path log, java.util.Map<String, String> env)
            throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        long t = System.nanoTime();
        return new ShimProcess(pb.start(), socket, t);
    }

    /**
     * The AppCDS helper of the systemd unit ({@code deploy/systemd/nodekit-cri-shim-cds}) in this
     * installation, if there is one and bin/nodekit with it.
     */
    public static java.util.Optional<List<String>> cdsHelper() {
        String home = System.getenv("NODEKIT_HOME");
        if (home == null) {
            return java.util.Optional.empty();
        }
        Path script = Path.of(home, "deploy", "systemd", "nodekit-cri-shim-cds");
        Path nodekit = Path.of(home, "bin", "nodekit");
        return Files.isExecutable(script) && Files.isExecutable(nodekit)
                ? java.util.Optional.of(List.of(script.toString(), nodekit.toString())) : java.util.Optional.empty();
    }

    /** bin/nodekit when NODEKIT_HOME is set (the launcher exports it), else this JVM's java and class path. */
    static List<String> launcher() {
        String home = System.getenv("NODEKIT_HOME");
        if (home != null && Files.isExecutable(Path.of(home, "bin", "nodekit"))) {
            return List.of(Path.of(home, "bin", "nodekit").toString());
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return List.of(java, "-XX:+UseSerialGC", "-Xss512k", "-Xms16m", "-Xmx192m", "-XX:MaxMetaspaceSize=96m",
                "-XX:ReservedCodeCacheSize=48m", "-XX:+ExitOnOutOfMemoryError", "-XX:-UsePerfData",
                "-cp", System.getProperty("java.class.path"), "dev.nodekit.cli.NodekitMain");
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /**
     * Waits until a Version call through the shim succeeds (a fresh connection per attempt, so no
     * client backoff hides the moment); returns nanoseconds since spawn.
     */
    public long awaitServing(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the shim exited with " + process.exitValue() + " before serving");
            }
            if (Files.exists(socket)) {
                ManagedChannel c = UdsChannels.forTarget("unix://" + socket);
                try {
                    RuntimeServiceGrpc.newBlockingStub(c).withDeadlineAfter(500, TimeUnit.MILLISECONDS)
                            .version(VersionRequest.getDefaultInstance());
                    return System.nanoTime() - spawnedNanos;
                } catch (StatusRuntimeException e) {
                    // not yet
                } finally {
                    c.shutdownNow();
                }
            }
            Thread.sleep(5);
        }
        throw new IllegalStateException("the shim did not serve within " + timeout);
    }

    /** CPU time the process has used so far, in milliseconds. */
    public long cpuMillis() throws IOException {
        return cpuTicks() * 1000 / CLOCK_TICKS_PER_SECOND;
    }

    /** utime + stime of the whole process, in clock ticks. */
    public long cpuTicks() throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid()), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of proc(5)
    }

    /** A line of /proc/PID/status in kB ({@code VmRSS}, {@code VmHWM}). */
    public long statusKb(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
            if (line.startsWith(key + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException(key + " not in /proc/" + pid() + "/status");
    }

    /** SIGKILL, as a crash or the OOM killer would; waits for the process to be gone. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM (graceful drain), then SIGKILL after 20 s; returns the exit code. */
    public int stop() throws InterruptedException {
        if (!process.isAlive()) {
            return process.exitValue();
        }
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }
}
