package dev.nodekit.e2e.ceph;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Cleans up after fixture JVMs that died without running their exit hook (a native crash, SIGKILL):
 * their cluster dirs carry an {@code owner} file (JVM pid and start time). For a dir whose owner is
 * gone, the daemons listed in its {@code pids} file are stopped by PID, but only those whose command
 * line names that dir (a recycled PID belongs to someone else), and the dir is deleted. Dirs of live
 * JVMs (parallel builds, other users of this machine) are left alone.
 */
final class Orphans {
    static final String PREFIX = "nodekit-ceph-";
    private static boolean reaped;

    private Orphans() {
    }

    /** Writes the owner file of a new cluster dir: this JVM's pid and start time. */
    static void claim(Path dir) throws IOException {
        ProcessHandle self = ProcessHandle.current();
        Files.writeString(dir.resolve("owner"), self.pid() + " "
                + self.info().startInstant().map(Instant::toEpochMilli).orElse(0L) + "\n");
    }

    /** Once per JVM: reaps the clusters of dead fixture JVMs in {@code tmp}. */
    static synchronized void reapOnce(Path tmp) {
        if (reaped) {
            return;
        }
        reaped = true;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, PREFIX + "*")) {
            for (Path dir : dirs) {
                if (ownerGone(dir)) {
                    reap(dir);
                }
            }
        } catch (IOException e) {
            System.err.println("ceph fixture: could not scan " + tmp + " for orphaned clusters: " + e);
        }
    }

    private static boolean ownerGone(Path dir) {
        try {
            String[] f = Files.readString(dir.resolve("owner"), StandardCharsets.UTF_8).strip().split(" ");
            long pid = Long.parseLong(f[0]);
            long started = Long.parseLong(f[1]);
            Optional<ProcessHandle> owner = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
            return owner.isEmpty() || owner.get().info().startInstant().map(Instant::toEpochMilli)
                    .map(s -> s != started).orElse(false);
        } catch (IOException | RuntimeException e) {
            return false; // no readable owner file: not provably ours to reap
        }
    }

    private static void reap(Path dir) throws IOException {
        List<ProcessHandle> daemons = new ArrayList<>();
        Path pids = dir.resolve("pids");
        if (Files.exists(pids)) {
            for (String line : Files.readAllLines(pids, StandardCharsets.UTF_8)) {
                String[] f = line.strip().split(" ");
                if (f.length == 2) {
                    ProcessHandle.of(Long.parseLong(f[1])).filter(p -> commandLine(p).contains(dir.toString()))
                            .ifPresent(daemons::add);
                }
            }
        }
        System.err.println("ceph fixture: reaping orphaned cluster " + dir + " (daemons " + daemons.stream()
                .map(ProcessHandle::pid).toList() + ")");
        daemons.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + 3_000_000_000L;
        for (ProcessHandle p : daemons) {
            while (p.isAlive() && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static String commandLine(ProcessHandle p) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline")),
                    StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }
}
