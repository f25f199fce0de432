package dev.nodekit.common.testing;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.CommandTimeoutException;

/**
 * A {@link CommandRunner} for unit tests of code that shells out: it records every command and
 * answers from scripted responses instead of running anything.
 *
 * <pre>{@code
 * RecordingCommandRunner runner = new RecordingCommandRunner();
 * runner.onPrefix("umount").thenFail(32, "umount: /mnt: not mounted.");
 * runner.onPrefix("mount", "--bind").thenSucceed();
 * runner.on(c -> c.argv().contains("-l"), "lazy umount").thenTimeout();
 * runner.onPrefix("blkid").thenAnswer(cmd -> ...);      // compute a result, or change fixture state
 * ...
 * assertThat(runner.argvs()).containsExactly(List.of("mount", "--bind", "/a", "/b"));
 * }</pre>
 *
 * <p>Rules: the most recently added rule that matches answers (so a test can override a rule from
 * its setup). A rule answers with its responses in order and repeats the last one; a rule with no
 * response succeeds with empty output. A command no rule matches fails the test with an
 * {@link AssertionError} naming the command and the scripted rules. Thread-safe.
 */
public final class RecordingCommandRunner implements CommandRunner {

    /** Computes the answer to a command; may throw like a real runner. */
    @FunctionalInterface
    public interface Answer {
        /** The result for {@code command}. */
        CommandResult answer(Command command) throws CommandException;
    }

    private final List<Rule> rules = new ArrayList<>();
    private final List<Command> invocations = new ArrayList<>();

    /** A rule for commands whose argv starts with {@code prefix}, exactly as the code under test passes it. */
    public synchronized Rule onPrefix(String... prefix) {
        List<String> p = List.of(prefix);
        return add(new Rule("argv starts with " + p, c -> c.startsWith(p)));
    }

    /** A rule for commands matching {@code matcher}; {@code description} appears in failure messages. */
    public synchronized Rule on(Predicate<Command> matcher, String description) {
        return add(new Rule(description, matcher));
    }

    private Rule add(Rule r) {
        rules.add(r);
        return r;
    }

    @Override
    public CommandResult run(Command command) throws CommandException {
        Rule match = null;
        synchronized (this) {
            invocations.add(command);
            for (int i = rules.size() - 1; i >= 0; i--) {
                if (rules.get(i).matcher.test(command)) {
                    match = rules.get(i);
                    break;
                }
            }
            if (match == null) {
                List<String> described = rules.stream().map(r -> r.description).toList();
                throw new AssertionError("RecordingCommandRunner: no scripted response for " + command.argv()
                        + "; rules: " + described + "; commands so far: " + argvs());
            }
        }
        return match.next().answer(command);
    }

    /** Every command run so far, in order, including unmatched ones. */
    public synchronized List<Command> invocations() {
        return List.copyOf(invocations);
    }

    /** The argv of every command run so far, in order. */
    public synchronized List<List<String>> argvs() {
        return invocations.stream().map(Command::argv).toList();
    }

    /** The commands run so far whose argv starts with {@code prefix}. */
    public synchronized List<Command> invocationsStartingWith(String... prefix) {
        List<String> p = List.of(prefix);
        return invocations.stream().filter(c -> c.startsWith(p)).toList();
    }

    /** Forgets the recorded commands (rules are kept). */
    public synchronized void clearInvocations() {
        invocations.clear();
    }

    /** A scripted rule: a matcher and the responses it gives in turn. */
    public final class Rule {
        private final String description;
        private final Predicate<Command> matcher;
        private final Deque<Answer> answers = new ArrayDeque<>();

        Rule(String description, Predicate<Command> matcher) {
            this.description = Objects.requireNonNull(description);
            this.matcher = Objects.requireNonNull(matcher);
        }

        /** Then answer with this exit code and output. */
        public Rule thenReturn(int exitCode, String stdout, String stderr) {
            return thenAnswer(c -> new CommandResult(c.argv(), exitCode, stdout, stderr, Duration.ofMillis(1)));
        }

        /** Then exit 0 with empty output. */
        public Rule thenSucceed() {
            return thenReturn(0, "", "");
        }

        /** Then exit 0 printing {@code stdout}. */
        public Rule thenSucceed(String stdout) {
            return thenReturn(0, stdout, "");
        }

        /** Then exit with {@code exitCode} printing {@code stderr}. */
        public Rule thenFail(int exitCode, String stderr) {
            return thenReturn(exitCode, "", stderr);
        }

        /** Then throw a {@link CommandTimeoutException} as if the command had hung. */
        public Rule thenTimeout() {
            return thenAnswer(c -> {
                throw new CommandTimeoutException(c.argv(), c.timeout(), "", "");
            });
        }

        /** Then compute the answer (for results that depend on the command, or to change fixture state). */
        public Rule thenAnswer(Answer answer) {
            synchronized (RecordingCommandRunner.this) {
                answers.add(Objects.requireNonNull(answer));
            }
            return this;
        }

        Answer next() {
            synchronized (RecordingCommandRunner.this) {
                if (answers.isEmpty()) {
                    return c -> new CommandResult(c.argv(), 0, "", "", Duration.ofMillis(1));
                }
                return answers.size() > 1 ? answers.poll() : answers.peek();
            }
        }

        @Override
        public String toString() {
            return description;
        }
    }

    @Override
    public synchronized String toString() {
        return "RecordingCommandRunner" + Arrays.toString(rules.toArray());
    }
}
