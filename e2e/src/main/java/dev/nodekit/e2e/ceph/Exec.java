package dev.nodekit.e2e.ceph;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/** Runs one command to completion with a deadline, output captured through files in a scratch dir. */
final class Exec {
    private static final AtomicLong SEQ = new AtomicLong();

    private Exec() {
    }

    /**
     * Runs {@code argv}. {@code abort} is asked every 100 ms; when it returns a reason the command
     * is killed and an IOException with that reason is thrown (a daemon it waits for died).
     */
    static CliResult run(List<String> argv, Map<String, String> env, Path scratch, Duration timeout,
            Supplier<Optional<String>> abort) throws IOException {
        long n = SEQ.incrementAndGet();
        Path out = scratch.resolve(n + ".out");
        Path err = scratch.resolve(n + ".err");
        ProcessBuilder pb = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(env);
        long start = System.nanoTime();
        Process p = pb.start();
        try {
            long deadline = start + timeout.toNanos();
            while (!p.waitFor(100, TimeUnit.MILLISECONDS)) {
                Optional<String> reason = abort.get();
                if (reason.isPresent()) {
                    kill(p);
                    throw new IOException(String.join(" ", argv) + " aborted: " + reason.get());
                }
                if (System.nanoTime() > deadline) {
                    kill(p);
                    throw new IOException(String.join(" ", argv) + " did not finish within " + timeout + "; stderr: "
                            + Files.readString(err, StandardCharsets.UTF_8).strip());
                }
            }
            return new CliResult(argv, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8), Duration.ofNanos(System.nanoTime() - start));
        } catch (InterruptedException e) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", argv), e);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static void kill(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
    }
}
