package dev.nodekit.e2e.ceph;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Ceph daemon the fixture started: {@code setsid <binary> ... -f}, so it runs in its own session
 * (a terminal's or the build's signals do not reach it) while this JVM stays its parent, reaps it
 * and signals it by PID only. setsid execs in place (the JVM's child is not a group leader), so the
 * recorded PID is the daemon's.
 */
final class Daemon {
    private final String name;
    private final Process process;
    private final Path stdoutLog;
    private final Path daemonLog;

    private Daemon(String name, Process process, Path stdoutLog, Path daemonLog) {
        this.name = name;
        this.process = process;
        this.stdoutLog = stdoutLog;
        this.daemonLog = daemonLog;
    }

    static Daemon start(String name, List<String> argv, Path stdoutLog, Path daemonLog) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add("setsid");
        cmd.addAll(argv);
        cmd.add("-f");
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(stdoutLog.toFile())).start();
        return new Daemon(name, p, stdoutLog, daemonLog);
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** SIGTERM. */
    void terminate() {
        if (process.isAlive()) {
            process.destroy();
        }
    }

    /** True when the daemon exited within {@code timeout}. */
    boolean awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** SIGKILL and wait until it is reaped. */
    void kill() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** Why it is not running (for failure messages): exit code and the ends of its logs. */
    String describeDeath() {
        StringBuilder sb = new StringBuilder(name).append(" (pid ").append(pid()).append(")");
        if (!process.isAlive()) {
            sb.append(" exited with ").append(process.exitValue());
        }
        sb.append("; ").append(stdoutLog).append(": ").append(tail(stdoutLog));
        sb.append("; ").append(daemonLog).append(": ").append(tail(daemonLog));
        return sb.toString();
    }

    static String tail(Path file) {
        try {
            if (!Files.exists(file)) {
                return "(none)";
            }
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }
}
