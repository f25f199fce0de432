package dev.nodekit.conformance.cni;

import java.time.Duration;
import java.util.Objects;

/**
 * What one process run gave: exit code, stdout, stderr, how long it took, and whether it was
 * killed at its timeout (then the exit code is meaningless and reported as -1).
 */
public record ExecResult(int exitCode, String stdout, String stderr, Duration duration, boolean timedOut) {
    public ExecResult {
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
        Objects.requireNonNull(duration, "duration");
    }

    /** Exit 0 within the timeout. */
    public boolean succeeded() {
        return exitCode == 0 && !timedOut;
    }

    /** One line for failure messages: exit code (or timeout), then stdout and stderr, shortened. */
    public String summary() {
        String head = timedOut ? "killed after " + duration.toMillis() + " ms (timeout)" : "exit " + exitCode;
        return head + ", stdout: " + shorten(stdout) + ", stderr: " + shorten(stderr);
    }

    static String shorten(String s) {
        String one = s.strip().replaceAll("\\s+", " ");
        if (one.isEmpty()) {
            return "(empty)";
        }
        return one.length() > 240 ? one.substring(0, 240) + "..." : one;
    }
}
