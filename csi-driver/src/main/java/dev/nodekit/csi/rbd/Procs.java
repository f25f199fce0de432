package dev.nodekit.csi.rbd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Processes by pid through {@code /proc} (a root that tests may fake): whether one runs (a zombie
 * does not), its start time (so a recycled pid is not mistaken for our daemon) and its command
 * line. Signals go through {@link ProcessHandle}, which needs no child relationship.
 */
class Procs {
    private final Path proc;

    Procs(Path proc) {
        this.proc = proc;
    }

    static Procs system() {
        return new Procs(Path.of("/proc"));
    }

    /** The start time (field 22 of stat, clock ticks after boot) of a live, non-zombie process. */
    Optional<Long> startTime(long pid) {
        try {
            String stat = Files.readString(proc.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.US_ASCII);
            // the command name (field 2) is in parentheses and may contain spaces: parse after the last ')'
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            if (f[0].equals("Z") || f[0].equals("X")) {
                return Optional.empty();
            }
            return Optional.of(Long.parseLong(f[19]));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** True when {@code pid} runs and started at {@code startTime}: it is the process we recorded. */
    boolean isSame(long pid, long startTime) {
        return startTime(pid).map(t -> t == startTime).orElse(false);
    }

    /** The command line of {@code pid}, empty when it is gone. */
    List<String> cmdline(long pid) {
        try {
            byte[] raw = Files.readAllBytes(proc.resolve(Long.toString(pid)).resolve("cmdline"));
            List<String> out = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == 0) {
                    out.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return out;
        } catch (IOException e) {
            return List.of();
        }
    }

    /** SIGTERM ({@code force}: SIGKILL) to {@code pid}; false when it is gone. */
    boolean signal(long pid, boolean force) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty()) {
            return false;
        }
        return force ? h.get().destroyForcibly() : h.get().destroy();
    }

    /** Waits until the process recorded as {@code pid}/{@code startTime} is gone; true when it is. */
    boolean awaitExit(long pid, long startTime, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (isSame(pid, startTime)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }
}
