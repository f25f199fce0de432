package dev.nodekit.common.exec;

import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;

/**
 * A command ran longer than its timeout and was killed together with its descendants. What it had
 * printed until then is kept: a hung {@code mount} often said why on stderr.
 */
public final class CommandTimeoutException extends CommandException {
    private static final long serialVersionUID = 1L;

    private final Duration timeout;
    private final String partialStdout;
    private final String partialStderr;

    /** A timeout after {@code timeout}, with the output captured before the kill. */
    public CommandTimeoutException(List<String> argv, Duration timeout, String partialStdout, String partialStderr) {
        super(argv, OptionalInt.empty(), CommandResult.tail(partialStderr),
                message(argv, timeout, CommandResult.tail(partialStderr)), null);
        this.timeout = timeout;
        this.partialStdout = partialStdout;
        this.partialStderr = partialStderr;
    }

    private static String message(List<String> argv, Duration timeout, String tail) {
        return "command '" + Command.display(argv) + "' timed out after " + timeout.toMillis() + "ms and was killed"
                + (tail.isEmpty() ? "" : "; stderr so far: " + tail);
    }

    /** The timeout that was exceeded. */
    public Duration timeout() {
        return timeout;
    }

    /** Stdout captured before the kill. */
    public String partialStdout() {
        return partialStdout;
    }

    /** Stderr captured before the kill. */
    public String partialStderr() {
        return partialStderr;
    }
}
