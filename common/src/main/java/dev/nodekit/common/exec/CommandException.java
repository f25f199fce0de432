package dev.nodekit.common.exec;

import java.util.List;
import java.util.OptionalInt;

/**
 * A command did not do its job: it exited with an unaccepted code, could not be started, or (as
 * the subclass {@link CommandTimeoutException}) ran out of time. Carries the argv, the exit code
 * when there is one, and the tail of stderr, which is what an operator needs to see first.
 */
public class CommandException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> argv;
    private final OptionalInt exitCode;
    private final String stderrTail;

    /** A failure described by {@code message}; {@code exitCode} is empty when the process never exited normally. */
    public CommandException(List<String> argv, OptionalInt exitCode, String stderrTail, String message,
            Throwable cause) {
        super(message, cause);
        this.argv = List.copyOf(argv);
        this.exitCode = exitCode;
        this.stderrTail = stderrTail == null ? "" : stderrTail;
    }

    /** A command that could not be run at all (not found, cannot start, interrupted). */
    public CommandException(List<String> argv, String message, Throwable cause) {
        this(argv, OptionalInt.empty(), "", message, cause);
    }

    static CommandException failed(CommandResult r, String accepted) {
        String tail = r.stderrTail();
        String msg = "command '" + Command.display(r.argv()) + "' exited with code " + r.exitCode()
                + (accepted.equals("[0]") ? "" : " (accepted: " + accepted + ")")
                + (tail.isEmpty() ? "" : ": " + tail);
        return new CommandException(r.argv(), OptionalInt.of(r.exitCode()), tail, msg, null);
    }

    /** The argv as given by the caller. */
    public List<String> argv() {
        return argv;
    }

    /** The exit code, empty when the command did not exit by itself (not started, timed out, interrupted). */
    public OptionalInt exitCode() {
        return exitCode;
    }

    /** The last lines of stderr (see {@link CommandResult#stderrTail()}), empty when there was none. */
    public String stderrTail() {
        return stderrTail;
    }
}
