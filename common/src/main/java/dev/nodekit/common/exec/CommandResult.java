package dev.nodekit.common.exec;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What a finished command left behind: its exit code, its captured output (decoded as UTF-8,
 * malformed bytes replaced) and how long it ran. A non-zero exit is a result, not an exception:
 * call {@link #checkSuccess()} when only zero is acceptable, or {@link #checkExit(int...)} when
 * some non-zero codes are answers (grep's 1, umount's 32).
 *
 * @param argv the argv as the caller gave it (argv[0] not resolved)
 * @param exitCode the exit status; 128+N when the process died of signal N
 * @param stdout captured standard output, at most the command's {@code maxOutputBytes}
 * @param stderr captured standard error, at most the command's {@code maxOutputBytes}
 * @param duration from start to exit
 * @param outputTruncated true when stdout or stderr produced more than was kept
 */
public record CommandResult(List<String> argv, int exitCode, String stdout, String stderr, Duration duration,
        boolean outputTruncated) {

    /** Lines of stderr quoted by {@link #stderrTail()} and by {@link CommandException}. */
    public static final int TAIL_LINES = 20;
    /** Characters of stderr quoted at most by {@link #stderrTail()}. */
    public static final int TAIL_CHARS = 2048;

    /** Validates and copies. */
    public CommandResult {
        argv = List.copyOf(argv);
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
        Objects.requireNonNull(duration, "duration");
    }

    /** A result that was not truncated; convenient for fakes. */
    public CommandResult(List<String> argv, int exitCode, String stdout, String stderr, Duration duration) {
        this(argv, exitCode, stdout, stderr, duration, false);
    }

    /** True when the exit code is 0. */
    public boolean succeeded() {
        return exitCode == 0;
    }

    /** Returns this result when the exit code is 0; otherwise throws a {@link CommandException} quoting stderr's tail. */
    public CommandResult checkSuccess() throws CommandException {
        return checkExit(0);
    }

    /** Returns this result when the exit code is one of {@code accepted}; otherwise throws a {@link CommandException}. */
    public CommandResult checkExit(int... accepted) throws CommandException {
        for (int a : accepted) {
            if (a == exitCode) {
                return this;
            }
        }
        throw CommandException.failed(this, Arrays.toString(accepted));
    }

    /** The last {@link #TAIL_LINES} lines of stderr, at most {@link #TAIL_CHARS} characters, trimmed. */
    public String stderrTail() {
        return tail(stderr);
    }

    /** Stdout split into lines (no trailing empty line). */
    public List<String> stdoutLines() {
        return stdout.lines().toList();
    }

    static String tail(String text) {
        List<String> lines = text.strip().lines().toList();
        String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
        if (tail.length() > TAIL_CHARS) {
            tail = "..." + tail.substring(tail.length() - TAIL_CHARS);
        }
        return tail;
    }

    /** The argv, exit code and duration; output is left out (it can be megabytes). */
    @Override
    public String toString() {
        return "CommandResult[" + Command.display(argv) + ", exit=" + exitCode + ", duration=" + duration.toMillis()
                + "ms, stdout=" + stdout.length() + " chars, stderr=" + stderr.length() + " chars"
                + (outputTruncated ? ", truncated" : "") + "]";
    }
}
