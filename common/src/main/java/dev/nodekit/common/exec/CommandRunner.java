package dev.nodekit.common.exec;

import java.time.Duration;
import java.util.List;

/**
 * Runs external commands. Code that shells out takes a {@code CommandRunner} so tests can hand it
 * a recording fake ({@code dev.nodekit.common.testing.RecordingCommandRunner} in the common
 * test-jar); only {@code main} passes the real {@link ProcessCommandRunner}.
 *
 * <p>Implementations are thread-safe.
 */
public interface CommandRunner {

    /**
     * Runs {@code command} to completion and returns its result whatever the exit code.
     *
     * @throws CommandTimeoutException when it ran past its timeout (it and its descendants were killed)
     * @throws CommandException when it could not be started or the calling thread was interrupted
     *         (the interrupt flag is then set again)
     */
    CommandResult run(Command command) throws CommandException;

    /** Runs {@code argv} with {@code timeout} and the other defaults of {@link Command#of(List)}. */
    default CommandResult run(List<String> argv, Duration timeout) throws CommandException {
        return run(Command.of(argv).withTimeout(timeout));
    }

    /** Runs {@code command} and throws a {@link CommandException} unless it exited with 0. */
    default CommandResult runChecked(Command command) throws CommandException {
        return run(command).checkSuccess();
    }
}
