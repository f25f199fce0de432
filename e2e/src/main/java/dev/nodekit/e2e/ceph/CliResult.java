package dev.nodekit.e2e.ceph;

import java.time.Duration;
import java.util.List;

/**
 * The outcome of one command the fixture ran.
 *
 * @param argv     the command line
 * @param exitCode its exit code
 * @param stdout   standard output
 * @param stderr   standard error
 * @param duration wall time
 */
public record CliResult(List<String> argv, int exitCode, String stdout, String stderr, Duration duration) {
    /** Copies the command line. */
    public CliResult {
        argv = List.copyOf(argv);
    }

    /** True for exit code 0. */
    public boolean ok() {
        return exitCode == 0;
    }

    /** One line for failure messages: the command, its exit code and the end of stderr. */
    public String describe() {
        String err = stderr.strip();
        if (err.length() > 2000) {
            err = "..." + err.substring(err.length() - 2000);
        }
        return String.join(" ", argv) + " -> exit " + exitCode + (err.isEmpty() ? "" : ": " + err);
    }
}
